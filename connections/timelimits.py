"""Legal time limits of connection applications (报装), per city, counted as Chinese law
counts periods. Pure: the calendar and the time are passed in.

A policy gives each external-works category (none; A: at most 200 m of external pipe and
no effect on other users; B: the rest) a number of whole days, natural or working, and
says from which day they count:

* **Natural days** (Guangzhou): the day of acceptance is not counted, counting starts the
  next day (Civil Code art. 201), and the period ends at 24:00 of its last day (art. 203).
  Accepted Monday 17:00 with 3 days: Tuesday, Wednesday, Thursday; deadline Thursday 24:00.
* **Working days** (Lingbao, "从受理申请当日起"): the day of acceptance is day 1 when it is a
  working day and the application was accepted within the utility's business hours;
  otherwise day 1 is the next working day. Holidays and make-up working days (调休) come
  from the calendar (``connections.workdays``); a year without a schedule gives
  ``calendar_missing`` instead of a guess.
* ``holiday_extends``: a last day that is a rest day moves to the next working day (art.
  203, "期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日"); a policy
  option, off for both built-in cities (Guangzhou's plan counts natural days, 自然日).

Time left out (``excludes_pauses``: design, drawings review, construction, administrative
approvals, the time the utility does not control) **moves the deadline by that time, in
the policy's unit**: a pause of natural time moves a natural-day deadline by the same
time; for working days, by the working-day time inside the pause (a pause over a weekend
moves nothing). Only time after counting started is left out, and a pause that begins
after the deadline (as moved by the pauses before it) moves nothing: an application
already late does not become on time by being paused.

Days used and left are measured in the policy's unit between the start of counting (00:00
of day 1) and the deadline; a record is ``warning`` when ``warn_share`` of its days are
used, ``overdue`` after the deadline, and when finished ``done_in_time`` (at or before the
deadline) or ``done_late``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from connections.errors import CalendarMissing
from connections.guide import ServiceGuide
from connections.pauses import max_days
from connections.workdays import WorkCalendar
from contract.local_time import CHINA as LOCAL  # China Standard Time, no daylight saving

DAY_MS = 86_400_000

Unit = Literal["natural", "working"]
Category = Literal["none", "A", "B"]
CATEGORIES: tuple[Category, ...] = ("none", "A", "B")
DEFAULT_STAGE_NAMES = ("用气报装", "验收通气")  # Guangzhou's words, and the default
State = Literal["on_time", "warning", "overdue", "done_in_time", "done_late", "calendar_missing"]


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    unit: Unit
    days: dict[str, int]  # whole days per external-works category
    warn_share: float = 0.8
    excludes_pauses: bool = False  # time outside the utility's control moves the deadline
    counts_acceptance_day: bool = False  # day 1 is the day of acceptance (if it counts)
    business_day_ends: dt.time | None = None  # accepted later: counting starts a day later
    holiday_extends: bool = False  # a last day on a rest day moves to the next working day
    rule: str = ""  # how the policy's own text states the count
    # the longest a pause of each reason may be left out, in the policy's unit; reasons not
    # given: connections.pauses.DEFAULT_MAX_DAYS
    pause_max_days: dict[str, int] = field(default_factory=dict)
    # the published fee list (明码标价): item -> price in yuan; nothing off it is charged,
    # and application and gas-on are free (connections.fees)
    fee_list: dict[str, float] = field(default_factory=dict)
    # the indicator table's comparison columns: {"stages": n, "days": d}
    targets: dict[str, float] = field(default_factory=dict)
    frontier: dict[str, float] = field(default_factory=dict)
    # the two stages as the city names them (shown to staff and applicants), and each
    # stage's own limit in whole days of the unit per category: stage one from the
    # acceptance to the survey, stage two from the survey to gas-on ({"one": {"none": 1,
    # ...}, "two": {...}}; a stage or category left out has no limit of its own)
    stage_names: tuple[str, str] = DEFAULT_STAGE_NAMES
    stage_days: dict[str, dict[str, int]] = field(default_factory=dict)
    guide: ServiceGuide = field(default_factory=ServiceGuide)


GUANGZHOU = Policy(
    "guangzhou",
    "natural",
    {"none": 3, "A": 5, "B": 8},
    rule="自然日：受理当日不计入，自次日起算，期限最后一日24:00届满（民法典第201、203条）",
    # the plan gives the total only ("用气接入总时间"): gasguard's split gives 用气报装
    # (acceptance and survey) the first day and 验收通气 the rest (docs/connections.md)
    stage_days={"one": {"none": 1, "A": 1, "B": 1}, "two": {"none": 2, "A": 4, "B": 7}},
)
LINGBAO = Policy(
    "lingbao",
    "working",
    {"none": 2, "A": 2, "B": 2},
    excludes_pauses=True,
    counts_acceptance_day=True,
    stage_names=("受理勘查", "验收开通"),
    # "当日受理、次日开通": 受理勘查 on the day of acceptance (day 1), 验收开通 by the next
    # working day (stage two counts from the survey's day as day 1: 2 working days)
    stage_days={"one": {"none": 1, "A": 1, "B": 1}, "two": {"none": 2, "A": 2, "B": 2}},
    business_day_ends=dt.time(17, 30),
    rule=(
        "工作日：从受理申请当日起计算（办公时间后或休息日受理的，自下一个工作日起算）；"
        "设计、图纸审查、施工、行政审批等非供气企业可控时间不计入"
    ),
)
BUILT_IN = {policy.name: policy for policy in (GUANGZHOU, LINGBAO)}


@dataclass(frozen=True, slots=True)
class Pause:
    """Time outside the utility's control (design, construction, approval)."""

    start_ms: int
    end_ms: int | None  # None: still paused
    reason: str
    clock_from_ms: int | None = None  # where its maximum starts counting (None: its start)


