"""Time-out warnings (超时预警) for connection applications, as alarms.

Every ``every_s`` the ingester (the one process that always runs) checks the open
applications against their city's limit: a record entering ``warning`` (80 % of its budget
used) or ``overdue`` raises an alarm once, under the application number, so that it reaches
the control room like any other alarm (API, live feed, dashboard)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ingest.every import Every
from meters.connections import Policies
from meters.registry import Registry
from safety.domain import Decision

log = logging.getLogger(__name__)
ALARMING = ("warning", "overdue")


class ConnectionWatch:
    def __init__(
        self, registry: Registry, policies: Policies, every_s: float, clock: Callable[[], int]
    ) -> None:
        self._registry = registry
        self._policies = policies
        self._cadence = Every(every_s)
        self._clock = clock
        self._raised: set[tuple[str, str]] = set()

    def maybe_run(self) -> None:
        self._cadence.run_when_due(
            lambda: self.run(self._clock()), "cannot check connection time limits"
        )

    def run(self, now_ms: int) -> list[Decision]:
        raised = []
        for application in self._registry.connections.find("open", limit=100_000):
            status = self._policies.status(application, now_ms)
            key = (application.number, status.state)
            if status.state not in ALARMING or key in self._raised:
                continue
            detail = {
                "application": application.number,
                "used_days": status.used_days,
                "budget_days": status.budget_days,
                "unit": status.unit,
                "policy": application.policy,
            }
            decision = Decision(
                now_ms, application.number, f"connection_{status.state}", "alarm", detail
            )
            self._registry.record_decision(decision, now_ms)
            self._raised.add(key)
            raised.append(decision)
            log.warning("connection %s is %s", application.number, status.state)
        return raised
