"""``over_flow``: flow above the meter model's limit for at least ``hold_s``."""

from __future__ import annotations

from safety.config import RulesConfig, model_limits
from safety.domain import Decision, MeterProfile
from safety.flow import FlowSample, register_flow_m3h
from safety.rules.episodes import end_episode, fire, held, is_open
from safety.state import MeterState

RULE_ID = "over_flow"


def evaluate(
    state: MeterState, sample: FlowSample, profile: MeterProfile, config: RulesConfig
) -> Decision | None:
    limit = model_limits(config, profile.model).over_flow_m3h
    if sample.flow_m3h <= limit:
        state.over_since_ts_ms = None
        end_episode(state, RULE_ID)
        return None
    if state.over_since_ts_ms is None:
        state.over_since_ts_ms = sample.ts_ms
        state.over_since_volume_m3 = sample.volume_m3
        return None
    held_ms = sample.ts_ms - state.over_since_ts_ms
    if is_open(state, RULE_ID) or not held(
        state.over_since_ts_ms, sample.ts_ms, config.over_flow.hold_s
    ):
        return None
    backed = register_flow_m3h(
        state.over_since_volume_m3, sample.volume_m3, state.over_since_ts_ms, sample.ts_ms
    )
    if backed < limit * config.data_quality.register_backing_ratio:
        return None
    detail = {
        "flow_m3h": sample.flow_m3h,
        "register_flow_m3h": round(backed, 4),
        "limit_m3h": limit,
        "held_s": held_ms / 1000,
    }
    return fire(state, RULE_ID, sample.ts_ms, profile.meter_id, config.over_flow.action, detail)
