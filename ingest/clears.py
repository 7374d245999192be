"""Operators' clears, carried to the safety engine.

An operator clears an alarm through the API (another process); the registry records it.
The ingester polls for alarms cleared since its cursor whose (meter, rule) has no open
alarm, and ends that rule's episode in the engine, so the rule can fire again: if the
condition persists, a new alarm opens at the next reading.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ingest.every import Every
from meters.errors import MetersError
from meters.registry import Registry
from safety.engine import SafetyEngine

log = logging.getLogger(__name__)


class OperatorClears:
    def __init__(
        self,
        registry: Registry,
        engine: SafetyEngine,
        every_s: float,
        lookback_s: float,
        clock: Callable[[], int],
        owns: Callable[[str], bool] = lambda _meter_id: True,
    ) -> None:
        self._owns = owns
        self._registry = registry
        self._engine = engine
        self._cadence = Every(every_s)
        self._cursor_ms = clock() - int(lookback_s * 1000)

    def maybe_apply(self) -> int:
        """Poll when due; returns how many clears reached the engine."""
        if not self._cadence.due():
            return 0
        try:
            cleared = self._registry.cleared_since(self._cursor_ms)
        except MetersError as exc:
            log.warning("cannot read cleared alarms (%s); trying again", exc)
            return 0
        if cleared:
            self._cursor_ms = max(alarm.cleared_ms for alarm in cleared)
        mine = [alarm for alarm in cleared if self._owns(alarm.meter_id)]
        for alarm in mine:
            self._engine.clear(alarm.meter_id, alarm.rule)
            log.info("alarm %s on meter %s cleared by an operator", alarm.rule, alarm.meter_id)
        return len(mine)
