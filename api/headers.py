"""Security headers on every answer: a strict Content-Security-Policy (the dashboard loads
only its own script and style, no inline code, nothing from elsewhere, and may not be
framed), no MIME sniffing, no referrer sent away, and HSTS on answers served over HTTPS.

"Over HTTPS" is the request's own scheme: uvicorn serving TLS itself, or a TLS proxy that
is one of ``api_trusted_proxies`` saying so in ``X-Forwarded-Proto``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Response

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
ALWAYS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def add_headers(
    hsts_max_age_s: int,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    hsts = f"max-age={hsts_max_age_s}; includeSubDomains"

    async def middleware(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in ALWAYS.items():
            response.headers.setdefault(name, value)
        if request.url.scheme == "https" and hsts_max_age_s > 0:
            response.headers["Strict-Transport-Security"] = hsts
        return response

    return middleware
