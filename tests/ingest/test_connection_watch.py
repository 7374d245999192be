"""Time-out warnings of connection applications become alarms, once per state."""

from __future__ import annotations

from pathlib import Path

from connections.applications import NewApplication
from connections.policies import Policies
from connections.workdays import WorkCalendar
from ingest.connection_watch import ConnectionWatch
from meters.views import Actor
from tests.conftest import sqlite_registry

T0 = 1_772_416_800_000  # Monday 2026-03-02 10:00 in Guangzhou
DAY = 86_400_000


def test_warning_then_overdue_each_raise_one_alarm(tmp_path: Path) -> None:
    registry = sqlite_registry(tmp_path)
    new = NewApplication("guangzhou", "none", "online", "Li", "13900139000", "Haizhu 1")
    application = registry.connections.create(new, Actor("otto", "operator", "t"), T0)
    watch = ConnectionWatch(registry, Policies(WorkCalendar()), lambda: T0)
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
    rules = sorted(a.rule for a in registry.alarms.find(meter_id=application.number))
    assert rules == ["connection_overdue", "connection_warning"]


def test_a_restart_neither_repeats_nor_forgets_a_raised_warning(tmp_path: Path) -> None:
    registry = sqlite_registry(tmp_path)
    new = NewApplication("guangzhou", "none", "online", "Li", "13900139000", "Haizhu 1")
    application = registry.connections.create(new, Actor("otto", "operator", "t"), T0)
    policies = Policies(WorkCalendar())
    assert len(ConnectionWatch(registry, policies, lambda: T0).run(T0 + int(2.5 * DAY))) == 1
    (alarm,) = registry.alarms.find(meter_id=application.number)
    registry.alarms.clear(alarm.id, Actor("otto", "operator", "t"), "customer called", T0 + DAY)
    restarted = ConnectionWatch(registry, policies, lambda: T0)  # a new process
    assert restarted.run(T0 + int(2.6 * DAY)) == []  # not raised again after the restart
    (overdue,) = restarted.run(T0 + 3 * DAY)
    assert overdue.rule == "connection_overdue"
    assert ConnectionWatch(registry, policies, lambda: T0).run(T0 + 4 * DAY) == []


def test_an_application_under_a_policy_no_longer_configured_is_flagged_not_fatal(
    tmp_path: Path,
) -> None:
    registry = sqlite_registry(tmp_path)
    actor = Actor("otto", "operator", "t")
    gone = NewApplication("shenzhen", "none", "online", "Wu", "13900139001", "Futian 2")
    kept = NewApplication("guangzhou", "none", "online", "Li", "13900139000", "Haizhu 1")
    orphan = registry.connections.create(gone, actor, T0)
    checked = registry.connections.create(kept, actor, T0)
    watch = ConnectionWatch(registry, Policies(WorkCalendar()), lambda: T0)  # no shenzhen
    decisions = watch.run(T0 + 3 * DAY)
    assert sorted((d.meter_id, d.rule) for d in decisions) == sorted(
        [(orphan.number, "connection_policy_unknown"), (checked.number, "connection_overdue")]
    )
    flagged = next(d for d in decisions if d.rule == "connection_policy_unknown")
    assert "not in the settings" in flagged.detail["why"]
    assert watch.run(T0 + 4 * DAY) == []  # flagged once
