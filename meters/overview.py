"""The control room's overview: the fleet, its open alarms, the ingest workers' health and
the data completeness, read from the registry (and the telemetry store) in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Protocol

from meters.completeness import FleetCompleteness, fleet_completeness
from meters.registry import Registry
from meters.severity import SEVERITIES, Severity
from meters.views import AlarmCount, MeterCounts, WorkerHealth


@dataclass(frozen=True, slots=True)
class WorkerStatus(WorkerHealth):
    stale: bool = False  # no report for longer than the overview's stale limit: down or stuck


@dataclass(frozen=True, slots=True)
class OverviewView:
    meters: MeterCounts
    alarms: list[AlarmCount]
    alarms_by_severity: dict[Severity, int]
    dead_letters: int
    workers: list[WorkerStatus]

    @property
    def ingest_ok(self) -> bool:
        """At least one worker, every one reporting, none with a backlog in its spool or
        a critical fault (a lane that died)."""
        return bool(self.workers) and all(
            not w.stale and w.spool_records == 0 and not w.fault for w in self.workers
        )


def overview(registry: Registry, now_ms: int, stale_after_ms: int) -> OverviewView:
    alarms = registry.alarms.open_counts()
    by_severity: dict[Severity, int] = dict.fromkeys(SEVERITIES, 0)
    for count in alarms:
        by_severity[count.severity] += count.open
    workers = [
        WorkerStatus(**asdict(health), stale=now_ms - health.updated_ms > stale_after_ms)
        for health in registry.workers.list()
    ]
    return OverviewView(
        registry.meters.counts(), alarms, by_severity, registry.dead_letters.count(), workers
    )


class ReadingCounts(Protocol):
    """What completeness needs of a telemetry store (``telemetry.base.TelemetryStore``
    has it): the readings each meter stored in [start, end)."""

    def counts(self, start_ms: int, end_ms: int) -> Mapping[str, int]: ...


def measure_completeness(
    registry: Registry, store: ReadingCounts, start_ms: int, end_ms: int, min_share: float
) -> FleetCompleteness:
    """The fleet's data completeness (抄表率) over [start, end): every meter's expected
    readings from the registry, what each received from the telemetry store."""
    return fleet_completeness(
        registry.meters.expectations(), store.counts(start_ms, end_ms), start_ms, end_ms, min_share
    )
