"""Time-out warnings (超时预警) for connection applications, as alarms.

Every ``every_s`` the ingester (the one process that always runs) checks the open
applications against their city's limit: a record entering ``warning`` (80 % of its budget
used) or ``overdue`` raises an alarm once, under the application number, so that it reaches
the control room like any other alarm (API, live feed, dashboard)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from connections.applications import ApplicationView
from connections.policies import Policies
from contract.decisions import Decision
from meters.registry import Registry

log = logging.getLogger(__name__)
ALARMING = ("warning", "overdue")


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
        raised = []
        for application in store.find("open", limit=100_000):
            decision = self._check(application, now_ms)
            if decision is None:
                continue
            state = decision.rule.removeprefix("connection_")
            if (application.number, state) in raised_before:
                continue
            self._registry.alarms.record(decision, now_ms)
            store.remember_warning(application.number, state, now_ms)
            raised.append(decision)
            log.warning("connection %s is %s", application.number, state)
        return raised

    def _check(self, application: ApplicationView, now_ms: int) -> Decision | None:
        if application.policy not in self._policies.by_name:
            why = "the policy is not in the settings: its time limits cannot be checked"
            detail: dict[str, object] = {
                "application": application.number,
                "policy": application.policy,
                "why": why,
            }
            return Decision(
                now_ms, application.number, "connection_policy_unknown", "alarm", detail
            )
        status = self._policies.status(application, now_ms)
        if status.state not in ALARMING:
            return None
        detail = {
            "application": application.number,
            "used_days": status.used_days,
            "budget_days": status.budget_days,
            "unit": status.unit,
            "policy": application.policy,
        }
        return Decision(now_ms, application.number, f"connection_{status.state}", "alarm", detail)
