"""DLMS/COSEM (IEC 62056) gas meters' push notifications, decoded with the Gurux DLMS
library (``gurux-dlms``, chosen over ``dlms-cosem``: it has the meter's side too, so the
tests push with the library's own notification generator, not with ours). Pure: bytes in,
contract fields out, ``CodecError`` for everything refused.

A meter (or its IP gateway) pushes a **Data-Notification** (xDLMS tag 0x0F) in the
IEC 62056-47 wrapper (version 1, source and destination wPort, length) on
``gas/v1/meters/{meter_id}/dlms``. Its body is the push setup's captured objects, in the
order the meter's push setup lists them; the profile names that order
(``options.push_objects``, default ``clock,volume,valve,status``):

* ``clock``: the clock's time (octet string of 12, DLMS date-time);
* ``volume``: the gas volume register's value (7.0.3.0.0.255 and the like), scaled by
  10^``options.volume_scaler`` (default -3: litres of the register to m³);
* ``valve``: the disconnect control's output state (class 70, attribute 2: true
  connected, the valve open; false disconnected, closed);
* ``status``: a status word (vendor): its set bits are alarm codes ``bit0`` ...
  (devices.alarm_codes);
* ``ldn``: the logical device name (0.0.42.0.0.255), checked against the topic's meter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from gurux_dlms import GXByteBuffer, GXDLMSNotify, GXReplyData
from gurux_dlms.enums import Command, InterfaceType

from devices.errors import CodecError

DEFAULT_LAYOUT = ("clock", "volume", "valve", "status")
KNOWN_ITEMS = frozenset({"clock", "volume", "valve", "status", "ldn", "skip"})
DEVIATION_UNSPECIFIED = -0x8000
CHINA_MINUTES = 480


def layout_of(options: Mapping[str, str]) -> tuple[str, ...]:
    layout = tuple(part.strip() for part in options.get("push_objects", "").split(",") if part)
    layout = layout or DEFAULT_LAYOUT
    unknown = set(layout) - KNOWN_ITEMS
    if unknown or "volume" not in layout:
        raise CodecError("bad_layout", f"push_objects {layout}: volume and {sorted(KNOWN_ITEMS)}")
    return layout


def notification_values(raw: bytes) -> list[Any]:
    """The body of a wrapped Data-Notification, as Gurux reads it."""
    reply = GXReplyData()
    try:
        complete = GXDLMSNotify(True, 1, 1, InterfaceType.WRAPPER).getData(GXByteBuffer(raw), reply)
    except Exception as exc:  # the library raises any kind of error on bad bytes
        raise CodecError("bad_apdu", f"not a DLMS wrapper PDU: {exc}") from exc
    if not complete or reply.command != Command.DATA_NOTIFICATION:
        raise CodecError("not_notification", "not a complete DLMS Data-Notification")
    value = reply.value
    if not isinstance(value, list):
        raise CodecError("bad_body", "the notification's body is not a structure")
    return list(value)


def date_time_ms(raw: object, local_minutes: int = CHINA_MINUTES) -> int:
    """A DLMS date-time (12 bytes: year, month, day, weekday, hour, minute, second,
    hundredths, deviation, clock status) as epoch ms. The deviation is the minutes from
    local time to UTC (UTC = local + deviation: -480 for UTC+8, as the Gurux meter side
    writes it); unspecified (8000H), the meter's zone is the profile's (UTC+8)."""
    if not isinstance(raw, bytes | bytearray) or len(raw) != 12:
        raise CodecError("bad_time", "the clock must be a 12-byte DLMS date-time")
    year = int.from_bytes(raw[0:2], "big")
    month, day, hour, minute, second = raw[2], raw[3], raw[5], raw[6], raw[7]
    hundredths = raw[8] if raw[8] != 0xFF else 0
    deviation = int.from_bytes(raw[9:11], "big", signed=True)
    offset = local_minutes if deviation == DEVIATION_UNSPECIFIED else -deviation
    try:
        zone = dt.timezone(dt.timedelta(minutes=offset))
        at = dt.datetime(year, month, day, hour, minute, second, hundredths * 10_000, zone)
    except (ValueError, OverflowError) as exc:
        raise CodecError("bad_time", f"DLMS date-time {bytes(raw).hex()}: {exc}") from exc
    return int(at.timestamp() * 1000)


def reading_fields(
    meter_id: str, raw: bytes, received_ms: int, options: Mapping[str, str]
) -> dict[str, Any]:
    """The reading's wire form of the meter's push (``ts`` the meter's clock, or the time
    received when the push carries none)."""
    return push_values(meter_id, raw, received_ms, options)[0]


def push_values(
    meter_id: str, raw: bytes, received_ms: int, options: Mapping[str, str]
) -> tuple[dict[str, Any], int | None]:
    """The reading's wire form and the status word (None when the push has none)."""
    layout = layout_of(options)
    values = notification_values(raw)
    if len(values) != len(layout):
        raise CodecError(
            "bad_layout", f"{len(values)} captured objects, the profile names {len(layout)}"
        )
    item = dict(zip(layout, values, strict=True))
    if "ldn" in item:
        name = item["ldn"]
        text = bytes(name).decode(errors="replace") if isinstance(name, bytes | bytearray) else name
        if text != meter_id:
            raise CodecError("ldn_mismatch", f"push of {text!r} on the topic of {meter_id}")
    volume = item["volume"]
    if isinstance(volume, bool) or not isinstance(volume, int | float):
        raise CodecError("bad_volume", f"volume register value {volume!r} is not a number")
    try:
        scaler = int(options.get("volume_scaler", "-3"))
    except ValueError as exc:
        raise CodecError("bad_layout", "volume_scaler must be a whole number") from exc
    out: dict[str, Any] = {
        "ts": date_time_ms(item["clock"]) if "clock" in item else received_ms,
        "volume_m3": round(volume * 10.0**scaler, 6),
    }
    if "valve" in item:
        if not isinstance(item["valve"], bool):
            raise CodecError("bad_valve", f"output state {item['valve']!r} is not a boolean")
        out["valve"] = "open" if item["valve"] else "closed"
    status = item.get("status")
    if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
        raise CodecError("bad_status", f"status word {status!r} is not a whole number")
    return out, status
