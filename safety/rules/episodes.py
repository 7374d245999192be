"""Helpers shared by the rules: one decision per episode."""

from __future__ import annotations

from typing import Any

from safety.domain import Action, Decision
from safety.state import MeterState


def fire(
    state: MeterState, rule: str, ts_ms: int, meter_id: str, action: Action, detail: dict[str, Any]
) -> Decision | None:
    """A decision, unless this rule's episode already fired for the meter."""
    if rule in state.open_rules:
        return None
    state.open_rules.add(rule)
    return Decision(ts_ms=ts_ms, meter_id=meter_id, rule=rule, action=action, detail=detail)


def end_episode(state: MeterState, rule: str) -> None:
    state.open_rules.discard(rule)


def held(since_ms: int | None, now_ms: int, hold_s: float) -> bool:
    return since_ms is not None and now_ms - since_ms >= hold_s * 1000
