"""``offline``: no message from a meter for ``intervals`` report intervals, measured
against the fleet watermark (event time), never the wall clock.

One deadline per meter in a heap; when the watermark passes it, the meter's newest
message decides: still silent -> an alarm (once per silence), else a new deadline.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from safety.config import RulesConfig
from safety.domain import Decision, MeterProfile
from safety.rules.episodes import end_episode, fire
from safety.state import MeterState

RULE_ID = "offline"


class OfflineTracker:
    def __init__(self) -> None:
        self._deadlines: list[tuple[int, str]] = []
        self._scheduled: set[str] = set()

    def seen(self, state: MeterState, profile: MeterProfile, config: RulesConfig) -> None:
        """A message from the meter: end its silence and make sure a deadline is set."""
        self.schedule(state, profile, config)
        end_episode(state, RULE_ID)

    def schedule(self, state: MeterState, profile: MeterProfile, config: RulesConfig) -> None:
        if profile.meter_id not in self._scheduled and state.last_seen_ms is not None:
            self._scheduled.add(profile.meter_id)
            heapq.heappush(
                self._deadlines, (state.last_seen_ms + _limit_ms(profile, config), profile.meter_id)
            )

    def due(
        self,
        watermark_ms: int,
        state_of: Callable[[str], MeterState],
        profile_of: Callable[[str], MeterProfile],
        config: RulesConfig,
    ) -> list[Decision]:
        decisions = []
        while self._deadlines and self._deadlines[0][0] <= watermark_ms:
            _, meter_id = heapq.heappop(self._deadlines)
            state, profile = state_of(meter_id), profile_of(meter_id)
            last = state.last_seen_ms or 0
            deadline = last + _limit_ms(profile, config)
            if deadline > watermark_ms:
                heapq.heappush(self._deadlines, (deadline, meter_id))
                continue
            self._scheduled.discard(meter_id)
            detail = {
                "last_seen_ms": last,
                "silent_s": (watermark_ms - last) / 1000,
                "watermark_ms": watermark_ms,
            }
            decision = fire(state, RULE_ID, watermark_ms, meter_id, config.offline.action, detail)
            if decision is not None:
                decisions.append(decision)
        return decisions


def _limit_ms(profile: MeterProfile, config: RulesConfig) -> int:
    return int(profile.report_interval_s * config.offline.intervals * 1000)
