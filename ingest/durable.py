"""Getting readings durable: into the telemetry store, or into the local spool when the
store cannot take them, and from the spool into the store once it can.

While the store is down, batches go straight to the spool for ``retry_after_s`` (doubling
up to ``retry_max_s``) instead of each waiting for a time-out; draining the spool is the
probe that finds the store back. When the store refuses a batch (bad data rather than an
outage), the readings are written one by one and the refused ones returned with the reason,
to be dead-lettered: nothing is dropped silently.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from contract.readings import Reading
from ingest.metrics import IngestMetrics
from ingest.spool import Spool
from telemetry.base import TelemetryStore
from telemetry.errors import StoreRejected, StoreUnavailable

log = logging.getLogger(__name__)

SPOOL_WARNING_SHARES = (0.5, 0.8, 0.95)


@dataclass(frozen=True, slots=True)
class Refused:
    reading: Reading
    reason: str


class DurableWriter:
    def __init__(
        self,
        store: TelemetryStore,
        spool: Spool,
        metrics: IngestMetrics,
        retry_after_s: float = 1.0,
        retry_max_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        partition: str = "0/1",
    ) -> None:
        self.store = store
        self.spool = spool
        self.metrics = metrics
        self._gauges = metrics.lane(partition)
        self._retry_after_s = retry_after_s
        self._retry_max_s = retry_max_s
        self._clock = clock
        self._down_until = 0.0
        self._down_for_s = 0.0
        self._in_outage = False
        self._warned_share = 0.0
        self._update_gauges()

    @property
    def store_down(self) -> bool:
        return self._clock() < self._down_until

    def write(self, readings: Sequence[Reading]) -> list[Refused]:
        """Make ``readings`` durable. Returns the readings the store refused; raises
        ``SpoolFull`` when neither the store nor the spool can take them."""
        if not readings:
            return []
        if not self.store_down:
            try:
                self._write_store(readings)
                return []
            except StoreUnavailable as exc:
                self._mark_down(exc)
            except StoreRejected:
                return self._write_one_by_one(readings)
        self._spool(readings)
        return []

    def drain(self, max_batches: int) -> list[Refused]:
        """Move up to ``max_batches`` spooled batches into the store, oldest first."""
        refused: list[Refused] = []
        drained = 0
        while self.spool and drained < max_batches and not self.store_down:
            batch = self.spool.oldest()
            if batch is None:
                break
            try:
                self._write_store(batch.readings)
            except StoreUnavailable as exc:
                self._mark_down(exc)
                break
            except StoreRejected:
                try:
                    refused.extend(self._write_one_by_one(batch.readings, spool_rest=False))
                except StoreUnavailable:
                    break  # the batch stays spooled and is tried again
            self.spool.mark_drained(batch)
            drained += 1
            if not self.spool:
                log.warning("spool drained: every spooled reading is in the telemetry store")
                self._warned_share = 0.0
        self._update_gauges()
        return refused

    def _write_store(self, readings: Sequence[Reading]) -> None:
        started = time.perf_counter()
        self.store.write(readings)
        self.metrics.write_seconds.observe(time.perf_counter() - started)
        self.metrics.readings_stored.inc(len(readings))
        self._down_for_s = 0.0
        if self._in_outage:
            self._in_outage = False
            log.warning(
                "telemetry store answers again; draining %d spooled batches", self.spool.records
            )

    def _write_one_by_one(
        self, readings: Sequence[Reading], spool_rest: bool = True
    ) -> list[Refused]:
        refused = []
        for index, reading in enumerate(readings):
            try:
                self._write_store([reading])
            except StoreRejected as exc:
                refused.append(Refused(reading, str(exc)))
            except StoreUnavailable as exc:
                self._mark_down(exc)
                if not spool_rest:
                    raise
                self._spool(readings[index:])
                break
        return refused

    def _spool(self, readings: Sequence[Reading]) -> None:
        self.spool.append(readings)
        self.metrics.readings_spooled.inc(len(readings))
        self._update_gauges()
        share = self.spool.size_bytes / self.spool.max_bytes
        crossed = [s for s in SPOOL_WARNING_SHARES if share >= s > self._warned_share]
        if crossed:
            self._warned_share = crossed[-1]
            log.warning("spool %.0f%% full (%d bytes)", share * 100, self.spool.size_bytes)

    def _mark_down(self, exc: Exception) -> None:
        if not self._in_outage:
            self._in_outage = True
            log.warning("telemetry store unavailable (%s); spooling readings", exc)
        self._down_for_s = min(max(self._down_for_s * 2, self._retry_after_s), self._retry_max_s)
        self._down_until = self._clock() + self._down_for_s

    def _update_gauges(self) -> None:
        self._gauges.spool_bytes.set(self.spool.size_bytes)
        self._gauges.spool_records.set(self.spool.records)
