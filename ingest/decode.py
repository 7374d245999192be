"""The validating decoder for what meters publish (MQTT contract v1, DESIGN.md). Pure.

Every message becomes a ``Decoded``: what was accepted, and a ``Rejection`` with a reason
for everything refused. One bad reading in a batch refuses that reading only.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from contract.errors import ProtocolError
from contract.events import EVENT_NAMES, MeterEvent
from contract.json_text import parse_json
from contract.protocol import (
    CommandReply,
    PlatformReply,
    SequenceReply,
    parse_platform_reply,
    parse_reply,
    parse_topic,
)
from contract.readings import (
    BOUNDED,
    READING_FIELDS,
    VALVE_STATES,
    Reading,
    new_reading,
)
from devices import alarm_codes, cjt188, dlms, dlms_commands, wmbus
from devices.alarm_codes import MeterAlarm
from devices.errors import CodecError
from devices.profiles import DeviceProfile
from ingest.config import DecodeLimits
from safety.rulebook import RULE_IDS

# from the field table: the payload keys of the number fields (in order), the ones a
# reading must carry, and each bound
NUMBER_KEYS = tuple(f.wire for f in READING_FIELDS if f.kind == "number")
REQUIRED_NUMBERS = tuple(f.wire for f in READING_FIELDS if f.kind == "number" and f.required)
AT_LEAST = tuple(
    (NUMBER_KEYS.index(f.wire), f.wire, f.minimum)
    for f in BOUNDED
    if f.kind == "number" and f.minimum is not None and f.maximum is None
)
WITHIN = tuple(
    (NUMBER_KEYS.index(f.wire), f.wire, f.minimum, f.maximum)
    for f in BOUNDED
    if f.kind == "number" and f.minimum is not None and f.maximum is not None
)
FLOAT_MAX = sys.float_info.max
MAX_TS_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


class InvalidItem(ValueError):
    """One reading or event breaks the contract: ``code`` names the kind (a metric label),
    the message says how."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Rejection:
    code: str
    reason: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Decoded:
    topic: str
    meter_id: str | None
    kind: str | None
    readings: tuple[Reading, ...] = ()
    events: tuple[MeterEvent, ...] = ()
    reply: CommandReply | None = None
    sequence_reply: SequenceReply | None = None  # a CJ/T 188 answer to a valve command
    platform_reply: PlatformReply | None = None  # an operator platform's command result
    meter_alarms: tuple[MeterAlarm, ...] = ()  # what the meter reported in its own codes
    dlms_answer: bytes | None = None  # a DLMS meter's answer to gasguard's request
    status: str | None = None
    rejections: tuple[Rejection, ...] = ()
    seq: int | None = None  # a batch's sequence number, when it has a whole number one


def _refused(
    topic: str, meter_id: str | None, kind: str | None, code: str, reason: str, payload: bytes
) -> Decoded:
    """A whole message refused, with its code and reason."""
    return Decoded(topic, meter_id, kind, rejections=(Rejection(code, reason, payload),))


ProfileOf = Callable[[str], DeviceProfile | None]
CODEC_OF_KIND = {"cjt188-up": "cjt188", "dlms": "dlms", "wmbus": "wmbus"}


