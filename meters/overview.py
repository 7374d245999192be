"""The control room's overview: the fleet, its open alarms and the ingest workers' health,
read from the registry in one place for the API."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from meters.registry import Registry
from meters.severity import SEVERITIES, Severity
from meters.views import AlarmCount, MeterCounts, WorkerHealth


@dataclass(frozen=True, slots=True)
class WorkerStatus(WorkerHealth):
    stale: bool  # no report for longer than the overview's stale limit: down or stuck


@dataclass(frozen=True, slots=True)
class OverviewView:
    meters: MeterCounts
    alarms: list[AlarmCount]
    alarms_by_severity: dict[Severity, int]
    dead_letters: int
    workers: list[WorkerStatus]

    @property
    def ingest_ok(self) -> bool:
        """At least one worker, every one reporting, none with a backlog in its spool."""
        return bool(self.workers) and all(
            not w.stale and w.spool_records == 0 for w in self.workers
        )


def overview(registry: Registry, now_ms: int, stale_after_ms: int) -> OverviewView:
    alarms = registry.open_alarm_counts()
    by_severity: dict[Severity, int] = dict.fromkeys(SEVERITIES, 0)
    for count in alarms:
        by_severity[count.severity] += count.open
    workers = [
        WorkerStatus(**asdict(health), stale=now_ms - health.updated_ms > stale_after_ms)
        for health in registry.workers.list()
    ]
    return OverviewView(
        registry.meter_counts(), alarms, by_severity, registry.count_dead_letters(), workers
    )
