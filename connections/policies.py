"""The city policies in force: the built-in ones and those configured, with the working-day
calendar. ``build_policies`` is the one place that makes them, for the API, the CLI and the
ingester alike (a report built elsewhere once knew only the built-in cities)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from connections.applications import ApplicationView
from connections.errors import CalendarMissing, PolicyError
from connections.pauses import max_days
from connections.timelimits import (
    BUILT_IN,
    CATEGORIES,
    DAY_MS,
    Pause,
    Policy,
    TimeStatus,
    advance_ms,
    local_date,
    time_status,
)
from connections.workdays import WorkCalendar


def pauses_of(application: ApplicationView) -> list[Pause]:
    """The application's pauses as the time limits read them, with Lingbao's two clocks
    inside the excluded time: an administrative approval's maximum counts from the day the
    documents are complete ("材料齐全后3个工作日内"; while 容缺 documents are still missing,
    from the day they are due, so that an approval cannot stop the clock for ever), and
    external works' from the permits (the latest end of an approval before the works end)."""
    documents_ready = application.documents_complete_ms or application.documents_due_ms
    approvals_ended = [
        p.end_ms
        for p in application.pauses
        if p.reason == "administrative_approval" and p.end_ms is not None
    ]
    out = []
    for p in application.pauses:
        clock_from = None
        if p.reason == "administrative_approval":
            clock_from = documents_ready
        elif p.reason == "construction":
            permits = [end for end in approvals_ended if p.end_ms is None or end <= p.end_ms]
            clock_from = max(permits, default=None)
        out.append(Pause(p.start_ms, p.end_ms, p.reason, clock_from))
    return out


@dataclass(frozen=True, slots=True)
class StageStatus:
    stage: str  # "one" or "two"
    name: str  # the city's name for it
    time: TimeStatus


class Policies:
    """The city policies by name (built in, plus configured ones) and the calendar."""

    def __init__(
        self, calendar: WorkCalendar, policies: Mapping[str, Policy] | None = None
    ) -> None:
        self.calendar = calendar
        self.by_name = dict(BUILT_IN if policies is None else policies)

    def stage_statuses(self, application: ApplicationView, now_ms: int) -> list[StageStatus]:
        """Each stage with a limit of its own for the application's category
        (``Policy.stage_days``): stage one from the
        acceptance to the survey, stage two from the survey to gas-on, each counted as
        the whole period is (its start day, its unit, its pauses)."""
        policy = self.by_name[application.policy]
        pauses = pauses_of(application)
        spans = {
            "one": (application.submitted_ms, application.surveyed_ms),
            "two": (application.surveyed_ms, application.gas_on_ms),
        }
        out = []
        for index, (stage, (start, end)) in enumerate(spans.items()):
            days = policy.stage_days.get(stage, {}).get(application.category)
            if days is None or start is None:
                continue
            limited = dataclasses.replace(policy, days=dict.fromkeys(CATEGORIES, days))
            status = time_status(
                limited, self.calendar, application.category, start, end, pauses, now_ms
            )
            out.append(StageStatus(stage, policy.stage_names[index], status))
        return out

    def status(self, application: ApplicationView, now_ms: int) -> TimeStatus:
        policy = self.by_name[application.policy]
        pauses = pauses_of(application)
        return time_status(
            policy,
            self.calendar,
            application.category,
            application.submitted_ms,
            application.gas_on_ms,
            pauses,
            now_ms,
        )


LOOKAHEAD_DAYS = 60  # from 2 November, next year's holiday schedule is needed


def years_ahead(now_ms: int, lookahead_days: int = LOOKAHEAD_DAYS) -> list[int]:
    """The years whose holiday schedule is needed now: this one, and the next one once it
    is less than ``lookahead_days`` away (an application accepted late in December counts
    its working days into January; the State Council publishes the schedule in autumn)."""
    return sorted({local_date(now_ms).year, local_date(now_ms + lookahead_days * DAY_MS).year})


@dataclass(frozen=True, slots=True)
class CalendarCheck:
    """The holiday schedules the open applications and the coming weeks need."""

    sources: dict[int, str | None]  # year -> "holiday file", "chinesecalendar" or None
    waiting: dict[int, list[str]]  # missing year -> applications without a deadline

    @property
    def missing(self) -> list[int]:
        return sorted(year for year, source in self.sources.items() if source is None)


def check_calendar(
    policies: Policies, applications: Iterable[ApplicationView], now_ms: int
) -> CalendarCheck:
    """Which years are needed (``years_ahead`` and every year an open application's count
    reaches), where each comes from, and which applications wait for a missing one."""
    years = set(years_ahead(now_ms))
    waiting: dict[int, list[str]] = {}
    for application in applications:
        if application.policy not in policies.by_name:
            continue
        years.add(local_date(application.submitted_ms).year)
        status = policies.status(application, now_ms)
        if status.missing_year is not None:
            years.add(status.missing_year)
            waiting.setdefault(status.missing_year, []).append(application.number)
    calendar = policies.calendar
    return CalendarCheck({year: calendar.source(year) for year in sorted(years)}, waiting)


def documents_due_ms(policy: Policy, calendar: WorkCalendar, now_ms: int) -> int:
    """容缺受理: documents accepted as missing now are due within the policy's maximum for
    them (its ``missing_documents`` pause), in its unit; counted in natural days when a
    year's holiday schedule is missing (never later than the working-day count would be)."""
    days = max_days(policy.pause_max_days, "missing_documents") or 0
    try:
        return advance_ms(policy, calendar, now_ms, days * DAY_MS)
    except CalendarMissing:
        return now_ms + days * DAY_MS


def build_policies(
    calendar: WorkCalendar, configured: Mapping[str, Policy], warn_share: float
) -> Policies:
    """The built-in policies and the configured ones (a configured city of a built-in name
    replaces it), every one with ``warn_share``; a configured city must give a budget for
    every category."""
    policies = {
        name: dataclasses.replace(policy, warn_share=warn_share)
        for name, policy in BUILT_IN.items()
    }
    for name, policy in configured.items():
        missing = set(CATEGORIES) - set(policy.days)
        if missing:
            raise PolicyError(f"connection policy {name!r}: no days for {sorted(missing)}")
        policies[name] = dataclasses.replace(policy, name=name, warn_share=warn_share)
    return Policies(calendar, policies)
