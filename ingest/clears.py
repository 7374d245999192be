"""Clears of alarms, carried to the safety engine.

An operator clears an alarm through the API (another process), or gasguard clears one
itself (an ``offline`` alarm whose meter was heard again); the registry records it. The
ingester polls for alarms cleared since its cursor whose (meter, rule) has no open alarm,
and ends that rule's episode in the engine, so the rule can fire again: if the condition
persists, a new alarm opens at the next reading.

Each cleared alarm reaches the engine once. The cursor is the newest clear time read; each
poll reads back ``settle_s`` before it (a clear committed late by another process may carry
an earlier time) and skips the alarms it has already applied, which it remembers for as
long as they can be read again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ingest.log_burst import log_burst
from meters.registry import Registry
from meters.views import SAFETY_ACTOR
from safety.engine import SafetyEngine

log = logging.getLogger(__name__)


class OperatorClears:
    def __init__(
        self,
        registry: Registry,
        engine: SafetyEngine,
        lookback_s: float,
        clock: Callable[[], int],
        owns: Callable[[str], bool] = lambda _meter_id: True,
        settle_s: float = 30.0,
    ) -> None:
        self._owns = owns
        self._registry = registry
        self._engine = engine
        self._cursor_ms = clock() - int(lookback_s * 1000)
        self._settle_ms = int(settle_s * 1000)
        self._applied: dict[int, int] = {}  # alarm id -> its clear time, while re-readable

    def apply(self) -> int:
        """One poll (a lane chore: ingest.chores); how many clears reached the engine. A
        registry failure (``MetersError``) leaves the cursor where it was."""
        cleared = self._registry.alarms.cleared_since(self._cursor_ms - self._settle_ms)
        fresh = [alarm for alarm in cleared if alarm.alarm_id not in self._applied]
        if cleared:
            self._cursor_ms = max(self._cursor_ms, max(alarm.cleared_ms for alarm in cleared))
        horizon_ms = self._cursor_ms - self._settle_ms
        self._applied = {i: ms for i, ms in self._applied.items() if ms >= horizon_ms}
        mine = []
        for alarm in fresh:
            self._applied[alarm.alarm_id] = alarm.cleared_ms
            if self._owns(alarm.meter_id):
                self._engine.clear(alarm.meter_id, alarm.rule)
                mine.append(alarm)
        log_burst(
            log,
            logging.INFO,
            mine,
            lambda a: (
                "alarm %d (%s on %s) cleared %s: the rule may fire again",
                a.alarm_id,
                a.rule,
                a.meter_id,
                _how(a.cleared_by),
            ),
            lambda a: f"{a.rule} cleared {_how(a.cleared_by)}",
            "alarms cleared",
        )
        return len(mine)


def _how(cleared_by: str) -> str:
    return (
        "automatically by gasguard" if cleared_by == SAFETY_ACTOR.username else f"by {cleared_by}"
    )
