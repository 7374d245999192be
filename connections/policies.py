"""The city policies in force: the built-in ones and those configured, with the working-day
calendar. ``build_policies`` is the one place that makes them, for the API, the CLI and the
ingester alike (a report built elsewhere once knew only the built-in cities)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from connections.applications import ApplicationView
from connections.errors import PolicyError
from connections.timelimits import BUILT_IN, CATEGORIES, Pause, Policy, TimeStatus, time_status
from connections.workdays import WorkCalendar


class Policies:
    """The city policies by name (built in, plus configured ones) and the calendar."""

    def __init__(
        self, calendar: WorkCalendar, policies: Mapping[str, Policy] | None = None
    ) -> None:
        self.calendar = calendar
        self.by_name = dict(BUILT_IN if policies is None else policies)

    def status(self, application: ApplicationView, now_ms: int) -> TimeStatus:
        policy = self.by_name[application.policy]
        pauses = [Pause(p.start_ms, p.end_ms, p.reason) for p in application.pauses]
        return time_status(
            policy,
            self.calendar,
            application.category,
            application.submitted_ms,
            application.gas_on_ms,
            pauses,
            now_ms,
        )


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
