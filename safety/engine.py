"""The streaming safety engine: readings and events in, decisions out.

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
from safety.rules import leak_detector, micro_flow, over_flow
from safety.state import MeterState

FLOW_RULES = (over_flow, micro_flow)


class SafetyEngine:
    def __init__(
        self, config: RulesConfig | None = None, profiles: Mapping[str, MeterProfile] | None = None
    ) -> None:
        self.config = config or RulesConfig()
        self._profiles: dict[str, MeterProfile] = dict(profiles or {})
        self._states: dict[str, MeterState] = {}

    def set_profile(self, profile: MeterProfile) -> None:
        self._profiles[profile.meter_id] = profile

    def profile(self, meter_id: str) -> MeterProfile:
        found = self._profiles.get(meter_id)
        if found is None:
            found = self._profiles[meter_id] = MeterProfile(meter_id=meter_id)
        return found

    def meter_count(self) -> int:
        return len(self._states)

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
        if state.last_ts_ms is not None and reading.ts_ms <= state.last_ts_ms:
            return []
        profile = self.profile(reading.meter_id)
        if self._breaks_continuity(state, reading, profile):
            state.reset_continuity()
            state.last_ts_ms, state.last_volume_m3 = reading.ts_ms, reading.volume_m3
            return []
        sample = flow_sample(reading, state.last_ts_ms, state.last_volume_m3)
        state.last_ts_ms, state.last_volume_m3 = reading.ts_ms, reading.volume_m3
        if reading.valve is not None:
            state.valve = reading.valve
        decisions = []
        for rule in FLOW_RULES:
            decision = rule.evaluate(state, sample, profile, self.config)
            if decision is not None:
                decisions.append(decision)
        return decisions

    def on_event(self, event: MeterEvent) -> list[Decision]:
        state = self._state(event.meter_id)
        decision = leak_detector.evaluate(state, event, self.config)
        return [decision] if decision is not None else []

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
