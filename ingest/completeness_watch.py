"""Meters whose data is incomplete, as alarms: every ``every_s`` the lane of partition 0
measures data completeness (抄表率) over the last ``window_s`` (``meters.completeness``)
and raises a ``low_completeness`` alarm for each meter below ``min_share`` (one per open
episode; a repeat updates it with the new figures), all in one transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable

from contract.decisions import Decision
from meters.overview import measure_completeness
from meters.registry import Registry
from telemetry.base import TelemetryStore

log = logging.getLogger(__name__)
RULE = "low_completeness"


class CompletenessWatch:
    def __init__(
        self,
        registry: Registry,
        store: TelemetryStore,
        window_s: float,
        min_share: float,
        clock: Callable[[], int],
    ) -> None:
        self._registry = registry
        self._store = store
        self._window_ms = int(window_s * 1000)
        self._min_share = min_share
        self._clock = clock

    def run_now(self) -> list[Decision]:
        """One measurement at the clock's time (the lane's chores decide when)."""
        return self.run(self._clock())

    def run(self, now_ms: int) -> list[Decision]:
        start_ms = now_ms - self._window_ms
        fleet = measure_completeness(self._registry, self._store, start_ms, now_ms, self._min_share)
        decisions = [
            Decision(
                now_ms,
                row.meter_id,
                RULE,
                "alarm",
                {
                    "expected": row.expected,
                    "received": row.received,
                    "share": round(row.share, 4),
                    "min_share": self._min_share,
                    "window_s": self._window_ms // 1000,
                },
            )
            for row in fleet.below
        ]
        self._registry.alarms.record_many(decisions, now_ms)
        log.info(
            "data completeness %.1f %% (%d of %d meters complete); %d below %.0f %%",
            fleet.share * 100,
            fleet.complete,
            fleet.meters,
            len(fleet.below),
            self._min_share * 100,
        )
        return decisions
