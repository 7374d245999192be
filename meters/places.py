"""Where a meter is (issue 23): its district, street and building, optionally its
coordinates, and the pressure zone (the regulator station) that feeds it: what the area
view, the notifications' routes by district and the correlation of many meters' alarms
into one incident read. Pure: cells of a delivery file in, a place or the errors out."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

TEXT_LIMITS = {"district": 64, "street": 128, "building": 64, "pressure_zone": 64}
COORDINATES = {"latitude": (-90.0, 90.0), "longitude": (-180.0, 180.0)}


@dataclass(frozen=True, slots=True)
class Place:
    district: str | None = None  # 区 (a city district, as the utility names it)
    street: str | None = None
    building: str | None = None
    latitude: float | None = None  # WGS 84 degrees
    longitude: float | None = None
    pressure_zone: str | None = None  # the regulator station (调压站) feeding it

    def as_dict(self) -> dict[str, str | float | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


PLACE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Place))


def parse_place(cells: Mapping[str, str], bad: Callable[[str, str], None]) -> Place:
    """The place a row's cells give (empty cells: unknown); ``bad(field, why)`` for each
    value that cannot be one. Coordinates come both or neither."""
    values: dict[str, str | float | None] = {}
    for name, limit in TEXT_LIMITS.items():
        text = cells.get(name) or None
        if text is not None and len(text) > limit:
            bad(name, f"at most {limit} characters")
        values[name] = text
    for name, (low, high) in COORDINATES.items():
        text = cells.get(name) or ""
        values[name] = None
        if not text:
            continue
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and low <= number <= high):
            bad(name, f"{text!r} is not a number of degrees from {low:g} to {high:g}")
        else:
            values[name] = number
    if (values["latitude"] is None) != (values["longitude"] is None):
        bad("latitude", "latitude and longitude come together")
    return Place(**values)  # type: ignore[arg-type]
