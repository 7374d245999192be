"""The indicator table governments publish for 'getting gas': per policy and category (or
district, or month), the applications that reached gas-on in a period, the stages they
went through, how long each stage and the whole took in natural and working days, the
share within the limit, the city's targets and the national frontier beside them, and
the applications charged a fee the published list does not allow (any fee for the
application or gas-on among them). Pure: the applications and the clock are passed in."""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import asdict, dataclass
from typing import Literal

from connections.applications import ApplicationView
from connections.errors import CalendarMissing
from connections.fees import fee_problems
from connections.policies import pauses_of
from connections.timelimits import (
    DAY_MS,
    Policy,
    elapsed_days,
    local_date,
    measure_ms,
    pause_end,
    time_status,
)
from connections.workdays import WorkCalendar

# How the day columns are counted, whatever the city: natural days from application to
# gas-on; working days without the time outside the utility's control.
NATURAL = Policy("natural days", "natural", {})
WORKING = Policy("working days", "working", {}, excludes_pauses=True)
Grouping = Literal["category", "district", "month"]
ALL = "all"  # the policy's total row
NO_DISTRICT = "-"


@dataclass(frozen=True, slots=True)
class IndicatorRow:
    policy: str
    by: str  # category, district or month
    group: str  # its value (a category, a district, "2026-03"); "all": the policy's total
    stages: int  # stages the applications went through (measured: 1 without a survey)
    completed: int
    within_limit: int
    share_within_limit: float | None
    natural_days_median: float | None
    natural_days_mean: float | None
    natural_days_max: float | None
    working_days_median: float | None
    working_days_mean: float | None
    working_days_max: float | None
    stage_one_days_median: float | None  # application to survey (or to gas-on: one stage)
    stage_one_days_mean: float | None
    stage_one_days_max: float | None
    stage_two_days_median: float | None  # survey to gas-on
    stage_two_days_mean: float | None
    stage_two_days_max: float | None
    fees_charged: tuple[str, ...]  # application numbers charged a fee the list does not allow
    # Lingbao's own clocks inside the excluded time, reported like stages (policy's unit)
    approval_days_median: float | None  # administrative approvals
    approval_days_max: float | None
    construction_days_median: float | None  # external works
    construction_days_max: float | None
    pauses_over_limit: int  # applications with a pause longer than its reason's maximum
    target_stages: float | None  # the city's targets and the national frontier, as
    target_days: float | None  # configured (the Lingbao comparison table's columns)
    frontier_stages: float | None
    frontier_days: float | None


def _stats(values: list[float | None]) -> tuple[float | None, float | None, float | None]:
    known = [v for v in values if v is not None]
    if not known:
        return None, None, None
    return (
        round(statistics.median(known), 2),
        round(statistics.fmean(known), 2),
        round(max(known), 2),
    )


def _median_max(values: list[float | None]) -> tuple[float | None, float | None]:
    median, _mean, largest = _stats(values)
    return median, largest


def _days(policy: Policy, calendar: WorkCalendar, app: ApplicationView) -> float | None:
    """Application to gas-on in the policy's unit; None when the calendar of a year it
    needs is missing (the row's statistics leave it out)."""
    assert app.gas_on_ms is not None
    try:
        return elapsed_days(policy, calendar, app.submitted_ms, app.gas_on_ms, pauses_of(app))
    except CalendarMissing:
        return None


@dataclass(frozen=True, slots=True)
class _Measured:
    """One finished application and its day counts, computed once for every group."""

    app: ApplicationView
    within: bool
    natural: float | None
    working: float | None
    stages: int
    stage_one: float  # natural days
    stage_two: float | None
    wrong_fees: bool  # a fee the published list does not allow
    approval: float | None  # days in administrative approval, in the policy's unit
    construction: float | None  # days in external works
    over_limit: bool  # a pause longer than its reason's maximum


