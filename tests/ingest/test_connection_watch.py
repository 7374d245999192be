"""Time-out warnings of connection applications become alarms, once per state."""

from __future__ import annotations

from pathlib import Path

from ingest.connection_watch import ConnectionWatch
from meters.connections import NewApplication, Policies
from meters.views import Actor
from meters.workdays import WorkCalendar
from tests.conftest import sqlite_registry

T0 = 1_772_416_800_000  # Monday 2026-03-02 10:00 in Guangzhou
DAY = 86_400_000


def test_warning_then_overdue_each_raise_one_alarm(tmp_path: Path) -> None:
    registry = sqlite_registry(tmp_path)
    new = NewApplication("guangzhou", "none", "online", "Li", "13900139000", "Haizhu 1")
    application = registry.connections.create(new, Actor("otto", "operator", "t"), T0)
    watch = ConnectionWatch(registry, Policies(WorkCalendar()), 60, lambda: T0)
    assert watch.run(T0 + DAY) == []
    (warning,) = watch.run(T0 + int(2.5 * DAY))
    assert (warning.meter_id, warning.rule, warning.detail["used_days"]) == (
        application.number,
        "connection_warning",
        2.5,
    )
    assert watch.run(T0 + int(2.6 * DAY)) == []  # raised once
    (overdue,) = watch.run(T0 + 3 * DAY)
    assert overdue.rule == "connection_overdue"
    rules = sorted(a.rule for a in registry.list_alarms(meter_id=application.number))
    assert rules == ["connection_overdue", "connection_warning"]
