"""``leak_detector``: the meter's gas detector raised an alarm; shut off at once."""

from __future__ import annotations

from safety.config import RulesConfig
from safety.domain import Decision, MeterEvent
from safety.state import MeterState

RULE_ID = "leak_detector"


def evaluate(state: MeterState, event: MeterEvent, config: RulesConfig) -> Decision | None:
    if event.event == "detector_clear":
        state.open_rules.discard(RULE_ID)
        return None
    if event.event != "detector_alarm" or RULE_ID in state.open_rules:
        return None
    state.open_rules.add(RULE_ID)
    return Decision(
        ts_ms=event.ts_ms,
        meter_id=event.meter_id,
        rule=RULE_ID,
        action=config.leak_detector.action,
        detail={"event": event.event},
    )
