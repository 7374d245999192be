"""Household gas demand as a pure, deterministic function of (meter seed, event time).

Guangzhou-style day: breakfast, lunch and dinner cooking on one or two burners
(0.25-0.45 m³/h each), an evening shower from a water heater (1.5-2.5 m³/h), and short
random uses (kettle, reheating) in ten-minute slots. Weekends start later and cook a
bigger lunch at home; showers run longer in the cool months (December-February) and
shorter in the hot ones (June-September). Restaurants cook 10:00-22:00; a small factory
(laundry, food workshop) runs a boiler through two shifts on workdays.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

SLOT_MS = 10 * 60 * 1000
CHINA_UTC_OFFSET_MS = 8 * 3600 * 1000

# (start minute of day, end minute, flow m³/h) in local time.
MEALS = (
    (7 * 60, 7 * 60 + 20, 0.35),
    (11 * 60 + 40, 12 * 60 + 10, 0.7),
    (18 * 60, 18 * 60 + 45, 0.8),
)
SHOWER = (21 * 60, 21 * 60 + 15, 2.0)
WEEKEND_SHIFT_MIN = 60  # breakfast and lunch an hour later on Saturday and Sunday
WEEKEND_LUNCH = 1.3  # and a bigger lunch at home
# Shower length by month (local time): longer in the cool months, shorter in the hot ones.
SHOWER_MINUTES = (25, 25, 20, 15, 15, 12, 12, 12, 12, 15, 20, 25)


def unit_hash(seed: str, *parts: object) -> float:
    """A deterministic number in [0, 1) for ``seed`` and ``parts``."""
    digest = hashlib.blake2b(f"{seed}|{'|'.join(map(str, parts))}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") / 2**64


def local_minute(ts_ms: int) -> int:
    """Minute of the day in Guangzhou."""
    return ((ts_ms + CHINA_UTC_OFFSET_MS) // 60_000) % (24 * 60)


def local_day(ts_ms: int) -> int:
    """Days since 1970-01-01 (a Thursday) in Guangzhou."""
    return (ts_ms + CHINA_UTC_OFFSET_MS) // 86_400_000


def local_month(ts_ms: int) -> int:
    """1..12 in Guangzhou."""
    return datetime.fromtimestamp((ts_ms + CHINA_UTC_OFFSET_MS) / 1000, UTC).month


def weekday(day: int) -> int:
    """0 Monday .. 6 Sunday, of a ``local_day``."""
    return (day + 3) % 7


def is_weekend(day: int) -> bool:
    return weekday(day) >= 5


def household_flow_m3h(seed: str, ts_ms: int) -> float:
    local_ms = ts_ms + CHINA_UTC_OFFSET_MS
    minute, day = local_minute(ts_ms), local_day(ts_ms)
    shift = int(unit_hash(seed, "shift", day) * 30) - 15
    weekend = is_weekend(day)
    shower_start, _, shower_flow = SHOWER
    shower = (shower_start, shower_start + SHOWER_MINUTES[local_month(ts_ms) - 1], shower_flow)
    for start, end, flow in (*MEALS, shower):
        later = WEEKEND_SHIFT_MIN if weekend and start < 13 * 60 else 0
        if start + shift + later <= minute < end + shift + later:
            if weekend and start == MEALS[1][0]:
                flow *= WEEKEND_LUNCH
            return round(flow * (0.8 + 0.4 * unit_hash(seed, "size", day, start)), 3)
    slot = local_ms // SLOT_MS
    awake = 6 * 60 <= minute < 23 * 60
    if awake and unit_hash(seed, "use", slot) < 0.08:
        slot_minute = (local_ms % SLOT_MS) // 60_000
        if slot_minute < 3 + int(unit_hash(seed, "len", slot) * 5):
            return round(0.25 + 0.2 * unit_hash(seed, "flow", slot), 3)
    return 0.0


def restaurant_flow_m3h(seed: str, ts_ms: int) -> float:
    """A restaurant kitchen: open 10:00-22:00 local time, several burners at once."""
    hour = ((ts_ms + CHINA_UTC_OFFSET_MS) // 3_600_000) % 24
    if not 10 <= hour < 22:
        return 0.0
    return round(1.2 + 0.8 * unit_hash(seed, "kitchen", ts_ms // SLOT_MS), 3)


# A small factory's boiler, as shares of its meter's rated maximum flow (EN 1359 Qmax:
# G10 16, G16 25, G25 40 m³/h): two shifts 06:30-21:30 on Monday-Saturday with a half-hour
# stop at noon, a slow start (no jump of a whole step at once), nothing at night or on
# Sunday.
QMAX_M3H = {"G1.6": 2.5, "G2.5": 4.0, "G4": 6.0, "G6": 10.0, "G10": 16.0, "G16": 25.0, "G25": 40.0}
SHIFTS = ((6 * 60 + 30, 12 * 60), (12 * 60 + 30, 21 * 60 + 30))
WARM_UP_MIN = 20


def industry_flow_m3h(seed: str, model: str, ts_ms: int) -> float:
    if weekday(local_day(ts_ms)) == 6:  # Sunday
        return 0.0
    minute = local_minute(ts_ms)
    for start, end in SHIFTS:
        if start <= minute < end:
            slot = (ts_ms + CHINA_UTC_OFFSET_MS) // SLOT_MS
            load = 0.35 + 0.25 * unit_hash(seed, "load", slot)
            warming = min(1.0, (minute - start + 1) / WARM_UP_MIN)
            return round(QMAX_M3H.get(model, 4.0) * load * warming, 3)
    return 0.0
