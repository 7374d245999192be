"""Per-meter keys and HMAC-SHA256 signatures of commands and replies. Pure.

The server signs every command with the meter's secret key; the meter checks the
signature, the expiry and the counter before it acts, so a captured command cannot be
altered or replayed, and signs its reply with the same key, so a reply cannot be forged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from typing import Literal

from contract.lifecycle import COUNTER_REUSED
from contract.protocol import Command, CommandReply

KEY_BYTES = 32
Rejection = Literal["bad_signature", "expired", "replayed", "wrong_meter", "counter_reused"]


def new_key() -> str:
    """A fresh meter key, hex (what the registry keeps and the meter is provisioned with)."""
    return secrets.token_hex(KEY_BYTES)


def _mac(key_hex: str, message: bytes) -> str:
    return hmac.new(bytes.fromhex(key_hex), message, hashlib.sha256).hexdigest()


def sign_command(key_hex: str, command: Command) -> Command:
    return dataclasses.replace(command, signature=_mac(key_hex, command.canonical()))


def sign_reply(key_hex: str, reply: CommandReply) -> CommandReply:
    return dataclasses.replace(reply, signature=_mac(key_hex, reply.canonical()))


def signature_ok(key_hex: str, signed: Command | CommandReply) -> bool:
    return hmac.compare_digest(_mac(key_hex, signed.canonical()), signed.signature)


def check_command(
    key_hex: str,
    meter_id: str,
    last_counter: int,
    now_ms: int,
    command: Command,
    last_command_id: str = "",
) -> Rejection | None:
    """What a meter checks before acting; None means act. The same counter as the last
    accepted one is not refused when it comes with the same command id: it is a resend,
    and the meter confirms again without acting twice (see ``is_resend``). The same
    counter with another command id is refused (``counter_reused``): the server signs that
    command again with a fresh counter, so it is neither lost nor taken for a resend."""
    if command.meter_id != meter_id:
        return "wrong_meter"
    if not signature_ok(key_hex, command):
        return "bad_signature"
    if command.counter < last_counter:
        return "replayed"
    if command.counter == last_counter and command.command_id != last_command_id:
        return COUNTER_REUSED
    if now_ms > command.expires_ms and command.action != "time":
        return "expired"  # (a time set is not: the meter's clock is what is wrong)
    return None


def is_resend(last_counter: int, command: Command, last_command_id: str = "") -> bool:
    return command.counter == last_counter and command.command_id == last_command_id
