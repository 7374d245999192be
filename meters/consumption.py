"""A meter's consumption per day or month, from its register (``volume_m3``), for billing.
Pure: readings in, periods out.

The register only grows; what it says between two readings is the gas used between them,
counted on the day (local time, UTC+8) of the later one. A step the register cannot have
made is left out and counted, never billed: a fall (a reset, a replaced register) and a
rise faster than the model can flow (a single-sample spike, a misread: at most
``max_flow_m3h`` times the time between the readings, with a margin)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from contract.local_time import CHINA
from contract.readings import Reading

Period = Literal["day", "month"]
MARGIN = 1.5  # a register may read a little ahead of the flow the model allows (rounding)
MIN_STEP_M3 = 0.01  # what a register's last digit can move between two close readings


@dataclass(frozen=True, slots=True)
class Consumption:
    """One day or month: the gas used, the readings it came from, and the steps left out
    (a reset, a spike) that an operator should look at before billing."""

    period: str  # 2026-12-04, or 2026-12
    start_ms: int
    volume_m3: float
    readings: int
    left_out: int


def period_of(ts_ms: int, by: Period) -> tuple[str, int]:
    """The day or month (local time) ``ts_ms`` falls in: its label and its start."""
    local = datetime.fromtimestamp(ts_ms / 1000, CHINA)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if by == "month":
        start = start.replace(day=1)
        return start.strftime("%Y-%m"), int(start.timestamp() * 1000)
    return start.strftime("%Y-%m-%d"), int(start.timestamp() * 1000)


def consumption(readings: Iterable[Reading], by: Period, max_flow_m3h: float) -> list[Consumption]:
    """Per period, oldest first, from readings in time order (one meter's)."""
    totals: dict[str, list[float]] = {}  # label -> [start, volume, readings, left out]
    previous: Reading | None = None
    for reading in readings:
        label, start = period_of(reading.ts_ms, by)
        total = totals.setdefault(label, [start, 0.0, 0, 0])
        total[2] += 1
        if previous is not None and reading.ts_ms > previous.ts_ms:
            step = reading.volume_m3 - previous.volume_m3
            hours = (reading.ts_ms - previous.ts_ms) / 3_600_000
            if 0 <= step <= max(max_flow_m3h * hours * MARGIN, MIN_STEP_M3):
                total[1] += step
            else:
                total[3] += 1
        previous = reading
    return [
        Consumption(label, int(start), round(volume, 6), int(count), int(left_out))
        for label, (start, volume, count, left_out) in totals.items()
    ]


def carried_over(
    before: list[Reading], after: list[Reading], end_m3: float, start_m3: float
) -> list[Reading]:
    """One register across a replacement: the old meter's readings up to its removal
    (its register ``end_m3`` then), and the new meter's from its start (``start_m3``)
    moved up by the difference, so that the swap itself is no step."""
    shift = end_m3 - start_m3
    moved = [replace(r, volume_m3=r.volume_m3 + shift) for r in after]
    return [*before, *moved]


def as_csv(meter_id: str, periods: Iterable[Consumption]) -> str:
    lines = ["meter_id,period,volume_m3,readings,left_out"]
    lines.extend(
        f"{meter_id},{p.period},{p.volume_m3:.3f},{p.readings},{p.left_out}" for p in periods
    )
    return "\n".join(lines) + "\n"
