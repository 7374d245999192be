"""Household gas demand as a pure, deterministic function of (meter seed, event time).

Guangzhou-style day: breakfast, lunch and dinner cooking on one or two burners
(0.25-0.45 m³/h each), an evening shower from a water heater (1.5-2.5 m³/h), and short
random uses (kettle, reheating) in ten-minute slots. Issue 8 grows this into profiles
for restaurants, industry, seasons and days away.
"""

from __future__ import annotations

import hashlib

SLOT_MS = 10 * 60 * 1000
CHINA_UTC_OFFSET_MS = 8 * 3600 * 1000

# (start minute of day, end minute, flow m³/h) in local time.
MEALS = (
    (7 * 60, 7 * 60 + 20, 0.35),
    (11 * 60 + 40, 12 * 60 + 10, 0.7),
    (18 * 60, 18 * 60 + 45, 0.8),
)
SHOWER = (21 * 60, 21 * 60 + 15, 2.0)


def unit_hash(seed: str, *parts: object) -> float:
    """A deterministic number in [0, 1) for ``seed`` and ``parts``."""
    digest = hashlib.blake2b(f"{seed}|{'|'.join(map(str, parts))}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big") / 2**64


def household_flow_m3h(seed: str, ts_ms: int) -> float:
    local_ms = ts_ms + CHINA_UTC_OFFSET_MS
    minute = (local_ms // 60_000) % (24 * 60)
    day = local_ms // 86_400_000
    shift = int(unit_hash(seed, "shift", day) * 30) - 15
    for start, end, flow in (*MEALS, SHOWER):
        if start + shift <= minute < end + shift:
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
