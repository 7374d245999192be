"""``prolonged_use``: flow has stayed at or above a band's lower edge, without a break,
for longer than that band's limit (an appliance left on). The register must back it."""

from __future__ import annotations

from safety.config import RulesConfig
from safety.domain import Decision, MeterProfile
from safety.flow import FlowSample, register_flow_m3h
from safety.rules.episodes import end_episode, fire
from safety.state import MeterState

RULE_ID = "prolonged_use"


def bands(config: RulesConfig, category: str) -> list[list[float]]:
    return getattr(config.prolonged_use, category, config.prolonged_use.residential)


def evaluate(
    state: MeterState, sample: FlowSample, profile: MeterProfile, config: RulesConfig
) -> Decision | None:
    table = bands(config, profile.category)
    if sample.flow_m3h < table[0][0]:  # below the lowest edge (config keeps edges ascending)
        if state.prolonged_since:
            state.prolonged_since = []  # nothing running
        end_episode(state, RULE_ID)
        return None
    if len(state.prolonged_since) != len(table):
        state.prolonged_since = [None] * len(table)
    decision = None
    for index, (edge, limit_s) in enumerate(table):
        since = state.prolonged_since[index]
        if sample.flow_m3h < edge:
            state.prolonged_since[index] = None
            continue
        if since is None:
            state.prolonged_since[index] = (sample.ts_ms, sample.volume_m3)
            continue
        since_ts, since_volume = since
        if decision is None and sample.ts_ms - since_ts > limit_s * 1000:
            backed = register_flow_m3h(since_volume, sample.volume_m3, since_ts, sample.ts_ms)
            if backed >= edge * config.data_quality.register_backing_ratio:
                detail = {
                    "band_m3h": edge,
                    "limit_s": limit_s,
                    "held_s": (sample.ts_ms - since_ts) / 1000,
                    "flow_m3h": sample.flow_m3h,
                }
                decision = fire(
                    state,
                    RULE_ID,
                    sample.ts_ms,
                    profile.meter_id,
                    config.prolonged_use.action,
                    detail,
                )
    if all(since is None for since in state.prolonged_since):
        end_episode(state, RULE_ID)
    return decision
