"""The MQTT contract, version 1 (DESIGN.md): topics, and the JSON of readings and commands.

Pure functions only. The validating decoder for what meters send lives in
``ingest.decode``; this module holds what both sides of the wire share.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from meters.errors import ProtocolError
from safety.domain import Reading

TOPIC_PREFIX = "gas/v1/meters"
METER_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

TopicKind = Literal["telemetry", "events", "commands", "replies", "status"]
TOPIC_KINDS: frozenset[str] = frozenset({"telemetry", "events", "commands", "replies", "status"})

CommandAction = Literal["close", "arm", "open"]
COMMAND_ACTIONS: frozenset[str] = frozenset({"close", "arm", "open"})
REPLY_RESULTS: frozenset[str] = frozenset({"done", "rejected"})


def topic(meter_id: str, kind: TopicKind) -> str:
    if not METER_ID_RE.match(meter_id):
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
    if not METER_ID_RE.match(meter_id):
        raise ProtocolError(f"topic {name!r}: invalid meter id {meter_id!r}")
    if kind not in TOPIC_KINDS:
        raise ProtocolError(f"topic {name!r}: unknown kind {kind!r}")
    return ParsedTopic(meter_id, kind)


def reading_to_json(reading: Reading) -> dict[str, Any]:
    """The wire form of a reading (epoch-millisecond ``ts``); absent fields are left out."""
    body: dict[str, Any] = {"ts": reading.ts_ms, "volume_m3": reading.volume_m3}
    for key in ("flow_m3h", "pressure_kpa", "temperature_c", "battery_pct", "valve"):
        value = getattr(reading, key)
        if value is not None:
            body[key] = value
    return body


@dataclass(frozen=True, slots=True)
class Command:
    """A valve command from the server to one meter (docs/protocol.md)."""

    command_id: str
    meter_id: str
    action: CommandAction
    issued_ms: int
    reason: str

    def to_payload(self) -> bytes:
        return json.dumps(
            {
                "id": self.command_id,
                "action": self.action,
                "ts": self.issued_ms,
                "reason": self.reason,
            },
            separators=(",", ":"),
        ).encode()


@dataclass(frozen=True, slots=True)
class CommandReply:
    """A meter's answer to a command: ``done`` with the valve state, or ``rejected``."""

    command_id: str
    meter_id: str
    result: str
    ts_ms: int
    valve: str | None = None
    error: str | None = None

    def to_payload(self) -> bytes:
        body: dict[str, Any] = {"id": self.command_id, "result": self.result, "ts": self.ts_ms}
        if self.valve is not None:
            body["valve"] = self.valve
        if self.error is not None:
            body["error"] = self.error
        return json.dumps(body, separators=(",", ":")).encode()


def _json_object(payload: bytes, what: str) -> dict[str, Any]:
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
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
    return Command(
        command_id=_field(body, "id", str, "command"),
        meter_id=meter_id,
        action=action,
        issued_ms=_field(body, "ts", int, "command"),
        reason=str(body.get("reason", "")),
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
    )
