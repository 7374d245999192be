"""``sudden_increase``: flow rises by at least the model's step within the window.

A rise is a candidate until the next reading confirms it: the flow is still at least
base + step and the register advanced accordingly since the candidate. A single spiking
sample therefore never shuts a valve; the price is one report interval of delay.
"""

from __future__ import annotations

from safety.config import RulesConfig, model_limits
from safety.domain import Decision, MeterProfile
from safety.flow import FlowSample, register_flow_m3h
from safety.rules.episodes import end_episode, fire
from safety.state import MeterState

RULE_ID = "sudden_increase"


def evaluate(
    state: MeterState, sample: FlowSample, profile: MeterProfile, config: RulesConfig
) -> Decision | None:
    step = model_limits(config, profile.model).sudden_step_m3h
    window_ms = config.sudden_increase.window_s * 1000
    decision = None
    candidate = state.sudden_candidate
    if candidate is not None:
        ts, base, volume = candidate
        state.sudden_candidate = None
        backed = register_flow_m3h(volume, sample.volume_m3, ts, sample.ts_ms)
        confirmed = (
            sample.flow_m3h >= base + step
            and backed >= (base + step) * config.data_quality.register_backing_ratio
        )
        if confirmed:
            detail = {
                "flow_m3h": sample.flow_m3h,
                "from_m3h": base,
                "step_m3h": step,
                "register_flow_m3h": round(backed, 4),
            }
            decision = fire(
                state,
                RULE_ID,
                sample.ts_ms,
                profile.meter_id,
                config.sudden_increase.action,
                detail,
            )
    recent = state.recent_flows  # in time order: only the oldest can leave the window
    cutoff_ms = sample.ts_ms - window_ms
    if recent and recent[0][0] < cutoff_ms:
        recent = [(ts, flow) for ts, flow in recent if ts >= cutoff_ms]
    base_flow = min([flow for _, flow in recent]) if recent else None
    if base_flow is not None and sample.flow_m3h - base_flow >= step and decision is None:
        state.sudden_candidate = (sample.ts_ms, base_flow, sample.volume_m3)
    elif base_flow is not None and sample.flow_m3h - base_flow < step / 2:
        end_episode(state, RULE_ID)
    recent.append((sample.ts_ms, sample.flow_m3h))
    state.recent_flows = recent[-8:] if len(recent) > 8 else recent
    return decision
