"""Time-out warnings (超时预警) for connection applications, as alarms.

Every ``every_s`` the ingester (the one process that always runs) checks the open
applications against their city's limit: a record entering ``warning`` (80 % of its budget
used) or ``overdue`` raises an alarm once, under the application number, so that it reaches
the control room like any other alarm (API, live feed, dashboard). A deadline that cannot
be computed because a year's holiday schedule is missing raises one alarm for that year
(``connection_calendar_missing`` under ``calendar-<year>``), naming the applications that
wait for it."""

from __future__ import annotations

import logging
from collections.abc import Callable

from connections.applications import DOCUMENTS_REMINDER_MS, ApplicationView
from connections.policies import Policies
from contract.decisions import Decision
from meters.registry import Registry

log = logging.getLogger(__name__)
ALARMING = ("warning", "overdue")
CALENDAR_MISSING = "connection_calendar_missing"
PAUSE_TOO_LONG = "connection_pause_too_long"
DOCUMENTS_DUE = "connection_docs_due"  # 容缺受理: the reminder, a day before they are due
DOCUMENTS_OVERDUE = "connection_docs_overdue"
EARLY_FLOW = "connection_early_flow"  # gas through the meter before it was commissioned
STAGE_NUMBER = {"one": 1, "two": 2}  # connection_stage1_warning, connection_stage2_overdue


def _documents_alarms(application: ApplicationView, now_ms: int) -> list[Decision]:
    """容缺受理: a reminder a day before the missing documents are due, and an alarm when
    they are overdue."""
    state, due_ms = application.documents_state(now_ms), application.documents_due_ms
    if state == "complete" or due_ms is None:
        return []
    detail = {
        "application": application.number,
        "missing": list(application.missing_documents),
        "due_ms": due_ms,
    }
    if state == "overdue":
        return [Decision(now_ms, application.number, DOCUMENTS_OVERDUE, "alarm", detail)]
    if now_ms >= due_ms - DOCUMENTS_REMINDER_MS:
        return [Decision(now_ms, application.number, DOCUMENTS_DUE, "alarm", detail)]
    return []


def _calendar_alarm(year: int, numbers: list[str], now_ms: int) -> Decision:
    detail = {
        "year": year,
        "applications": sorted(numbers)[:50],
        "waiting": len(numbers),
        "why": f"no holiday schedule for {year}: working-day deadlines cannot be computed; "
        "load the State Council's schedule with GASGUARD_HOLIDAY_FILE",
    }
    return Decision(now_ms, f"calendar-{year}", CALENDAR_MISSING, "alarm", detail)


class ConnectionWatch:
    def __init__(self, registry: Registry, policies: Policies, clock: Callable[[], int]) -> None:
        self._registry = registry
        self._policies = policies
        self._clock = clock

    def run_now(self) -> list[Decision]:
        """One check at the clock's time (the lane's chores decide when)."""
        return self.run(self._clock())

    def run(self, now_ms: int) -> list[Decision]:
        """One check of every open application. The warnings already raised are read from
        the registry (a restart neither repeats nor forgets them); an application under a
        policy the settings no longer have is flagged once instead of checked."""
        store = self._registry.connections
        raised_before = store.warnings_raised()
        decisions: list[Decision] = []
        waiting: dict[int, list[str]] = {}  # missing year -> applications without a deadline
        for application in store.find("open", limit=100_000):
            for decision in self._check(application, now_ms):
                if decision.rule == CALENDAR_MISSING:
                    waiting.setdefault(decision.detail["year"], []).append(application.number)
                else:
                    decisions.append(decision)
        decisions += [_calendar_alarm(year, numbers, now_ms) for year, numbers in waiting.items()]
        raised = []
        for decision in decisions:
            state = decision.rule.removeprefix("connection_")
            if (decision.meter_id, state) in raised_before:
                continue
            self._registry.alarms.record(decision, now_ms)
            store.remember_warning(decision.meter_id, state, now_ms)
            raised.append(decision)
            log.warning("connection %s: %s", decision.meter_id, state)
        return raised

    def _check(self, application: ApplicationView, now_ms: int) -> list[Decision]:
        """The alarms the application's state asks for now (each raised once by ``run``)."""
        number = application.number
        if application.policy not in self._policies.by_name:
            why = "the policy is not in the settings: its time limits cannot be checked"
            detail: dict[str, object] = {
                "application": application.number,
                "policy": application.policy,
                "why": why,
            }
            return [Decision(now_ms, number, "connection_policy_unknown", "alarm", detail)]
        status = self._policies.status(application, now_ms)
        decisions = []
        if status.missing_year is not None:  # the time limits wait; the rest need no calendar
            year = {"year": status.missing_year}
            decisions.append(Decision(now_ms, number, CALENDAR_MISSING, "alarm", year))
        if status.state in ALARMING:
            detail = {
                "application": number,
                "used_days": status.used_days,
                "budget_days": status.budget_days,
                "unit": status.unit,
                "deadline": status.deadline,
                "policy": application.policy,
            }
            rule = f"connection_{status.state}"
            decisions.append(Decision(now_ms, number, rule, "alarm", detail))
        if application.flow_before_commission_ms is not None:
            why = "the meter showed flow before it was commissioned on this application"
            detail = {
                "application": number,
                "meter": application.meter_id,
                "flow_ms": application.flow_before_commission_ms,
                "why": why,
            }
            decisions.append(Decision(now_ms, number, EARLY_FLOW, "alarm", detail))
        decisions += _documents_alarms(application, now_ms)
        for stage in self._policies.stage_statuses(application, now_ms):
            if stage.time.state in ALARMING:
                detail = {
                    "application": number,
                    "stage": stage.name,
                    "used_days": stage.time.used_days,
                    "budget_days": stage.time.budget_days,
                    "deadline": stage.time.deadline,
                }
                rule = f"connection_stage{STAGE_NUMBER[stage.stage]}_{stage.time.state}"
                decisions.append(Decision(now_ms, number, rule, "alarm", detail))
        if status.pauses_over_limit:
            why = "a pause lasted longer than its reason's maximum: the clock runs again"
            detail = {"application": number, "reasons": list(status.pauses_over_limit), "why": why}
            decisions.append(Decision(now_ms, number, PAUSE_TOO_LONG, "alarm", detail))
        return decisions