def decode(
    topic: str,
    payload: bytes,
    received_ms: int,
    limits: DecodeLimits,
    profile_of: ProfileOf | None = None,
) -> Decoded:
    """``profile_of``: a meter's device profile, when known (ingest.meter_profiles): a
    meter's frames on another profile's topic are refused, and the codec reads the
    profile's options (a DLMS push's layout, a wM-Bus id prefix)."""
    try:
        parsed = parse_topic(topic)
    except ProtocolError as exc:
        return _refused(topic, None, None, "bad_topic", str(exc), payload)
    meter_id, kind = parsed.meter_id, parsed.kind

    def reject(code: str, reason: str) -> Decoded:
        return _refused(topic, meter_id, kind, code, reason, payload)

    options: Mapping[str, str] = {}
    if kind in CODEC_OF_KIND and profile_of is not None:
        profile = profile_of(meter_id)
        if profile is not None and profile.codec != CODEC_OF_KIND[kind]:
            reason = f"meter {meter_id} speaks profile {profile.name} ({profile.codec}), not {kind}"
            return reject("wrong_profile", reason)
        options = profile.options if profile is not None else {}

    if len(payload) > limits.max_payload_bytes:
        return reject(
            "too_large", f"payload of {len(payload)} bytes exceeds {limits.max_payload_bytes}"
        )
    if kind == "status":
        return _decode_status(topic, meter_id, payload)
    if kind == "replies":
        try:
            return Decoded(topic, meter_id, kind, reply=parse_reply(meter_id, payload))
        except ProtocolError as exc:
            return reject("bad_reply", str(exc))
    if kind == "platform-replies":
        try:
            reply = parse_platform_reply(payload, meter_id)
        except ProtocolError as exc:
            return reject("bad_reply", str(exc))
        reply = replace(reply, ts_ms=reply.ts_ms or received_ms)
        return Decoded(topic, meter_id, "replies", platform_reply=reply)
    if kind == "meter-alarms":
        try:
            alarm = alarm_codes.parse_alarm(meter_id, payload)
        except CodecError as exc:
            return reject(exc.code, str(exc))
        if alarm.rule not in RULE_IDS:
            return reject("unknown_rule", f"a meter alarm of rule {alarm.rule!r}: no such rule")
        return Decoded(topic, meter_id, "events", meter_alarms=(alarm,))
    if kind in ("commands", "cjt188-down", "dlms-down"):
        return reject("not_accepted", "commands are sent by the server, not accepted from meters")
    window = (received_ms - limits.max_past_s * 1000, received_ms + limits.max_future_s * 1000)
    if kind == "cjt188-up":
        return _decode_cjt188(topic, meter_id, payload, received_ms, window, options)
    if kind == "dlms" and dlms_commands.apdu_tag(payload) in dlms_commands.ANSWERS:
        return Decoded(topic, meter_id, "replies", dlms_answer=payload)
    if kind == "dlms":
        try:
            fields, word = dlms.push_values(meter_id, payload, received_ms, options)
        except CodecError as exc:
            return reject(exc.code, f"DLMS: {exc}")
        decoded = _decode_telemetry(topic, meter_id, fields, payload, window, limits)
        codes = alarm_codes.word_codes(word) if word else ()
        return with_codes(decoded, codes, "dlms", options)
    try:
        body = parse_json(payload)
    except UnicodeDecodeError as exc:
        return reject("bad_utf8", f"payload is not UTF-8: {exc}")
    except ValueError as exc:
        return reject("not_json", f"payload is not JSON: {exc}")
    if not isinstance(body, dict):
        return reject("not_object", "payload must be a JSON object")
    if kind == "wmbus":
        try:
            fields = wmbus.reading_fields(meter_id, body, options.get("meter_prefix", ""))
        except CodecError as exc:
            return reject(exc.code, f"wM-Bus: {exc}")
        decoded = _decode_telemetry(topic, meter_id, fields, payload, window, limits)
        return with_codes(decoded, wmbus.status_flags(body), "wmbus", options)
    if kind == "events":
        try:
            event = parse_event(meter_id, body, window)
        except InvalidItem as exc:
            return reject(exc.code, str(exc))
        return Decoded(topic, meter_id, kind, events=(event,))
    return _decode_telemetry(topic, meter_id, body, payload, window, limits)


def with_codes(
    decoded: Decoded, codes: tuple[str, ...], codec: str, options: Mapping[str, str]
) -> Decoded:
    """A reading's alarm codes (status bits, flags) in gasguard's vocabulary, at the
    reading's time: contract events for the engine and alarms of gasguard's rules
    (devices.alarm_codes). Codes of a refused reading are left with it."""
    if not codes or not decoded.readings or decoded.meter_id is None:
        return decoded
    meter_id, ts_ms = decoded.meter_id, decoded.readings[-1].ts_ms
    mapping = alarm_codes.alarm_map(codec, options)
    names, alarms = alarm_codes.split(meter_id, ts_ms, codes, mapping)
    events = tuple(MeterEvent(meter_id, ts_ms, name) for name in names)
    return replace(decoded, events=decoded.events + events, meter_alarms=alarms)


