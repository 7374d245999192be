"""Session tokens: HMAC-SHA256 signed JWTs carrying the username, the expiry and the
account's token version, on a clock passed in. The JWT library's errors stop here
(``InvalidToken``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jwt

from api.errors import InvalidToken

ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_ms: int


class TokenService:
    """Issues and checks HMAC-SHA256 signed tokens (JWT) carrying the username."""

    def __init__(self, secret: bytes, ttl_s: int, clock: Callable[[], int]) -> None:
        if len(secret) < 32:
            raise ValueError("the token secret needs at least 32 bytes")
        self._secret = secret
        self.ttl_s = ttl_s
        self._clock = clock

    def issue(self, username: str, version: int = 0) -> IssuedToken:
        """A token for ``username`` under the account's token ``version``."""
        now_s = self._clock() // 1000
        expires_s = now_s + self.ttl_s
        claims = {"sub": username, "iat": now_s, "exp": expires_s, "tv": version}
        return IssuedToken(jwt.encode(claims, self._secret, ALGORITHM), expires_s * 1000)

    def verify(self, token: str) -> tuple[str, int, int]:
        """(username, expiry ms, token version); ``InvalidToken`` when it is bad or expired
        (the JWT library's errors do not leave this class)."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["sub", "exp", "iat"], "verify_exp": False},
            )
            expires_ms = int(claims["exp"]) * 1000
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidToken(str(exc)) from exc
        if expires_ms <= self._clock():  # our clock, so tests can move time
            raise InvalidToken("token expired")
        version = claims.get("tv", 0)
        if not isinstance(version, int):
            raise InvalidToken("bad token version")
        return str(claims["sub"]), expires_ms, version
