"""``pressure_low`` (while the valve is open) and ``pressure_high``: line pressure outside
its band for at least ``hold_s``."""

from __future__ import annotations

from safety.config import RulesConfig
from safety.domain import Decision, MeterProfile, Reading
from safety.rules.episodes import end_episode, fire, held
from safety.state import MeterState

LOW, HIGH = "pressure_low", "pressure_high"


def evaluate(
    state: MeterState, reading: Reading, profile: MeterProfile, config: RulesConfig
) -> list[Decision]:
    pressure = reading.pressure_kpa
    if pressure is None:
        return []
    rule = config.pressure
    decisions = []
    valve_open = (reading.valve or state.valve) != "closed"
    if pressure < rule.low_kpa and valve_open:
        state.pressure_low_since_ms = state.pressure_low_since_ms or reading.ts_ms
        if held(state.pressure_low_since_ms, reading.ts_ms, rule.hold_s):
            detail = {"pressure_kpa": pressure, "below_kpa": rule.low_kpa}
            decisions.append(fire(state, LOW, reading.ts_ms, profile.meter_id, rule.action, detail))
    else:
        state.pressure_low_since_ms = None
        end_episode(state, LOW)
    if pressure > rule.high_kpa:
        state.pressure_high_since_ms = state.pressure_high_since_ms or reading.ts_ms
        if held(state.pressure_high_since_ms, reading.ts_ms, rule.hold_s):
            detail = {"pressure_kpa": pressure, "above_kpa": rule.high_kpa}
            decisions.append(
                fire(state, HIGH, reading.ts_ms, profile.meter_id, rule.action, detail)
            )
    else:
        state.pressure_high_since_ms = None
        end_episode(state, HIGH)
    return [d for d in decisions if d is not None]
