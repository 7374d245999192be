"""``no_flow_gap``: no window of at least an hour without flow in the last 30 days (gas
that never stops: a leak behind the meter, or an appliance never off).

A window counts when flow stayed below ``zero_below_m3h`` for ``gap_s``, or when the
register did not move across a silence of that length.
"""

from __future__ import annotations

from safety.config import RulesConfig
from safety.domain import Decision, MeterProfile, Reading
from safety.flow import FlowSample
from safety.rules.episodes import end_episode, fire
from safety.state import MeterState

RULE_ID = "no_flow_gap"


def silent_gap(
    state: MeterState, previous: tuple[int, float], now: Reading | FlowSample, config: RulesConfig
) -> None:
    """A silence of at least ``gap_s`` across which the register did not move was a window
    without flow."""
    prev_ts, prev_volume = previous
    if now.ts_ms - prev_ts >= config.no_flow_gap.gap_s * 1000 and now.volume_m3 - prev_volume <= 0:
        state.last_gap_ts_ms = now.ts_ms


def evaluate(
    state: MeterState,
    sample: FlowSample,
    previous: tuple[int, float] | None,
    profile: MeterProfile,
    config: RulesConfig,
) -> Decision | None:
    rule = config.no_flow_gap
    gap_ms = rule.gap_s * 1000
    if previous is not None:
        silent_gap(state, previous, sample, config)
    if sample.flow_m3h < rule.zero_below_m3h:
        if state.zero_run_start_ms is None:
            state.zero_run_start_ms = sample.ts_ms  # conservative: a gap must be seen whole
        if sample.ts_ms - state.zero_run_start_ms >= gap_ms:
            state.last_gap_ts_ms = sample.ts_ms
    else:
        state.zero_run_start_ms = None
    if (
        state.last_gap_ts_ms is not None
        and sample.ts_ms - state.last_gap_ts_ms < rule.period_s * 1000
    ):
        end_episode(state, RULE_ID)
        return None
    reference = state.last_gap_ts_ms if state.last_gap_ts_ms is not None else state.first_ts_ms
    if reference is None or sample.ts_ms - reference < rule.period_s * 1000:
        return None
    detail = {
        "days_without_gap": round((sample.ts_ms - reference) / 86_400_000, 1),
        "gap_s": rule.gap_s,
    }
    return fire(state, RULE_ID, sample.ts_ms, profile.meter_id, rule.action, detail)
