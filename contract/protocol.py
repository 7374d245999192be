"""The MQTT contract, version 1 (DESIGN.md): topics, and the JSON of readings and commands.

Pure functions only. The validating decoder for what meters send lives in
``ingest.decode``; this module holds what both sides of the wire share.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal, TypeGuard, get_args

from contract.errors import ProtocolError
from contract.json_text import parse_json
from contract.readings import MEASURED, Reading
from contract.thresholds import ThresholdError, parse_thresholds

TOPIC_PREFIX = "gas/v1/meters"
# Checked with fullmatch only: re's "$" also matches before a final newline ("M1\n").
METER_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")
# The same for pydantic / FastAPI (Rust regex: "$" is the end of the text, nothing after).
METER_ID_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"


def is_meter_id(text: object) -> TypeGuard[str]:
    """1-32 characters of A-Z a-z 0-9 _ - and nothing else (no trailing newline)."""
    return isinstance(text, str) and METER_ID_RE.fullmatch(text) is not None


TopicKind = Literal[
    "telemetry",
    "events",
    "commands",
    "replies",
    "status",
    "cjt188-up",
    "cjt188-down",
    "wmbus",
    "dlms",
    "dlms-down",
    "platform-replies",
    "meter-alarms",
]
# The contract's five kinds, and the device profiles' own (docs/protocols.md): a meter of
# the cjt188 profile sends its binary CJ/T 188 frames on cjt188-up and reads cjt188-down;
# a wmbusmeters gateway publishes a wireless M-Bus meter's telegrams, as JSON, on wmbus;
# a DLMS/COSEM meter its Data-Notifications and its answers to gasguard's requests (on
# dlms-down: the association and the disconnect control's methods) on dlms; the platform
# receiver an operator platform's results for the commands it was handed on
# platform-replies, and the alarms a platform's meter reported in its own codes on
# meter-alarms (devices.alarm_codes).
TOPIC_KINDS: frozenset[str] = frozenset(get_args(TopicKind))

CommandAction = Literal["close", "arm", "open", "params", "time"]
VALVE_ACTIONS: frozenset[str] = frozenset({"close", "arm", "open"})
# command format 2 revision 1: "params", a parameter download (contract.thresholds);
# "time", a time set (the meter's clock to the command's ts, ingest.clock_watch)
COMMAND_ACTIONS: frozenset[str] = VALVE_ACTIONS | {"params", "time"}
# what the meter acts on at once, with no telemetry to follow: its done is all there is
SETTINGS_ACTIONS: frozenset[str] = frozenset({"params", "time"})
REPLY_RESULTS: frozenset[str] = frozenset({"done", "rejected"})


def topic(meter_id: str, kind: TopicKind) -> str:
    if not is_meter_id(meter_id):
        raise ProtocolError(f"invalid meter id {meter_id!r}")
    return f"{TOPIC_PREFIX}/{meter_id}/{kind}"


def subscription(kind: TopicKind) -> str:
    """The wildcard topic that receives ``kind`` messages from every meter."""
    return f"{TOPIC_PREFIX}/+/{kind}"


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    meter_id: str
    kind: str


def parse_topic(name: str) -> ParsedTopic:
    parts = name.split("/")
    if len(parts) != 5 or "/".join(parts[:3]) != TOPIC_PREFIX:
        raise ProtocolError(f"topic {name!r} is not gas/v1/meters/{{meter_id}}/{{kind}}")
    meter_id, kind = parts[3], parts[4]
    if not is_meter_id(meter_id):
        raise ProtocolError(f"topic {name!r}: invalid meter id {meter_id!r}")
    if kind not in TOPIC_KINDS:
        raise ProtocolError(f"topic {name!r}: unknown kind {kind!r}")
    return ParsedTopic(meter_id, kind)


def reading_to_json(reading: Reading) -> dict[str, Any]:
    """The wire form of a reading (epoch-millisecond ``ts``); absent fields are left out."""
    body: dict[str, Any] = {}
    for field in MEASURED:  # the field table, in its order
        value = getattr(reading, field.name)
        if value is not None or field.required:
            body[field.wire] = value
    return body


COMMAND_FORMAT = 2  # docs/protocol.md; version 1 was unsigned


@dataclass(frozen=True, slots=True)
class Command:
    """A command from the server to one meter (docs/protocol.md, format 2): a valve
    command, or (revision 1) a parameter download, whose ``params`` are the thresholds'
    canonical JSON (contract.thresholds).

    ``counter`` grows by one for every command to the meter; the meter acts on a counter
    above the last it accepted, re-confirms the same counter, and refuses anything older.
    ``signature``: HMAC-SHA256 with the meter's key over ``canonical()``.
    """

    command_id: str
    meter_id: str
    action: CommandAction
    issued_ms: int
    reason: str
    counter: int = 0
    expires_ms: int = 0
    signature: str = ""
    params: str = ""  # a parameter download: the thresholds' canonical JSON

    def canonical(self) -> bytes:
        """What the signature covers: every field, the free-text reason last (so a line
        break in it cannot shift the others); a parameter download's thresholds (one line
        of canonical JSON) before it. A valve command's form is that of format 2."""
        fields = (
            f"gasguard-command-v{COMMAND_FORMAT}",
            self.command_id,
            self.meter_id,
            self.action,
            str(self.counter),
            str(self.issued_ms),
            str(self.expires_ms),
            *((self.params,) if self.action == "params" else ()),
            self.reason,
        )
        return "\n".join(fields).encode()

    def to_payload(self) -> bytes:
        body: dict[str, Any] = {
            "v": COMMAND_FORMAT,
            "id": self.command_id,
            "action": self.action,
            "counter": self.counter,
            "ts": self.issued_ms,
            "expires": self.expires_ms,
            "reason": self.reason,
            "sig": self.signature,
        }
        if self.action == "params":
            body["params"] = json.loads(self.params)
        return json.dumps(body, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class CommandReply:
    """A meter's answer to a command: ``done`` with the valve state, or ``rejected`` with
    why. Signed by the meter with the same key (``canonical()``)."""

    command_id: str
    meter_id: str
    result: str
    ts_ms: int
    valve: str | None = None
    error: str | None = None
    signature: str = ""

    def canonical(self) -> bytes:
        fields = (
            f"gasguard-reply-v{COMMAND_FORMAT}",
            self.command_id,
            self.meter_id,
            self.result,
            str(self.ts_ms),
            self.valve or "",
            self.error or "",
        )
        return "\n".join(fields).encode()

    def to_payload(self) -> bytes:
        body: dict[str, Any] = {"id": self.command_id, "result": self.result, "ts": self.ts_ms}
        if self.valve is not None:
            body["valve"] = self.valve
        if self.error is not None:
            body["error"] = self.error
        if self.signature:
            body["sig"] = self.signature
        return json.dumps(body, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class SequenceReply:
    """A meter's answer in a protocol without command ids or signatures (CJ/T 188): it
    names the command by its sequence number (the low byte of the command's counter; None
    when the answer carries none, as an abnormal CJ/T 188 answer: the meter's newest
    command in flight), at the time it was received (the answer carries no time). It is
    trusted as far as the MQTT account that published it; the command succeeds only when
    the meter's telemetry shows the valve moved, as for every command."""

    meter_id: str
    serial: int | None
    result: str  # done, rejected
    ts_ms: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PlatformReply:
    """An operator platform's result for a command gasguard handed it (OneNET's cached
    command, CTWing's command), naming it by the id the platform gave it (``ref``):
    ``done`` when the platform says the meter took it, ``rejected`` when it failed. The
    platform receiver publishes it; the command succeeds only when the meter's telemetry
    shows the valve moved, as for every command."""

    meter_id: str
    ref: str
    result: str  # done, rejected
    ts_ms: int
    error: str | None = None

    def to_payload(self) -> bytes:
        body = {"ref": self.ref, "result": self.result, "ts": self.ts_ms, "error": self.error}
        return json.dumps(body, separators=(",", ":")).encode()


def parse_platform_reply(payload: bytes, meter_id: str) -> PlatformReply:
    body = _json_object(payload, "platform reply")
    ref = _field(body, "ref", str, "platform reply")
    result = _field(body, "result", str, "platform reply")
    if result not in REPLY_RESULTS:
        raise ProtocolError(f"platform reply: result must be done or rejected, got {result!r}")
    ts_ms = _field(body, "ts", int, "platform reply")
    error = body.get("error")
    if error is not None and not isinstance(error, str):
        raise ProtocolError("platform reply: error must be a string")
    if not ref or len(ref) > 128:
        raise ProtocolError("platform reply: ref must be 1-128 characters")
    return PlatformReply(meter_id, ref, result, ts_ms, error)


def _json_object(payload: bytes, what: str) -> dict[str, Any]:
    try:
        body = parse_json(payload)
    except ValueError as exc:  # UnicodeDecodeError included
        raise ProtocolError(f"{what}: not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ProtocolError(f"{what}: expected a JSON object")
    return body


def _field(body: dict[str, Any], key: str, kind: type, what: str) -> Any:
    value = body.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ProtocolError(f"{what}: field {key!r} must be {kind.__name__}")
    return value


def parse_command(meter_id: str, payload: bytes) -> Command:
    body = _json_object(payload, "command")
    action = _field(body, "action", str, "command")
    if action not in COMMAND_ACTIONS:
        raise ProtocolError(f"command: unknown action {action!r}")
    if body.get("v") != COMMAND_FORMAT:
        raise ProtocolError(f"command: format {body.get('v')!r}, expected {COMMAND_FORMAT}")
    params = ""
    if action == "params":
        try:  # the canonical form again: the signature covers exactly that
            params = parse_thresholds(_field(body, "params", dict, "command")).canonical()
        except ThresholdError as exc:
            raise ProtocolError(f"command: params: {exc}") from exc
    return Command(
        params=params,
        command_id=_field(body, "id", str, "command"),
        meter_id=meter_id,
        action=action,
        issued_ms=_field(body, "ts", int, "command"),
        reason=_field(body, "reason", str, "command"),
        counter=_field(body, "counter", int, "command"),
        expires_ms=_field(body, "expires", int, "command"),
        signature=_field(body, "sig", str, "command"),
    )


def parse_reply(meter_id: str, payload: bytes) -> CommandReply:
    body = _json_object(payload, "reply")
    result = _field(body, "result", str, "reply")
    if result not in REPLY_RESULTS:
        raise ProtocolError(f"reply: unknown result {result!r}")
    valve = body.get("valve")
    if valve is not None and valve not in ("open", "closed", "fault"):
        raise ProtocolError(f"reply: invalid valve {valve!r}")
    error = body.get("error")
    return CommandReply(
        command_id=_field(body, "id", str, "reply"),
        meter_id=meter_id,
        result=result,
        ts_ms=_field(body, "ts", int, "reply"),
        valve=valve,
        error=None if error is None else str(error),
        signature=str(body.get("sig", "")),
    )
