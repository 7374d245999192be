"""What the operator platforms' codecs (OneNET, CTWing) share. Pure: a push's messages
become contract messages for the meters' topics; a command becomes a request to the
platform's API (``HttpCall``), which an adapter sends (ingest.platform_commands).

A platform names a meter's reading fields by its own stream or property names; the
profile's ``options`` map them (``volume_m3 = "3200_0_5700"``; by default a stream named as
the field). ``valve`` 1/0 (or ``open``/``closed``) is open/closed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contract.json_text import compact_json as compact  # as the platforms send it
from contract.local_time import CHINA
from contract.protocol import PlatformReply
from devices import alarm_codes
from devices.errors import CodecError

READING_FIELDS = ("volume_m3", "flow_m3h", "pressure_kpa", "temperature_c", "battery_pct", "valve")
VALVE_WORDS = {1: "open", 0: "closed", "open": "open", "closed": "closed"}


@dataclass(frozen=True, slots=True)
class ContractMessage:
    """What a push becomes: a contract message for one meter (kind: telemetry, status,
    platform-replies), published by the receiver on the meter's topic of that kind."""

    meter_id: str
    kind: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Ignored:
    reason: str


@dataclass(frozen=True, slots=True)
class HttpCall:
    """A request to a platform's API: ``path`` below the API's base address."""

    method: str
    path: str
    params: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: bytes


def api_answer(answer: bytes) -> dict[str, Any]:
    """A platform API's answer, a JSON object; ``CodecError`` ``bad_answer`` otherwise (a
    proxy's HTML page, a cut-off body)."""
    try:
        body = json.loads(answer)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CodecError("bad_answer", f"the command API's answer is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise CodecError("bad_answer", "the command API's answer is not a JSON object")
    return body


def command_reference(answer: bytes, status: str, message: str, path: tuple[str, str]) -> str:
    """The platform's reference of a command taken, from its command API's answer
    (``status`` 0 and the reference at ``path``: OneNET's data.uuid, CTWing's
    result.commandId); ``CodecError`` ``platform_refused`` for a refusal, ``bad_answer`` for
    an answer without it."""
    body = api_answer(answer)
    if body.get(status) != 0:
        raise CodecError("platform_refused", f"{status} {body.get(status)}: {body.get(message)}")
    holder, key = path
    held = body.get(holder)
    found = held.get(key) if isinstance(held, dict) else None
    if isinstance(found, bool) or not isinstance(found, int | str) or found == "":
        raise CodecError("bad_answer", f"the command API's answer has no {holder}.{key}")
    return str(found)


def field_names(options: Mapping[str, str]) -> dict[str, str]:
    """The platform's name of each reading field -> the field."""
    return {options.get(field, field): field for field in READING_FIELDS}


def field_value(field: str, value: object) -> object:
    if field == "valve" and not isinstance(value, bool) and value in VALVE_WORDS:
        return VALVE_WORDS[value]
    return value


def telemetry(meter_id: str, instants: Mapping[Any, dict[str, Any]]) -> ContractMessage:
    """A meter's readings, one per instant, as a contract batch in time order."""
    ordered = [instants[at] for at in sorted(instants, key=_order)]
    return ContractMessage(meter_id, "telemetry", compact({"readings": ordered}).encode())


def status(meter_id: str, online: bool) -> ContractMessage:
    return ContractMessage(meter_id, "status", b"online" if online else b"offline")


def reply(meter_id: str, ref: str, result: str, ts_ms: int, error: str | None) -> ContractMessage:
    payload = PlatformReply(meter_id, ref, result, ts_ms, error).to_payload()
    return ContractMessage(meter_id, "platform-replies", payload)


def alarm_messages(
    meter_id: str, ts_ms: object, value: object, codec: str, options: Mapping[str, str]
) -> list[ContractMessage]:
    """A meter's alarm code (the value of the stream or property the profile names
    ``alarm_field``), in gasguard's vocabulary: a contract event on ``events`` or an alarm
    of a rule on ``meter-alarms`` (devices.alarm_codes); nothing for a code without one."""
    if isinstance(ts_ms, bool) or not isinstance(ts_ms, int):
        return []
    codes = [str(v) for v in value] if isinstance(value, list) else [str(value)]
    mapping = alarm_codes.alarm_map(codec, options)
    names, alarms = alarm_codes.split(meter_id, ts_ms, codes, mapping)
    out = [
        ContractMessage(meter_id, "events", compact({"ts": ts_ms, "event": name}).encode())
        for name in names
    ]
    out.extend(ContractMessage(meter_id, "meter-alarms", a.to_payload()) for a in alarms)
    return out


def china_time(ms: int) -> str:
    """An instant as the platforms' APIs write one: local time (UTC+8), to the second."""
    return datetime.fromtimestamp(ms / 1000, CHINA).strftime("%Y-%m-%dT%H:%M:%S")


def _order(at: object) -> float:
    return at if isinstance(at, int | float) else float("inf")
