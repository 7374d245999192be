"""Cross-site request forgery, stopped before any route runs.

A state change (POST, PUT, PATCH, DELETE) authenticated by the dashboard's session cookie
must come from the dashboard's own origin: its ``Origin`` header (or, without one, its
``Referer``) must name the host and port the request was sent to, or one of the configured
``allowed_origins``. SameSite=Strict alone does not cover a page on another port of the
same host or a sibling subdomain (same site, different origin). Requests authenticated by
an ``Authorization`` header carry no ambient credential and are not checked.

A request body must be JSON (``application/json``), except the sign-in form of the OAuth2
password flow and a file upload (``multipart/form-data``) to the few routes that take a
file (the meters' delivery file): anything else is 415, so no cross-site form or text
body reaches a route. An upload by cookie is still checked for its origin above.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from api.auth import COOKIE

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_PATHS = frozenset({"/api/v1/auth/token"})  # OAuth2 password flow: a form by the spec
UPLOAD_PATHS = frozenset({"/api/v1/meters/import"})  # a file: multipart/form-data


def _netloc(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.lower() if parts.scheme in ("http", "https") else ""


def cross_site(request: Request, allowed: frozenset[str]) -> bool:
    """A cookie-authenticated state change whose origin is not this server's."""
    if request.method not in UNSAFE or COOKIE not in request.cookies:
        return False
    if request.url.path in FORM_PATHS:  # sign-in: the password authenticates, not the cookie
        return False
    if request.headers.get("authorization"):
        return False
    origin = request.headers.get("origin") or request.headers.get("referer") or ""
    sender = _netloc(origin)
    if not sender:
        return True  # no origin at all: a browser always sends one on a POST
    return sender != request.headers.get("host", "").lower() and sender not in allowed


def not_json(request: Request) -> bool:
    if request.method not in UNSAFE or request.url.path in FORM_PATHS:
        return False
    has_body = request.headers.get("content-length", "0") not in ("", "0") or (
        "transfer-encoding" in request.headers
    )
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.url.path in UPLOAD_PATHS and content_type == "multipart/form-data":
        return False
    return has_body and content_type != "application/json"


def guard(
    allowed_origins: Iterable[str],
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    allowed = frozenset(_netloc(o) for o in allowed_origins) - {""}

    async def middleware(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if cross_site(request, allowed):
            return JSONResponse(
                status_code=403,
                content={"detail": "cross-site request refused: the Origin is not this server"},
            )
        if not_json(request):
            return JSONResponse(
                status_code=415, content={"detail": "the request body must be application/json"}
            )
        return await call_next(request)

    return middleware