@dataclass(frozen=True, slots=True)
class TimeStatus:
    state: State
    unit: Unit
    budget_days: int
    used_days: float | None  # None: calendar missing
    left_days: float | None
    share: float | None
    deadline_ms: int | None
    deadline: str | None  # ISO 8601, +08:00, "24:00" for the end of a day
    counted_from: str | None  # day 1, ISO date
    missing_year: int | None = None  # the year whose holiday schedule is needed
    pauses_over_limit: tuple[str, ...] = ()  # reasons of pauses longer than their maximum


def local_date(ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(ms / 1000, LOCAL).date()


def day_start_ms(day: dt.date) -> int:
    """00:00 of ``day``, local time, as epoch milliseconds."""
    return int(dt.datetime.combine(day, dt.time(), LOCAL).timestamp() * 1000)


def iso_local(ms: int) -> str:
    """ISO 8601 at +08:00; an instant at midnight is written as 24:00 of the day before, as
    the law states the end of a period."""
    local = dt.datetime.fromtimestamp(ms / 1000, LOCAL)
    if local.time() == dt.time():
        return f"{(local.date() - dt.timedelta(days=1)).isoformat()}T24:00:00+08:00"
    return local.isoformat(timespec="seconds")


def first_day(policy: Policy, calendar: WorkCalendar, accepted_ms: int) -> dt.date:
    """Day 1 of the period."""
    accepted = dt.datetime.fromtimestamp(accepted_ms / 1000, LOCAL)
    day = accepted.date()
    if policy.business_day_ends is not None and accepted.time() >= policy.business_day_ends:
        day += dt.timedelta(days=1)  # after hours: as if accepted the next day
    day = _counting_day(policy, calendar, day)  # on a rest day: the next working day
    if not policy.counts_acceptance_day:
        day = _counting_day(policy, calendar, day + dt.timedelta(days=1))
    return day


def _counting_day(policy: Policy, calendar: WorkCalendar, day: dt.date) -> dt.date:
    """``day``, or for working days the first working day from it."""
    if policy.unit == "working":
        while not calendar.is_workday(day):
            day += dt.timedelta(days=1)
    return day


def last_day(policy: Policy, calendar: WorkCalendar, first: dt.date, days: int) -> dt.date:
    """Day ``days`` of the period that starts on ``first`` (day 1)."""
    day = first
    if policy.unit == "natural":
        day = first + dt.timedelta(days=days - 1)
        if policy.holiday_extends:
            while not calendar.is_workday(day):
                day += dt.timedelta(days=1)
        return day
    counted = 1
    while counted < days:
        day += dt.timedelta(days=1)
        if calendar.is_workday(day):
            counted += 1
    return day


def measure_ms(policy: Policy, calendar: WorkCalendar, start_ms: int, end_ms: int) -> int:
    """The time of [start, end) in the policy's unit: all of it for natural days, the part
    on working days for working days; negative when ``end`` is before ``start``."""
    if end_ms < start_ms:
        return -measure_ms(policy, calendar, end_ms, start_ms)
    if policy.unit == "natural":
        return end_ms - start_ms
    total, day = 0, local_date(start_ms)
    while (day_start := day_start_ms(day)) < end_ms:
        if calendar.is_workday(day):
            total += min(day_start + DAY_MS, end_ms) - max(day_start, start_ms)
        day += dt.timedelta(days=1)
    return total


def advance_ms(policy: Policy, calendar: WorkCalendar, from_ms: int, amount_ms: int) -> int:
    """The instant ``amount_ms`` of the policy's time after ``from_ms``."""
    if policy.unit == "natural" or amount_ms <= 0:
        return from_ms + max(0, amount_ms)
    cursor, day = from_ms, local_date(from_ms)
    while True:
        day_end = day_start_ms(day) + DAY_MS
        if calendar.is_workday(day):
            if amount_ms <= day_end - cursor:
                return cursor + amount_ms
            amount_ms -= day_end - cursor
        cursor, day = day_end, day + dt.timedelta(days=1)


def pause_end(pause: Pause, end_ms: int) -> int:
    """The pause's end as seen at ``end_ms``: an open one lasts until then."""
    return min(pause.end_ms or end_ms, end_ms)


def limit_ms(policy: Policy, calendar: WorkCalendar, pause: Pause, end_ms: int) -> int:
    """Where the pause stops being left out: its end (an open one: ``end_ms``), or the
    moment its reason's maximum is reached (counted from ``clock_from_ms`` when the
    maximum starts later than the pause), whichever comes first."""
    end = pause_end(pause, end_ms)
    days = max_days(policy.pause_max_days, pause.reason)
    if days is None:
        return end
    clock_from = max(pause.start_ms, pause.clock_from_ms or pause.start_ms)
    return min(end, advance_ms(policy, calendar, clock_from, days * DAY_MS))


def over_limit(
    policy: Policy, calendar: WorkCalendar, pauses: list[Pause], end_ms: int
) -> tuple[str, ...]:
    """The reasons of the pauses that have lasted longer than their maximum by ``end_ms``."""
    return tuple(
        pause.reason
        for pause in pauses
        if limit_ms(policy, calendar, pause, end_ms) < pause_end(pause, end_ms)
    )


def merged(spans_in: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans as disjoint [start, end) spans, in order."""
    spans = sorted(spans_in)
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if end <= start:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def left_out(
    policy: Policy, calendar: WorkCalendar, pauses: list[Pause], end_ms: int
) -> list[tuple[int, int]]:
    """The time the pauses leave out, up to ``end_ms`` and each reason's maximum, as
    disjoint spans."""
    return merged([(p.start_ms, limit_ms(policy, calendar, p, end_ms)) for p in pauses])


def period(
    policy: Policy,
    calendar: WorkCalendar,
    days: int,
    accepted_ms: int,
    pauses: list[Pause],
    until_ms: int,
) -> tuple[int, int]:
    """(start of counting, deadline) as epoch milliseconds, with the pauses up to
    ``until_ms`` (now, or the time the application finished) left out when the policy
    leaves them out."""
    first = first_day(policy, calendar, accepted_ms)
    start = day_start_ms(first)
    deadline = day_start_ms(last_day(policy, calendar, first, days)) + DAY_MS
    if policy.excludes_pauses:
        for span_start, span_end in left_out(policy, calendar, pauses, until_ms):
            span_start = max(span_start, start)
            if span_start >= deadline or span_end <= span_start:
                continue
            moved = measure_ms(policy, calendar, span_start, span_end)
            deadline = advance_ms(policy, calendar, deadline, moved)
    return start, deadline


def time_status(
    policy: Policy,
    calendar: WorkCalendar,
    category: str,
    accepted_ms: int,
    done_ms: int | None,
    pauses: list[Pause],
    now_ms: int,
) -> TimeStatus:
    """Where an application stands against its deadline: running (on time, warning,
    overdue) or finished (in time, late); ``calendar_missing`` when a working day of a
    year without a holiday schedule would be needed."""
    budget = policy.days[category]
    end = done_ms if done_ms is not None else now_ms
    try:
        start, deadline = period(policy, calendar, budget, accepted_ms, pauses, end)
        left = measure_ms(policy, calendar, max(end, start), deadline) / DAY_MS
    except CalendarMissing as exc:
        return TimeStatus(
            "calendar_missing", policy.unit, budget, None, None, None, None, None, None, exc.year
        )
    used = budget - left
    share = used / budget if budget else 1.0
    state: State
    if done_ms is not None:
        state = "done_in_time" if done_ms <= deadline else "done_late"
    elif now_ms > deadline:
        state = "overdue"
    elif share >= policy.warn_share:
        state = "warning"
    else:
        state = "on_time"
    return TimeStatus(
        state,
        policy.unit,
        budget,
        round(used, 3),
        round(left, 3),
        round(share, 3),
        deadline,
        iso_local(deadline),
        local_date(start).isoformat(),
        pauses_over_limit=over_limit(policy, calendar, pauses, end)
        if policy.excludes_pauses
        else (),
    )


def elapsed_days(
    policy: Policy,
    calendar: WorkCalendar,
    start_ms: int,
    end_ms: int,
    pauses: list[Pause],
) -> float:
    """Days between two instants in the policy's unit, without the pauses when the policy
    leaves them out (the indicator table's day columns)."""
    counted = measure_ms(policy, calendar, start_ms, end_ms)
    if policy.excludes_pauses:
        spans = left_out(policy, calendar, pauses, end_ms)
        counted -= sum(measure_ms(policy, calendar, a, b) for a, b in spans)
    return counted / DAY_MS
