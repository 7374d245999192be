"""Operators' clears, carried to the safety engine.

An operator clears an alarm through the API (another process); the registry records it.
The ingester polls for alarms cleared since its cursor whose (meter, rule) has no open
alarm, and ends that rule's episode in the engine, so the rule can fire again: if the
condition persists, a new alarm opens at the next reading.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

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
    ) -> None:
        self._registry = registry
        self._engine = engine
        self._every_s = every_s
        self._cursor_ms = clock() - int(lookback_s * 1000)
        self._next_poll = 0.0

    def maybe_apply(self) -> int:
        """Poll when due; returns how many clears reached the engine."""
        now = time.monotonic()
        if now < self._next_poll:
            return 0
        self._next_poll = now + self._every_s
        try:
            cleared = self._registry.cleared_since(self._cursor_ms)
        except MetersError as exc:
            log.warning("cannot read cleared alarms (%s); trying again", exc)
            return 0
        for alarm in cleared:
            self._engine.clear(alarm.meter_id, alarm.rule)
            log.info("alarm %s on meter %s cleared by an operator", alarm.rule, alarm.meter_id)
        if cleared:
            self._cursor_ms = max(alarm.cleared_ms for alarm in cleared)
        return len(cleared)
