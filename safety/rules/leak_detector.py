"""``leak_detector``: the meter's gas detector raised an alarm; shut off at once."""

from __future__ import annotations

from safety.config import RulesConfig
from safety.domain import Decision, MeterEvent
from safety.rules.episodes import end_episode, fire
from safety.state import MeterState

RULE_ID = "leak_detector"


def evaluate(state: MeterState, event: MeterEvent, config: RulesConfig) -> Decision | None:
    if event.event == "detector_clear":
        end_episode(state, RULE_ID)
        return None
    if event.event != "detector_alarm":
        return None
    detail = {"event": event.event}
    return fire(state, RULE_ID, event.ts_ms, event.meter_id, config.leak_detector.action, detail)
