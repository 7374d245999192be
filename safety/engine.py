"""The streaming safety engine: readings and events in, decisions out. Pure: time is the
inputs' event time and the fleet watermark.

Data-quality guards live here, before any rule sees a reading: a reading older than or
as old as the newest one accepted (out of order, duplicate) is ignored; a register that
went backwards (meter replaced, counter reset) restarts the meter's episodes; a gap
longer than ``max_gap_intervals`` report intervals restarts them too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from safety.config import RulesConfig
from safety.domain import Decision, MeterEvent, MeterProfile, Reading
from safety.flow import flow_sample
from safety.rules import (
    event_rules,
    flow_while_closed,
    leak_detector,
    low_battery,
    micro_flow,
    no_flow_gap,
    over_flow,
    pressure,
    prolonged_use,
    reopen_watch,
    sudden_increase,
)
from safety.rules.episodes import end_episode
from safety.rules.offline import OfflineTracker
from safety.state import MeterState
from safety.watermark import FleetWatermark

FLOW_RULES = (over_flow, micro_flow, sudden_increase, prolonged_use)


class SafetyEngine:
    def __init__(
        self, config: RulesConfig | None = None, profiles: Mapping[str, MeterProfile] | None = None
    ) -> None:
        self.config = config or RulesConfig()
        self._profiles: dict[str, MeterProfile] = dict(profiles or {})
        self._states: dict[str, MeterState] = {}
        self.watermark = FleetWatermark(self.config.offline.watermark_quorum)
        self._offline = OfflineTracker()

    def set_profile(self, profile: MeterProfile) -> None:
        self._profiles[profile.meter_id] = profile

    def profile(self, meter_id: str) -> MeterProfile:
        found = self._profiles.get(meter_id)
        if found is None:
            found = self._profiles[meter_id] = MeterProfile(meter_id=meter_id)
        return found

    def states(self) -> dict[str, MeterState]:
        """Every meter's rule state (for snapshots)."""
        return self._states

    def restore_state(self, meter_id: str, state: MeterState) -> None:
        """Put back a meter's state from a snapshot, with its offline deadline."""
        self._states[meter_id] = state
        self._offline.schedule(state, self.profile(meter_id), self.config)

    def clear(self, meter_id: str, rule: str) -> None:
        """An operator cleared the alarm: the rule may fire again for this meter."""
        end_episode(self._state(meter_id), rule)

    def process(self, items: Iterable[Reading | MeterEvent]) -> list[Decision]:
        decisions: list[Decision] = []
        for item in items:
            if isinstance(item, Reading):
                decisions.extend(self.on_reading(item))
            else:
                decisions.extend(self.on_event(item))
        return decisions

    def on_reading(self, reading: Reading) -> list[Decision]:
        state = self._state(reading.meter_id)
        profile = self.profile(reading.meter_id)
        if self._held_back(state, reading, profile):
            watermark = self.watermark.value or reading.ts_ms
            return self._observe(state, profile, watermark)  # alive, clock not trusted
        decisions = self._evaluate_reading(state, reading, profile)
        due = self._observe(state, profile, reading.ts_ms)
        return decisions + due if due else decisions

    def _held_back(self, state: MeterState, reading: Reading, profile: MeterProfile) -> bool:
        """A reading far ahead of the fleet is held back, unless the meter's last few
        readings agree (its clock really moved): one bad timestamp must not blind it."""
        quality = self.config.data_quality
        watermark = self.watermark.value
        if not self.watermark.established or watermark is None:
            return False
        if reading.ts_ms <= watermark + quality.max_ahead_s * 1000:
            state.future_streak = []
            return False
        gap_ms = quality.max_gap_intervals * profile.report_interval_s * 1000
        if state.last_ts_ms is not None and 0 < reading.ts_ms - state.last_ts_ms <= gap_ms:
            state.future_streak = []  # continuous with the meter's own accepted timeline
            return False
        streak = state.future_streak
        if streak and not 0 < reading.ts_ms - streak[-1] <= gap_ms:
            streak.clear()
        streak.append(reading.ts_ms)
        if len(streak) < quality.clock_shift_readings:
            return True
        state.future_streak = []
        return False

    def on_event(self, event: MeterEvent) -> list[Decision]:
        state = self._state(event.meter_id)
        reopen_watch.on_event(state, event)
        decisions = []
        for rule in (leak_detector, event_rules):
            decision = rule.evaluate(state, event, self.config)
            if decision is not None:
                decisions.append(decision)
        return decisions + self._observe(state, self.profile(event.meter_id), event.ts_ms)

    def _evaluate_reading(
        self, state: MeterState, reading: Reading, profile: MeterProfile
    ) -> list[Decision]:
        if state.last_ts_ms is not None and reading.ts_ms <= state.last_ts_ms:
            return []
        if state.first_ts_ms is None:
            state.first_ts_ms = reading.ts_ms
        previous = (
            (state.last_ts_ms, state.last_volume_m3)
            if state.last_ts_ms is not None and state.last_volume_m3 is not None
            else None
        )
        if self._breaks_continuity(state, reading, profile):
            # A new baseline: no flow rule can judge this reading, the others still can.
            if previous is not None:
                no_flow_gap.silent_gap(state, previous, reading, self.config)
            state.reset_continuity()
            state.last_ts_ms, state.last_volume_m3 = reading.ts_ms, reading.volume_m3
            decisions = [
                flow_while_closed.evaluate(state, reading, profile, self.config),
                low_battery.evaluate(state, reading, profile, self.config),
            ]
            if reading.valve is not None:
                state.valve = reading.valve
            return [d for d in decisions if d is not None]
        sample = flow_sample(reading, state.last_ts_ms, state.last_volume_m3)
        state.last_ts_ms, state.last_volume_m3 = reading.ts_ms, reading.volume_m3
        decisions = [rule.evaluate(state, sample, profile, self.config) for rule in FLOW_RULES]
        decisions.append(
            reopen_watch.evaluate(state, sample, reading, state.valve, profile, self.config)
        )
        decisions.append(no_flow_gap.evaluate(state, sample, previous, profile, self.config))
        decisions.append(flow_while_closed.evaluate(state, reading, profile, self.config))
        decisions.append(low_battery.evaluate(state, reading, profile, self.config))
        decisions.extend(pressure.evaluate(state, reading, profile, self.config))
        if reading.valve is not None:
            state.valve = reading.valve
        return [d for d in decisions if d is not None]

    def _observe(self, state: MeterState, profile: MeterProfile, ts_ms: int) -> list[Decision]:
        """Any message: the meter is alive; the fleet watermark may move; silences end."""
        if state.last_seen_ms is None or ts_ms > state.last_seen_ms:
            state.last_seen_ms = ts_ms
        self._offline.seen(state, profile, self.config)
        self.watermark.observe(profile.meter_id, ts_ms)
        watermark = self.watermark.value
        if watermark is None:
            return []
        return self._offline.due(watermark, self._state, self.profile, self.config)

    def _state(self, meter_id: str) -> MeterState:
        state = self._states.get(meter_id)
        if state is None:
            state = self._states[meter_id] = MeterState()
        return state

    def _breaks_continuity(
        self, state: MeterState, reading: Reading, profile: MeterProfile
    ) -> bool:
        if state.last_ts_ms is None or state.last_volume_m3 is None:
            return True
        if reading.volume_m3 < state.last_volume_m3:
            return True
        max_gap_ms = profile.report_interval_s * 1000 * self.config.data_quality.max_gap_intervals
        return reading.ts_ms - state.last_ts_ms > max_gap_ms
