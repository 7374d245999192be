"""The indicator table governments publish for 'getting gas': per policy and category, the
applications that reached gas-on in a period, how long they took in natural and working
days, the share within the limit, and the applications charged a fee the published list
does not allow (any fee for the application or gas-on among them). Pure: the
applications and the clock are passed in."""

from __future__ import annotations

import csv
import io
import statistics
from dataclasses import asdict, dataclass

from connections.applications import ApplicationView
from connections.errors import CalendarMissing
from connections.fees import fee_problems
from connections.timelimits import Pause, Policy, elapsed_days, time_status
from connections.workdays import WorkCalendar

STAGES = 2  # 用气报装, 验收通气
# How the two day columns are counted, whatever the city: natural days from application to
# gas-on; working days without the time outside the utility's control.
NATURAL = Policy("natural days", "natural", {})
WORKING = Policy("working days", "working", {}, excludes_pauses=True)


@dataclass(frozen=True, slots=True)
class IndicatorRow:
    policy: str
    category: str
    stages: int
    completed: int
    within_limit: int
    share_within_limit: float | None
    natural_days_median: float | None
    natural_days_mean: float | None
    natural_days_max: float | None
    working_days_median: float | None
    working_days_mean: float | None
    working_days_max: float | None
    fees_charged: tuple[str, ...]  # application numbers charged a fee the list does not allow


def _stats(values: list[float]) -> tuple[float | None, float | None, float | None]:
    if not values:
        return None, None, None
    return (
        round(statistics.median(values), 2),
        round(statistics.fmean(values), 2),
        round(max(values), 2),
    )


def _pauses(app: ApplicationView) -> list[Pause]:
    return [Pause(p.start_ms, p.end_ms, p.reason) for p in app.pauses]


def _days(policy: Policy, calendar: WorkCalendar, app: ApplicationView) -> float | None:
    """Application to gas-on in the policy's unit; None when the calendar of a year it
    needs is missing (the row's statistics leave it out)."""
    assert app.gas_on_ms is not None
    try:
        return elapsed_days(policy, calendar, app.submitted_ms, app.gas_on_ms, _pauses(app))
    except CalendarMissing:
        return None


@dataclass(frozen=True, slots=True)
class _Measured:
    """One finished application and its day counts, computed once for every group."""

    app: ApplicationView
    within: bool
    natural: float | None
    working: float | None
    wrong_fees: bool  # a fee the published list does not allow


def _measure(app: ApplicationView, policy: Policy, calendar: WorkCalendar) -> _Measured:
    assert app.gas_on_ms is not None
    status = time_status(
        policy, calendar, app.category, app.submitted_ms, app.gas_on_ms, _pauses(app), app.gas_on_ms
    )
    return _Measured(
        app,
        status.state == "done_in_time",
        _days(NATURAL, calendar, app),
        _days(WORKING, calendar, app),
        bool(fee_problems(policy.fee_list, app.charges())),
    )


def indicator_rows(
    applications: list[ApplicationView],
    policies: dict[str, Policy],
    calendar: WorkCalendar,
    start_ms: int,
    end_ms: int,
) -> list[IndicatorRow]:
    """One row per (policy, category) with gas-on in [start, end), then one per policy."""
    groups: dict[tuple[str, str], list[_Measured]] = {}
    for app in applications:
        if app.gas_on_ms is None or not start_ms <= app.gas_on_ms < end_ms:
            continue
        measured = _measure(app, policies[app.policy], calendar)
        groups.setdefault((app.policy, app.category), []).append(measured)
        groups.setdefault((app.policy, "all"), []).append(measured)
    rows = []
    for (name, category), members in sorted(groups.items()):
        within = sum(m.within for m in members)
        natural_median, natural_mean, natural_max = _stats(
            [m.natural for m in members if m.natural is not None]
        )
        working_median, working_mean, working_max = _stats(
            [m.working for m in members if m.working is not None]
        )
        rows.append(
            IndicatorRow(
                policy=name,
                category=category,
                stages=STAGES,
                completed=len(members),
                within_limit=within,
                share_within_limit=round(within / len(members), 3),
                natural_days_median=natural_median,
                natural_days_mean=natural_mean,
                natural_days_max=natural_max,
                working_days_median=working_median,
                working_days_mean=working_mean,
                working_days_max=working_max,
                fees_charged=tuple(m.app.number for m in members if m.wrong_fees),
            )
        )
    return rows


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
