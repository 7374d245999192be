"""Data completeness (抄表率): readings received against readings expected. Pure.

A meter is expected to report once per report interval from the moment it joined the
fleet (registered, or the period's start if later) to the period's end; what the telemetry
store holds for it in the period is what was received (one point per (meter, ts), so a
resent reading counts once). Meters that send batches number them (``seq``): the batches
skipped in that numbering are counted too (``missing_batches``: messages sent that never
arrived). A meter's share is received / expected, at most 1; the
fleet's is the sum of received over the sum of expected, and ``complete`` counts the
meters at or above the configured share.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MeterExpectation:
    meter_id: str
    interval_s: int
    since_ms: int  # when it joined the fleet
    missing_batches: int = 0  # batches it numbered (seq) that never arrived, ever


@dataclass(frozen=True, slots=True)
class MeterCompleteness:
    meter_id: str
    expected: int
    received: int
    missing_batches: int = 0

    @property
    def share(self) -> float:
        return 1.0 if self.expected == 0 else min(1.0, self.received / self.expected)


@dataclass(frozen=True, slots=True)
class FleetCompleteness:
    start_ms: int
    end_ms: int
    min_share: float
    meters: int
    expected: int
    received: int
    complete: int  # meters at or above min_share
    below: list[MeterCompleteness]  # the others, lowest share first
    missing_batches: int = 0  # over every meter, ever (gaps in their batch seq)

    @property
    def share(self) -> float:
        return 1.0 if self.expected == 0 else min(1.0, self.received / self.expected)


def expected_readings(meter: MeterExpectation, start_ms: int, end_ms: int) -> int:
    """Whole report intervals of the meter inside [max(start, since), end)."""
    first = max(start_ms, meter.since_ms)
    if end_ms <= first or meter.interval_s <= 0:
        return 0
    return (end_ms - first) // (meter.interval_s * 1000)


def fleet_completeness(
    meters: Iterable[MeterExpectation],
    received: Mapping[str, int],
    start_ms: int,
    end_ms: int,
    min_share: float,
) -> FleetCompleteness:
    rows = [
        MeterCompleteness(
            m.meter_id,
            expected_readings(m, start_ms, end_ms),
            received.get(m.meter_id, 0),
            m.missing_batches,
        )
        for m in meters
    ]
    below = sorted((r for r in rows if r.share < min_share), key=lambda r: (r.share, r.meter_id))
    return FleetCompleteness(
        start_ms,
        end_ms,
        min_share,
        len(rows),
        sum(r.expected for r in rows),
        sum(min(r.received, r.expected) for r in rows),
        len(rows) - len(below),
        below,
        sum(r.missing_batches for r in rows),
    )
