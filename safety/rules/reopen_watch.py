"""``reopen_flow``: after a closed valve opens again (the customer pressed the button on
an armed meter), watch the first ``watch_s``: a flow at or above ``max_flow_m3h``, backed
by the register, means an appliance was left open: close again and raise an alarm.

A reopening is seen from the meter's ``valve_opened`` event or, if that is lost, from its
telemetry going from ``closed`` to ``open``. The register baseline is the reading before
the reopening (a closed valve does not move the register).
"""

from __future__ import annotations

from safety.config import RulesConfig
from safety.domain import Decision, MeterEvent, MeterProfile, Reading
from safety.flow import FlowSample, register_flow_m3h
from safety.rules.episodes import end_episode, fire
from safety.state import MeterState

RULE_ID = "reopen_flow"


def on_event(state: MeterState, event: MeterEvent) -> None:
    if event.event == "valve_opened":
        _reopened(state, event.ts_ms)


def _reopened(state: MeterState, ts_ms: int) -> None:
    state.reopened_since = (ts_ms, state.last_volume_m3)
    end_episode(state, RULE_ID)


def evaluate(
    state: MeterState,
    sample: FlowSample,
    reading: Reading,
    previous_valve: str | None,
    profile: MeterProfile,
    config: RulesConfig,
) -> Decision | None:
    rule = config.reopen_watch
    if reading.valve == "open" and previous_valve == "closed" and state.reopened_since is None:
        _reopened(state, reading.ts_ms)
    since = state.reopened_since
    if since is None:
        return None
    since_ts, since_volume = since
    if sample.ts_ms - since_ts > rule.watch_s * 1000:
        state.reopened_since = None  # the watch is over
        return None
    if sample.flow_m3h < rule.max_flow_m3h:
        return None
    backed = (
        register_flow_m3h(since_volume, sample.volume_m3, since_ts, sample.ts_ms)
        if since_volume is not None and sample.ts_ms > since_ts
        else 0.0
    )
    if backed < rule.max_flow_m3h * config.data_quality.register_backing_ratio:
        return None
    state.reopened_since = None
    detail = {
        "flow_m3h": sample.flow_m3h,
        "register_flow_m3h": round(backed, 4),
        "max_flow_m3h": rule.max_flow_m3h,
        "seconds_after_reopening": (sample.ts_ms - since_ts) / 1000,
    }
    return fire(state, RULE_ID, sample.ts_ms, profile.meter_id, rule.action, detail)
