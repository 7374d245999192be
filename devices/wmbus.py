"""Wireless M-Bus / OMS gas meters read by a ``wmbusmeters`` gateway. Pure.

wmbusmeters decodes the meters' radio telegrams and prints one JSON object per telegram
(its drivers' field names: ``total_m3``, ``flow_m3h``, ``temperature_c``, ``status``; the
meter's ``id``; ``timestamp``, when wmbusmeters received it, UTC). The gateway publishes
that object, as it is, on the meter's ``gas/v1/meters/{meter_id}/wmbus`` topic (its
``shell`` setting runs ``mosquitto_pub``: docs/protocols.md). This module turns it into
the fields of a contract reading; the ingester's decoder checks them as it checks any
reading.
"""

from __future__ import annotations

from typing import Any

from devices.errors import CodecError

# contract reading field -> wmbusmeters field
FIELDS = {"volume_m3": "total_m3", "flow_m3h": "flow_m3h", "temperature_c": "temperature_c"}
STATUS_OK = "OK"


def reading_fields(meter_id: str, body: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The reading's wire form (``ts`` and the measured fields) of a wmbusmeters telegram
    of the meter on the topic: the telegram's ``id`` (with the profile's ``prefix``) must
    be that meter."""
    if body.get("media") not in (None, "gas"):
        raise CodecError("not_gas", f"media {body.get('media')!r}: a gas meter is expected")
    telegram_id = body.get("id")
    if not isinstance(telegram_id, str) or f"{prefix}{telegram_id}" != meter_id:
        raise CodecError(
            "id_mismatch", f"telegram of meter {telegram_id!r} on the topic of {meter_id}"
        )
    if "total_m3" not in body:
        raise CodecError("no_volume", "the telegram has no total_m3 (its driver gives none)")
    out: dict[str, Any] = {"ts": body.get("timestamp")}
    for field, name in FIELDS.items():
        if name in body:
            out[field] = body[name]
    return out


def status_flags(body: dict[str, Any]) -> tuple[str, ...]:
    """The meter's status flags as wmbusmeters writes them (``OK``: none)."""
    status = body.get("status")
    if not isinstance(status, str) or status == STATUS_OK:
        return ()
    return tuple(status.split())
