"""``low_battery``: battery below the threshold; re-armed once it is back above
``rearm_at_pct`` (a new battery), so a level wobbling around 20 % alarms once."""

from __future__ import annotations

from safety.config import RulesConfig
from safety.domain import Decision, MeterProfile, Reading
from safety.rules.episodes import end_episode, fire
from safety.state import MeterState

RULE_ID = "low_battery"


def evaluate(
    state: MeterState, reading: Reading, profile: MeterProfile, config: RulesConfig
) -> Decision | None:
    battery = reading.battery_pct
    rule = config.low_battery
    if battery is None:
        return None
    if battery >= rule.rearm_at_pct:
        end_episode(state, RULE_ID)
        return None
    if battery >= rule.below_pct:
        return None
    return fire(
        state, RULE_ID, reading.ts_ms, profile.meter_id, rule.action, {"battery_pct": battery}
    )