def _decode_cjt188(
    topic: str,
    meter_id: str,
    payload: bytes,
    received_ms: int,
    window: tuple[int, int],
    options: Mapping[str, str],
) -> Decoded:
    """A CJ/T 188 frame from a meter of the cjt188 profile (docs/protocols.md): its read-data
    answer becomes a contract reading (at the meter's time, or the time received when the
    meter sends none); the frame's address must be the topic's meter."""
    try:
        frame = cjt188.decode_frame(payload)
        if frame.address != meter_id.upper():
            raise CodecError(
                "address_mismatch", f"frame of meter {frame.address} on the topic of {meter_id}"
            )
        if frame.meter_type != cjt188.GAS_METER:
            raise CodecError("not_gas", f"meter type {frame.meter_type:02X}H: gas meters are 30H")
        uplink = cjt188.parse_uplink(frame)
        if isinstance(uplink, cjt188.WriteAck):
            return _cjt188_answer(topic, meter_id, uplink, received_ms)
        item = {"ts": uplink.meter_time_ms or received_ms}
        ts_ms = _timestamp(item, window)
    except (CodecError, InvalidItem) as exc:
        return _refused(topic, meter_id, "telemetry", exc.code, f"CJ/T 188: {exc}", payload)
    reading = new_reading(meter_id, ts_ms, uplink.volume_m3, None, None, None, None, uplink.valve)
    decoded = Decoded(topic, meter_id, "telemetry", readings=(reading,))
    if not uplink.battery_low and not uplink.status & ~alarm_codes.CJT188_VALVE_BITS:
        return decoded  # the usual answer: no alarm code
    codes = alarm_codes.cjt188_codes(uplink.status, uplink.battery_low)
    return with_codes(decoded, codes, "cjt188", options)


def _cjt188_answer(topic: str, meter_id: str, ack: cjt188.WriteAck, received_ms: int) -> Decoded:
    """A meter's answer to a valve command (or an abnormal answer, which names none):
    a reply matched to the command by its sequence number."""
    if ack.abnormal:
        error = f"CJ/T 188 abnormal answer, status {ack.status if ack.status is not None else '-'}"
        reply = SequenceReply(meter_id, None, "rejected", received_ms, error)
    elif ack.di == cjt188.DI_VALVE:
        reply = SequenceReply(meter_id, ack.serial, "done", received_ms)
    else:  # DI_CLOCK (parse_uplink knows no other write): the meter took the time set
        return Decoded(topic, meter_id, "replies")
    return Decoded(topic, meter_id, "replies", sequence_reply=reply)


def _decode_status(topic: str, meter_id: str, payload: bytes) -> Decoded:
    text = payload.decode("utf-8", errors="replace").strip()
    if text not in ("online", "offline"):
        reason = f"status must be 'online' or 'offline', got {text[:40]!r}"
        return _refused(topic, meter_id, "status", "bad_status", reason, payload)
    return Decoded(topic, meter_id, "status", status=text)


def _decode_telemetry(
    topic: str,
    meter_id: str,
    body: dict[str, Any],
    payload: bytes,
    window: tuple[int, int],
    limits: DecodeLimits,
) -> Decoded:
    if "readings" in body:
        items = body["readings"]
        if not isinstance(items, list):
            reason = "'readings' must be a list"
            return _refused(topic, meter_id, "telemetry", "bad_batch", reason, payload)
        if len(items) > limits.max_batch_readings:
            reason = f"batch of {len(items)} readings exceeds {limits.max_batch_readings}"
            return _refused(topic, meter_id, "telemetry", "bad_batch", reason, payload)
    else:
        items = [body]
    readings: list[Reading] = []
    rejections: list[Rejection] = []
    for index, item in enumerate(items):
        try:
            readings.append(parse_reading(meter_id, item, window))
        except InvalidItem as exc:
            where = f"reading {index}: " if "readings" in body else ""
            rejections.append(Rejection(exc.code, where + str(exc), _item_bytes(item)))
    readings.sort(key=lambda r: r.ts_ms)
    seq = body.get("seq") if "readings" in body else None
    return Decoded(
        topic,
        meter_id,
        "telemetry",
        readings=tuple(readings),
        rejections=tuple(rejections),
        # counts toward completeness only; a batch with an odd seq still stores its readings
        seq=seq if type(seq) is int and 0 <= seq < 2**53 else None,
    )


def _item_bytes(item: Any) -> bytes:
    try:
        return json.dumps(item).encode()
    except ValueError:
        return repr(item).encode()


def _check_meter(meter_id: str, item: dict[str, Any]) -> None:
    for key in ("meter", "meter_id"):
        if key in item and item[key] != meter_id:
            raise InvalidItem(
                "meter_mismatch",
                f"{key} {item[key]!r} in the payload differs from topic meter {meter_id!r}",
            )


