"""Last-seen bookkeeping, gathered in memory and written to the registry in bulk.

Which meters were seen, their newest reading time, valve and online status are for the
dashboard, not for safety: a delay of ``flush_every_s`` is fine, and one bulk write per
interval replaces one UPDATE per meter per batch (which profiling showed to be most of
the ingester's time).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from ingest.decode import Decoded
from meters.registry import MeterSighting

VALVE_EVENTS = {"valve_opened": "open", "valve_closed": "closed"}  # the meter's own word


class SightingsBuffer:
    def __init__(self, flush_every_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._flush_every_s = flush_every_s
        self._clock = clock
        self._pending: dict[str, MeterSighting] = {}
        self._seqs: dict[str, set[int]] = {}  # batch numbers seen per meter, until taken
        self._last_flush = clock()

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, decoded: Iterable[Decoded], now_ms: int) -> None:
        pending = self._pending
        for item in decoded:
            if item.meter_id is None or not (
                item.readings or item.events or item.reply or item.status
            ):
                continue
            current = pending.get(item.meter_id) or MeterSighting(now_ms)
            reading_ms, valve, valve_ms = current.reading_ms, current.valve, current.valve_ms
            for reading in item.readings:
                if reading_ms is None or reading.ts_ms > reading_ms:
                    reading_ms = reading.ts_ms
                if reading.valve is not None and (valve_ms is None or reading.ts_ms >= valve_ms):
                    valve, valve_ms = reading.valve, reading.ts_ms
            for event in item.events:
                moved = VALVE_EVENTS.get(event.event)
                if moved is not None and (valve_ms is None or event.ts_ms >= valve_ms):
                    valve, valve_ms = moved, event.ts_ms
            # A reply's valve is not taken here: it counts only once its signature and its
            # command are checked (meters.command_store.apply_reply).
            status = item.status or current.status
            first, last, skipped = current.seq_first, current.seq_last, current.seq_skipped
            if item.seq is not None:
                seqs = self._seqs.setdefault(item.meter_id, set())
                seqs.add(item.seq)
                first = item.seq if first is None else min(first, item.seq)
                last = item.seq if last is None else max(last, item.seq)
                skipped = last - first + 1 - len(seqs)  # a late one fills its gap
            pending[item.meter_id] = MeterSighting(
                now_ms, reading_ms, valve, status, valve_ms, first, last, skipped
            )

    def take(self, force: bool = False) -> dict[str, MeterSighting] | None:
        """The sightings to write now (and forget), or None when not due or nothing new."""
        if not self._pending or not (
            force or self._clock() - self._last_flush >= self._flush_every_s
        ):
            return None
        taken, self._pending = self._pending, {}
        self._seqs = {}
        self._last_flush = self._clock()
        return taken
