"""Who is calling: signed short-lived tokens (OAuth2 password flow), read from the
``Authorization: Bearer`` header or, for the dashboard, an HttpOnly cookie; and the least
role each route needs (viewer < operator < supervisor < admin).

Every request re-reads the account, so disabling a user or changing a role takes effect
at once, not when the token expires.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response

from api.deps import get_context
from api.errors import InvalidToken
from api.tokens import IssuedToken
from contract.roles import Role, role_at_least
from meters.accounts import UserView
from meters.errors import NotFound
from meters.views import Actor

COOKIE = "gasguard_session"


def unauthorized(message: str) -> HTTPException:
    return HTTPException(401, detail=message, headers={"WWW-Authenticate": "Bearer"})


def set_session_cookie(response: Response, issued: IssuedToken, ttl_s: int, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        issued.token,
        max_age=ttl_s,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )


def _token_of(request: Request) -> tuple[str, bool] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip(), False
    cookie = request.cookies.get(COOKIE)
    return (cookie, True) if cookie else None


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True, slots=True)
class Session:
    user: UserView
    from_cookie: bool
    expires_ms: int


def session_of(request: Request) -> Session:
    """The caller's valid session: a good, unexpired token of an enabled account, issued
    under the account's current token version (else 401: signed out, password changed,
    disabled, or revoked by an admin)."""
    context = get_context(request)
    found = _token_of(request)
    if found is None:
        raise unauthorized("not signed in")
    token, from_cookie = found
    try:
        username, expires_ms, version = context.tokens.verify(token)
    except InvalidToken as exc:
        raise unauthorized(f"invalid or expired token: {exc}") from exc
    try:
        user = context.registry.accounts.get(username)
    except NotFound as exc:
        raise unauthorized("account no longer exists") from exc
    if user.disabled:
        raise unauthorized("account disabled")
    if version != user.token_version:
        raise unauthorized("this session was ended (signed out, or the password changed)")
    return Session(user, from_cookie, expires_ms)


def session_or_none(request: Request) -> Session | None:
    """The caller's valid session, or None where ``session_of`` would answer 401."""
    try:
        return session_of(request)
    except HTTPException:
        return None


def current_actor(request: Request, response: Response) -> Actor:
    """The signed-in, enabled operator; a dashboard session cookie past half its life is
    renewed, so an operator at work stays signed in and an idle screen does not."""
    context = get_context(request)
    session = session_of(request)
    user = session.user
    ttl_ms = context.tokens.ttl_s * 1000
    if session.from_cookie and session.expires_ms - context.clock() < ttl_ms / 2:
        issued = context.tokens.issue(user.username, user.token_version)
        set_session_cookie(response, issued, context.tokens.ttl_s, context.secure_cookies)
    return Actor(user.username, user.role, client_address(request))


def require(minimum: Role) -> Callable[..., Actor]:
    def dependency(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if not role_at_least(actor.role, minimum):
            raise HTTPException(403, detail=f"needs the {minimum} role; you are {actor.role}")
        return actor

    dependency.__name__ = f"require_{minimum}"
    return dependency


Viewer = Annotated[Actor, Depends(require("viewer"))]
Operator = Annotated[Actor, Depends(require("operator"))]
Supervisor = Annotated[Actor, Depends(require("supervisor"))]
Admin = Annotated[Actor, Depends(require("admin"))]
