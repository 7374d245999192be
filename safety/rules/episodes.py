"""Helpers shared by the rules: one decision per episode."""

from __future__ import annotations

from typing import Any

from safety.domain import Action, Decision
from safety.state import MeterState

RULE_IDS = (
    "over_flow",
    "micro_flow",
    "leak_detector",
    "sudden_increase",
    "prolonged_use",
    "no_flow_gap",
    "pressure_low",
    "pressure_high",
    "flow_while_closed",
    "seismic",
    "tamper",
    "low_battery",
    "offline",
    "reopen_flow",
)
RULE_BITS = {rule: 1 << index for index, rule in enumerate(RULE_IDS)}


def is_open(state: MeterState, rule: str) -> bool:
    """This rule's episode fired for the meter and has not ended."""
    return bool(state.open_rules & RULE_BITS[rule])


def open_rule_names(mask: int) -> list[str]:
    return [rule for rule in RULE_IDS if mask & RULE_BITS[rule]]


def open_rules_mask(names: list[str]) -> int:
    mask = 0
    for name in names:
        mask |= RULE_BITS[name]
    return mask


def fire(
    state: MeterState, rule: str, ts_ms: int, meter_id: str, action: Action, detail: dict[str, Any]
) -> Decision | None:
    """A decision, unless this rule's episode already fired for the meter."""
    bit = RULE_BITS[rule]
    if state.open_rules & bit:
        return None
    state.open_rules |= bit
    return Decision(ts_ms=ts_ms, meter_id=meter_id, rule=rule, action=action, detail=detail)


def end_episode(state: MeterState, rule: str) -> None:
    if state.open_rules:
        state.open_rules &= ~RULE_BITS[rule]


def held(since_ms: int | None, now_ms: int, hold_s: float) -> bool:
    return since_ms is not None and now_ms - since_ms >= hold_s * 1000
