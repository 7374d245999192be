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


class SightingsBuffer:
    def __init__(self, flush_every_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._flush_every_s = flush_every_s
        self._clock = clock
        self._pending: dict[str, MeterSighting] = {}
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
            current = pending.get(item.meter_id)
            reading_ms = current.reading_ms if current else None
            valve = current.valve if current else None
            status = item.status or (current.status if current else None)
            for reading in item.readings:
                if reading_ms is None or reading.ts_ms > reading_ms:
                    reading_ms = reading.ts_ms
                    valve = reading.valve or valve
            if item.reply is not None and item.reply.valve is not None:
                valve = item.reply.valve  # the meter's own word, just now
            pending[item.meter_id] = MeterSighting(now_ms, reading_ms, valve, status)

    def take(self, force: bool = False) -> dict[str, MeterSighting] | None:
        """The sightings to write now (and forget), or None when not due or nothing new."""
        if not self._pending or not (
            force or self._clock() - self._last_flush >= self._flush_every_s
        ):
            return None
        taken, self._pending = self._pending, {}
        self._last_flush = self._clock()
        return taken
