"""``micro_flow``: a small flow that has not stopped for ``hold_s`` and is below the ceiling."""

from __future__ import annotations

from safety.config import RulesConfig
from safety.domain import Decision, MeterProfile
from safety.flow import FlowSample, register_flow_m3h
from safety.rules.episodes import end_episode, fire, held, is_open
from safety.state import MeterState

RULE_ID = "micro_flow"


def evaluate(
    state: MeterState, sample: FlowSample, profile: MeterProfile, config: RulesConfig
) -> Decision | None:
    rule = config.micro_flow
    if sample.flow_m3h < rule.floor_m3h:
        state.micro_since_ts_ms = None
        end_episode(state, RULE_ID)
        return None
    if state.micro_since_ts_ms is None:
        state.micro_since_ts_ms = sample.ts_ms
        state.micro_since_volume_m3 = sample.volume_m3
        return None
    if is_open(state, RULE_ID) or sample.flow_m3h >= rule.ceiling_m3h:
        return None
    if not held(state.micro_since_ts_ms, sample.ts_ms, rule.hold_s):
        return None
    held_ms = sample.ts_ms - state.micro_since_ts_ms
    backed = register_flow_m3h(
        state.micro_since_volume_m3, sample.volume_m3, state.micro_since_ts_ms, sample.ts_ms
    )
    if backed < rule.floor_m3h * config.data_quality.register_backing_ratio:
        return None
    action = rule.action.get(profile.category, "shutoff")
    detail = {
        "flow_m3h": sample.flow_m3h,
        "register_flow_m3h": round(backed, 5),
        "held_s": held_ms / 1000,
    }
    return fire(state, RULE_ID, sample.ts_ms, profile.meter_id, action, detail)
