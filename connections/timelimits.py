"""Legal time limits of connection applications (报装), per city. Pure: time passed in.

Guangzhou counts natural days from the application to gas-on: 3 without external works,
5 for class A (at most 200 m of external pipe, no effect on other users), 8 for class B.
Lingbao counts working days and leaves out time the utility does not control (design,
construction, administrative approval: the application's pauses): 1 working day without
external works (same day or next day), 2 otherwise. Other cities are configured the same
way. A share of the budget (default 80 %) used raises a warning; all of it, overdue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from connections.workdays import WorkCalendar

DAY_MS = 86_400_000
LOCAL = dt.timezone(dt.timedelta(hours=8))  # China Standard Time, no daylight saving

Unit = Literal["natural", "working"]
# external-works categories: none, A (at most 200 m of external pipe, no effect on other
# users), B (the rest). Every policy has a budget for each.
Category = Literal["none", "A", "B"]
CATEGORIES: tuple[Category, ...] = ("none", "A", "B")
State = Literal["on_time", "warning", "overdue", "done_in_time", "done_late"]


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    unit: Unit
    days: dict[str, float]  # budget per external-works category
    warn_share: float = 0.8
    excludes_pauses: bool = False  # time outside the utility's control does not count


GUANGZHOU = Policy("guangzhou", "natural", {"none": 3, "A": 5, "B": 8})
LINGBAO = Policy("lingbao", "working", {"none": 1, "A": 2, "B": 2}, excludes_pauses=True)
BUILT_IN = {policy.name: policy for policy in (GUANGZHOU, LINGBAO)}


@dataclass(frozen=True, slots=True)
class Pause:
    """Time outside the utility's control (design, construction, approval)."""

    start_ms: int
    end_ms: int | None  # None: still paused
    reason: str


@dataclass(frozen=True, slots=True)
class TimeStatus:
    used_days: float
    budget_days: float
    left_days: float
    share: float
    state: State
    unit: Unit


def _merged(pauses: list[Pause], end_ms: int) -> list[tuple[int, int]]:
    spans = sorted((p.start_ms, min(p.end_ms or end_ms, end_ms)) for p in pauses)
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _counted_spans(
    start_ms: int, end_ms: int, pauses: list[Pause], excludes_pauses: bool
) -> list[tuple[int, int]]:
    """[start, end) without the paused spans (when the policy leaves them out)."""
    if not excludes_pauses:
        return [(start_ms, end_ms)]
    spans, cursor = [], start_ms
    for pause_start, pause_end in _merged(pauses, end_ms):
        if pause_end <= cursor:
            continue
        if pause_start > cursor:
            spans.append((cursor, min(pause_start, end_ms)))
        cursor = max(cursor, pause_end)
    if cursor < end_ms:
        spans.append((cursor, end_ms))
    return spans


def _local_midnight_ms(ms: int) -> int:
    local = dt.datetime.fromtimestamp(ms / 1000, LOCAL)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return int(midnight.timestamp() * 1000)


def _working_ms(start_ms: int, end_ms: int, calendar: WorkCalendar) -> int:
    """Milliseconds of [start, end) that fall on working days (local time)."""
    total, day_start = 0, _local_midnight_ms(start_ms)
    while day_start < end_ms:
        day_end = day_start + DAY_MS
        date = dt.datetime.fromtimestamp(day_start / 1000, LOCAL).date()
        if calendar.is_workday(date):
            total += max(0, min(day_end, end_ms) - max(day_start, start_ms))
        day_start = day_end
    return total


def used_days(
    policy: Policy,
    calendar: WorkCalendar,
    start_ms: int,
    end_ms: int,
    pauses: list[Pause],
) -> float:
    """Days of the budget used between ``start_ms`` and ``end_ms``."""
    spans = _counted_spans(start_ms, end_ms, pauses, policy.excludes_pauses)
    if policy.unit == "natural":
        counted = sum(end - start for start, end in spans)
    else:
        counted = sum(_working_ms(start, end, calendar) for start, end in spans)
    return counted / DAY_MS


def time_status(
    policy: Policy,
    calendar: WorkCalendar,
    category: str,
    start_ms: int,
    done_ms: int | None,
    pauses: list[Pause],
    now_ms: int,
) -> TimeStatus:
    """Where an application stands against its budget: running (on time, warning,
    overdue) or finished (in time, late)."""
    budget = policy.days[category]
    used = used_days(policy, calendar, start_ms, done_ms or now_ms, pauses)
    share = used / budget if budget else 1.0
    state: State
    if done_ms is not None:
        state = "done_in_time" if used <= budget else "done_late"
    elif share >= 1.0:
        state = "overdue"
    elif share >= policy.warn_share:
        state = "warning"
    else:
        state = "on_time"
    return TimeStatus(
        round(used, 3), budget, round(budget - used, 3), round(share, 3), state, policy.unit
    )
