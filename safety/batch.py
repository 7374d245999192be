"""A batch of readings and events as columns: what the compiled core reads.

``from_items`` builds one from ``Reading``/``MeterEvent`` values; the replay reader builds
one straight from parsed lines (``gasguard.replay``). Absent numbers are NaN, an absent
valve is 0 (``codes.VALVES``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from contract.events import MeterEvent
from contract.readings import Reading
from safety.codes import EVENT_CODE, ITEM_EVENT, ITEM_READING, VALVE_CODE
from safety.index import encode

NAN = float("nan")


@dataclass(frozen=True)
class Batch:
    meter_ids: list[str]
    kinds: np.ndarray  # uint8: codes.ITEM_READING / ITEM_EVENT
    times: np.ndarray  # int64 event time, epoch ms
    volumes: np.ndarray  # float64
    flows: np.ndarray  # float64, NaN: not reported
    pressures: np.ndarray  # float64, NaN: not reported
    batteries: np.ndarray  # float64, NaN: not reported
    valves: np.ndarray  # uint8 valve code, 0: not reported
    events: np.ndarray  # uint8 event code (events only)

    def __len__(self) -> int:
        return len(self.meter_ids)

    def keys(self) -> np.ndarray:
        return encode(self.meter_ids)


Row = tuple[int, int, float, float, float, float, int, int]
# one item as numbers: kind, ts, volume, flow, pressure, battery, valve, event. Every
# number fits a float64 exactly (times are below 2**53 ms), so a batch's rows become one
# 2-D array in one step and the columns are cut from it.


def reading_row(
    ts_ms: int, volume: float, flow: float, pressure: float, battery: float, valve: int
) -> Row:
    """A reading as numbers (NaN: not reported; valve 0: not reported)."""
    return (ITEM_READING, ts_ms, volume, flow, pressure, battery, valve, 0)


class BatchBuilder:
    """Items appended as a meter id and a row (cheap), turned into columns at the end."""

    def __init__(self) -> None:
        self.meter_ids: list[str] = []
        self.rows: list[Row] = []

    def __len__(self) -> int:
        return len(self.rows)

    def reading(self, reading: Reading) -> None:
        self.meter_ids.append(reading.meter_id)
        self.rows.append(
            reading_row(
                reading.ts_ms,
                reading.volume_m3,
                NAN if reading.flow_m3h is None else reading.flow_m3h,
                NAN if reading.pressure_kpa is None else reading.pressure_kpa,
                NAN if reading.battery_pct is None else reading.battery_pct,
                0 if reading.valve is None else VALVE_CODE[reading.valve],
            )
        )

    def event(self, event: MeterEvent) -> None:
        self.meter_ids.append(event.meter_id)
        self.rows.append((ITEM_EVENT, event.ts_ms, NAN, NAN, NAN, NAN, 0, EVENT_CODE[event.event]))

    def build(self) -> Batch:
        table = np.array(self.rows, dtype=np.float64).reshape(len(self.rows), 8)
        return Batch(
            meter_ids=self.meter_ids,
            kinds=table[:, 0].astype(np.uint8),
            times=table[:, 1].astype(np.int64),
            volumes=table[:, 2].copy(),
            flows=table[:, 3].copy(),
            pressures=table[:, 4].copy(),
            batteries=table[:, 5].copy(),
            valves=table[:, 6].astype(np.uint8),
            events=table[:, 7].astype(np.uint8),
        )


def from_items(items: Iterable[Reading | MeterEvent]) -> Batch:
    builder = BatchBuilder()
    for item in items:
        if isinstance(item, Reading):
            builder.reading(item)
        else:
            builder.event(item)
    return builder.build()
