"""InfluxDB line protocol for ``gas_reading`` points (DESIGN.md schema)."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable

from contract.readings import NUMBER_FIELDS, Reading
from telemetry.base import MEASUREMENT
from telemetry.errors import StoreRejected


@functools.lru_cache(maxsize=65_536)
def _escape_tag(value: str) -> str:
    if "\n" in value or "\r" in value:  # a line break would end the point: never escapable
        raise StoreRejected(f"tag value {value!r} has a line break")
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def encode_point(reading: Reading) -> str:
    fields = []
    for name in (
        NUMBER_FIELDS
    ):  # the field table's numbers: one loop, no call per field: this is the hot path
        value = getattr(reading, name)
        if value is None:
            continue
        if not math.isfinite(value):
            raise StoreRejected(f"field {name} is not finite: {value!r}")
        fields.append(f"{name}={float(value)!r}")
    if reading.valve is not None:
        fields.append(f'valve="{reading.valve}"')
    return (
        f"{MEASUREMENT},meter_id={_escape_tag(reading.meter_id)} {','.join(fields)} {reading.ts_ms}"
    )


def encode(readings: Iterable[Reading]) -> bytes:
    """Points with millisecond timestamps, one a line (write with ``precision=ms``)."""
    return "\n".join(encode_point(r) for r in readings).encode()
