"""Tencent Cloud's TC3-HMAC-SHA256, computed step by step as its signing demo does: the
tests' oracle for gasguard's signer and the cloud stand-in's check."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac


def tc3_as_the_demo(secret_key: str, headers: dict[str, str], body: bytes, action: str) -> str:
    """Tencent's signing demo, step by step (the canonical request, the string to sign,
    the derived key)."""
    timestamp = int(headers["X-TC-Timestamp"])
    date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
    canonical_headers = (
        f"content-type:{headers['Content-Type']}\nhost:{headers['Host']}\n"
        f"x-tc-action:{action.lower()}\n"
    )
    canonical_request = "\n".join(
        [
            "POST",
            "/",
            "",
            canonical_headers,
            "content-type;host;x-tc-action",
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{date}/sms/tc3_request"
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            str(timestamp),
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )

    def sign(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()

    secret_signing = sign(sign(sign(("TC3" + secret_key).encode(), date), "sms"), "tc3_request")
    return hmac.new(secret_signing, to_sign.encode(), hashlib.sha256).hexdigest()