def _measure(app: ApplicationView, policy: Policy, calendar: WorkCalendar) -> _Measured:
    assert app.gas_on_ms is not None
    status = time_status(
        policy,
        calendar,
        app.category,
        app.submitted_ms,
        app.gas_on_ms,
        pauses_of(app),
        app.gas_on_ms,
    )
    surveyed = (
        app.surveyed_ms if app.surveyed_ms is not None and app.surveyed_ms < app.gas_on_ms else None
    )
    stage_one_end = app.gas_on_ms if surveyed is None else surveyed
    return _Measured(
        app,
        status.state == "done_in_time",
        _days(NATURAL, calendar, app),
        _days(WORKING, calendar, app),
        1 if surveyed is None else 2,
        round((stage_one_end - app.submitted_ms) / DAY_MS, 3),
        None if surveyed is None else round((app.gas_on_ms - surveyed) / DAY_MS, 3),
        bool(fee_problems(policy.fee_list, app.charges())),
        _paused_days(policy, calendar, app, "administrative_approval"),
        _paused_days(policy, calendar, app, "construction"),
        bool(status.pauses_over_limit),
    )


def _paused_days(
    policy: Policy, calendar: WorkCalendar, app: ApplicationView, reason: str
) -> float | None:
    """Days the application spent paused for ``reason``, in the policy's unit; None when
    it never was (or a year's holiday schedule is missing)."""
    assert app.gas_on_ms is not None
    spans = [p for p in pauses_of(app) if p.reason == reason]
    if not spans:
        return None
    try:
        total = sum(
            measure_ms(policy, calendar, p.start_ms, pause_end(p, app.gas_on_ms)) for p in spans
        )
    except CalendarMissing:
        return None
    return round(total / DAY_MS, 3)


def _group_of(app: ApplicationView, by: Grouping) -> str:
    if by == "district":
        return app.district or NO_DISTRICT
    if by == "month":
        assert app.gas_on_ms is not None
        return local_date(app.gas_on_ms).strftime("%Y-%m")
    return app.category


def indicator_rows(
    applications: list[ApplicationView],
    policies: dict[str, Policy],
    calendar: WorkCalendar,
    start_ms: int,
    end_ms: int,
    by: Grouping = "category",
) -> list[IndicatorRow]:
    """One row per (policy, category / district / month of gas-on) with gas-on in
    [start, end), and one per policy ("all")."""
    groups: dict[tuple[str, str], list[_Measured]] = {}
    for app in applications:
        if app.gas_on_ms is None or not start_ms <= app.gas_on_ms < end_ms:
            continue
        measured = _measure(app, policies[app.policy], calendar)
        groups.setdefault((app.policy, _group_of(app, by)), []).append(measured)
        groups.setdefault((app.policy, ALL), []).append(measured)
    return [
        _row(policies[name], by, group, members)
        for (name, group), members in sorted(groups.items())
    ]


def _row(policy: Policy, by: str, group: str, members: list[_Measured]) -> IndicatorRow:
    within = sum(m.within for m in members)
    natural = _stats([m.natural for m in members])
    working = _stats([m.working for m in members])
    one = _stats([m.stage_one for m in members])
    two = _stats([m.stage_two for m in members])
    return IndicatorRow(
        policy.name,
        by,
        group,
        max(m.stages for m in members),
        len(members),
        within,
        round(within / len(members), 3),
        *natural,
        *working,
        *one,
        *two,
        tuple(m.app.number for m in members if m.wrong_fees),
        *_median_max([m.approval for m in members]),
        *_median_max([m.construction for m in members]),
        sum(m.over_limit for m in members),
        policy.targets.get("stages"),
        policy.targets.get("days"),
        policy.frontier.get("stages"),
        policy.frontier.get("days"),
    )


def to_csv(rows: list[IndicatorRow]) -> str:
    out = io.StringIO()
    fields = list(IndicatorRow.__dataclass_fields__)
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        values = asdict(row)
        values["fees_charged"] = " ".join(row.fees_charged)
        writer.writerow(values)
    return out.getvalue()
