"""The worker's health report: its totals and rates into the registry, where the API's
overview reads them (docs/ingest.md, "Health"); the supervisor's chores write it every
``every_s``."""

from __future__ import annotations

from collections.abc import Callable

from ingest.metrics import IngestMetrics, Totals
from meters.views import WorkerHealth
from meters.worker_health import WorkerHealthStore


class HealthReporter:
    def __init__(
        self,
        workers: WorkerHealthStore,
        metrics: IngestMetrics,
        worker: str,
        partitions: Callable[[], str],
        every_s: float,
        clock: Callable[[], int],
        fault: Callable[[], str] = lambda: "",
        warning: Callable[[], str] = lambda: "",
    ) -> None:
        self._fault = fault  # the worker's critical fault now, or ""
        self._warning = warning  # what limits it or risks losing data (the broker), or ""
        self._workers = workers
        self._metrics = metrics
        self._worker = worker
        self._partitions = partitions  # what the worker runs now: "0/2", "0/2,1/2"
        self.every_s = every_s
        self._clock = clock
        self._last: tuple[int, Totals] | None = None

    def report(self) -> None:
        now_ms, totals = self._clock(), self._metrics.totals()
        messages_per_s = readings_per_s = 0.0
        if self._last is not None and now_ms > self._last[0]:
            seconds = (now_ms - self._last[0]) / 1000
            messages_per_s = (totals.messages - self._last[1].messages) / seconds
            readings_per_s = (totals.readings_stored - self._last[1].readings_stored) / seconds
        self._last = (now_ms, totals)
        health = WorkerHealth(
            self._worker,
            self._partitions(),
            now_ms,
            totals.messages,
            totals.readings_stored,
            totals.dead_letters,
            totals.spool_records,
            totals.spool_bytes,
            round(messages_per_s, 1),
            round(readings_per_s, 1),
            self._fault(),
            self._warning(),
        )
        self._workers.record(health)  # an outage: the chore tries again at its next turn