def parse_reading(meter_id: str, item: Any, window: tuple[int, int] | None) -> Reading:
    """One reading object; ``window`` (earliest, latest ms) bounds ``ts`` when given."""
    if not isinstance(item, dict):
        raise InvalidItem("not_object", "a reading must be a JSON object")
    _check_meter(meter_id, item)
    for key in REQUIRED_NUMBERS:
        if key not in item:
            raise InvalidItem("missing_field", f"missing required field '{key}'")
    numbers = _numbers(item)  # required ones are present (above) and not null (_numbers)
    for index, key, low in AT_LEAST:  # the hot path: no call, no branch on the bound's kind
        value = numbers[index]
        if value is not None and value < low:
            raise InvalidItem("out_of_range", f"field '{key}' must be >= {low}, got {value!r}")
    for index, key, low, high in WITHIN:
        value = numbers[index]
        if value is not None and not low <= value <= high:
            raise InvalidItem(
                "out_of_range", f"field '{key}' must be within {low}..{high}, got {value!r}"
            )
    volume, flow, pressure, temperature, battery = numbers
    assert volume is not None
    valve = item.get("valve")
    if valve is not None and not is_one_of(valve, VALVE_STATES):
        raise InvalidItem(
            "wrong_type", f"field 'valve' must be one of open/closed/fault, got {valve!r}"
        )
    ts = _timestamp(item, window)
    return new_reading(meter_id, ts, volume, flow, pressure, temperature, battery, valve)


def is_one_of(value: Any, names: Collection[str]) -> bool:
    """``value in names`` for any JSON value: a list or an object (unhashable) would
    raise TypeError in a set lookup instead of being refused."""
    return isinstance(value, str) and value in names


def parse_event(meter_id: str, body: dict[str, Any], window: tuple[int, int] | None) -> MeterEvent:
    _check_meter(meter_id, body)
    name = body.get("event")
    if not isinstance(name, str):
        raise InvalidItem("wrong_type", "field 'event' must be a string")
    if name not in EVENT_NAMES:
        raise InvalidItem("unknown_event", f"unknown event {name!r}")
    return MeterEvent(meter_id=meter_id, ts_ms=_timestamp(body, window), event=name)


def _numbers(item: dict[str, Any]) -> list[float | None]:
    """The ``NUMBER_KEYS`` of ``item`` in order, as floats, None where absent (one loop:
    the hot path)."""
    numbers: list[float | None] = []
    for key in NUMBER_KEYS:
        value: Any = item.get(key)
        kind = type(value)  # exact types: bool (an int subclass) is not a number here
        if kind is float:
            if not math.isfinite(value):
                raise InvalidItem("not_finite", f"field '{key}' must be finite, got {value!r}")
        elif kind is int:
            if not -FLOAT_MAX <= value <= FLOAT_MAX:
                raise InvalidItem("not_finite", f"field '{key}' is too large for a number")
            value = float(value)
        elif value is not None or key in item:
            raise InvalidItem("wrong_type", f"field '{key}' must be a number, got {kind.__name__}")
        numbers.append(value)
    return numbers


def _timestamp(item: dict[str, Any], window: tuple[int, int] | None) -> int:
    if "ts" not in item:
        raise InvalidItem("missing_field", "missing required field 'ts'")
    value = item["ts"]
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidItem(
            "wrong_type", "field 'ts' must be integer epoch milliseconds or an RFC 3339 string"
        )
    ts_ms = value if isinstance(value, int) else _rfc3339_ms(value)
    if not 0 <= ts_ms <= MAX_TS_MS:
        raise InvalidItem("out_of_range", f"ts {ts_ms} is outside 1970..9999")
    if window is None:
        return ts_ms
    earliest, latest = window
    if ts_ms > latest:
        raise InvalidItem("ts_future", f"ts {ts_ms} is too far in the future")
    if ts_ms < earliest:
        raise InvalidItem("ts_past", f"ts {ts_ms} is too far in the past")
    return ts_ms


def _rfc3339_ms(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidItem(
            "wrong_type", f"field 'ts' is not an RFC 3339 time: {text[:40]!r}"
        ) from exc
    if moment.tzinfo is None:
        raise InvalidItem("wrong_type", f"field 'ts' has no time zone offset: {text[:40]!r}")
    return round(moment.timestamp() * 1000)
