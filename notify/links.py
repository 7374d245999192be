"""Acknowledgement by a link in a notification: signed, short-lived, single-use. Pure: the
secret and the time are passed in; the registry spends each link's nonce once.

A link names the alarm, the person it acknowledges as (the rota's person, or the
channel's ``ack_as``), its expiry and a random nonce, signed with HMAC-SHA256 under the
settings' link secret: ``base64url(JSON claim) "." base64url(signature)``. Opening it shows
a page; only its button (a POST) acknowledges, so a chat app that previews the link
acknowledges nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AckClaim:
    alarm_id: int
    username: str
    expires_ms: int
    nonce: str  # 32 hex digits


class LinkRefused(ValueError):
    """The link is not one gasguard signed, is malformed, or has expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> bytes:
    return hmac.new(
        secret.encode(), b"gasguard-ack-link-v1." + payload.encode(), hashlib.sha256
    ).digest()


def sign_link(secret: str, claim: AckClaim) -> str:
    body = {"a": claim.alarm_id, "u": claim.username, "e": claim.expires_ms, "n": claim.nonce}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_b64(_mac(secret, payload))}"


def read_link(secret: str, token: str, now_ms: int) -> AckClaim:
    """The claim of a link gasguard signed and that has not expired; ``LinkRefused``."""
    payload, _, signature = token.partition(".")
    try:
        given = _unb64(signature)
        body = json.loads(_unb64(payload))
    except (ValueError, UnicodeDecodeError) as exc:
        raise LinkRefused("not a gasguard link") from exc
    if not secret or not hmac.compare_digest(given, _mac(secret, payload)):
        raise LinkRefused("not a gasguard link")
    try:
        claim = AckClaim(int(body["a"]), str(body["u"]), int(body["e"]), str(body["n"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkRefused("not a gasguard link") from exc
    if now_ms > claim.expires_ms:
        raise LinkRefused("the link has expired")
    return claim
