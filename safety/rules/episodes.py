"""Helpers every rule uses: one decision per episode, hold times, register-backed flow.

``out``/``count``: the decisions of the item being evaluated (``rulebook.DECISION`` rows);
the kernel fills in the item and the meter.
"""

from __future__ import annotations

import numpy as np

from safety.jit import compiled
from safety.layout import NO_TS, Record

MS_PER_HOUR = 3_600_000


@compiled
def is_open(s: Record, rule: int) -> bool:
    return (s.open_rules >> rule) & 1 == 1


@compiled
def end_episode(s: Record, rule: int) -> None:
    s.open_rules &= ~(1 << rule)  # non-negative: fits the field whatever its width


@compiled
def fire(
    s: Record,
    rule: int,
    ts: int,
    action: int,
    numbers: tuple[float, ...],
    out: np.ndarray,
    count: np.ndarray,
) -> bool:
    """Emit a decision unless this rule's episode already fired for the meter. ``numbers``
    (floats, as many as the rule declares in ``Rule.numbers``) become its detail."""
    if is_open(s, rule):
        return False
    s.open_rules |= 1 << rule
    row = out[count[0]]
    if len(numbers) > row.x.shape[0]:
        raise ValueError("a rule fired more numbers than a decision row holds")
    row.ts = ts
    row.rule = rule
    row.action = action
    for k in range(row.x.shape[0]):
        row.x[k] = numbers[k] if k < len(numbers) else 0.0
    count[0] += 1
    return True


@compiled
def held(since_ms: int, now_ms: int, hold_ms: float) -> bool:
    return since_ms != NO_TS and now_ms - since_ms >= hold_ms


@compiled
def register_flow(volume_from: float, volume_to: float, ts_from: int, ts_to: int) -> float:
    """Average flow the register shows between two readings (m³/h); 0 for no time."""
    hours = (ts_to - ts_from) / MS_PER_HOUR
    if hours <= 0:
        return 0.0
    return max(volume_to - volume_from, 0.0) / hours
