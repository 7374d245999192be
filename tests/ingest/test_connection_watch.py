"""Time-out warnings of connection applications become alarms, once per state."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from connections.applications import NewApplication
from connections.policies import Policies
from connections.timelimits import BUILT_IN
from connections.workdays import WorkCalendar
from ingest.connection_watch import ConnectionWatch
from meters.views import Actor
from tests.conftest import sqlite_registry

T0 = 1_772_416_800_000  # Monday 2026-03-02 10:00 in Guangzhou
DAY = 86_400_000
HOUR = 3_600_000
NEW_YEARS_EVE = 1_798_682_400_000  # Thursday 2026-12-31 10:00 in Lingbao


def totals_only() -> Policies:
    """The built-in cities without their stages' own limits: the whole period's alarms."""
    return Policies(
        WorkCalendar(), {n: dataclasses.replace(p, stage_days={}) for n, p in BUILT_IN.items()}
    )


def test_warning_then_overdue_each_raise_one_alarm(tmp_path: Path) -> None:
    registry = sqlite_registry(tmp_path)
    new = NewApplication("guangzhou", "none", "online", "Li", "13900139000", "Haizhu 1")
    application = registry.connections.create(new, Actor("otto", "operator", "t"), T0)
    watch = ConnectionWatch(registry, totals_only(), lambda: T0)
    assert watch.run(T0 + DAY) == []
    (warning,) = watch.run(T0 + 3 * DAY + 2 * HOUR)  # Thursday 12:00: counted from Tuesday
    assert (warning.meter_id, warning.rule, warning.detail["used_days"]) == (
        application.number,
        "connection_warning",
        2.5,
    )
    assert watch.run(T0 + 3 * DAY + 4 * HOUR) == []  # raised once
    (overdue,) = watch.run(T0 + 4 * DAY)  # Friday: past Thursday 24:00
    assert overdue.rule == "connection_overdue"
    rules = sorted(a.rule for a in registry.alarms.find(meter_id=application.number))
    assert rules == ["connection_overdue", "connection_warning"]


def test_a_restart_neither_repeats_nor_forgets_a_raised_warning(tmp_path: Path) -> None:
    registry = sqlite_registry(tmp_path)
    new = NewApplication("guangzhou", "none", "online", "Li", "13900139000", "Haizhu 1")
    application = registry.connections.create(new, Actor("otto", "operator", "t"), T0)
    policies = totals_only()
    assert len(ConnectionWatch(registry, policies, lambda: T0).run(T0 + 3 * DAY + 2 * HOUR)) == 1
    (alarm,) = registry.alarms.find(meter_id=application.number)
    registry.alarms.clear(alarm.id, Actor("otto", "operator", "t"), "customer called", T0 + DAY)
    restarted = ConnectionWatch(registry, policies, lambda: T0)  # a new process
    assert restarted.run(T0 + 3 * DAY + 4 * HOUR) == []  # not raised again after the restart
    (overdue,) = restarted.run(T0 + 4 * DAY)
    assert overdue.rule == "connection_overdue"
    assert ConnectionWatch(registry, policies, lambda: T0).run(T0 + 5 * DAY) == []


def test_an_application_under_a_policy_no_longer_configured_is_flagged_not_fatal(
    tmp_path: Path,
) -> None:
    registry = sqlite_registry(tmp_path)
    actor = Actor("otto", "operator", "t")
    gone = NewApplication("shenzhen", "none", "online", "Wu", "13900139001", "Futian 2")
    kept = NewApplication("guangzhou", "none", "online", "Li", "13900139000", "Haizhu 1")
    orphan = registry.connections.create(gone, actor, T0)
    checked = registry.connections.create(kept, actor, T0)
    watch = ConnectionWatch(registry, totals_only(), lambda: T0)  # no shenzhen
    decisions = watch.run(T0 + 4 * DAY)
    assert sorted((d.meter_id, d.rule) for d in decisions) == sorted(
        [(orphan.number, "connection_policy_unknown"), (checked.number, "connection_overdue")]
    )
    flagged = next(d for d in decisions if d.rule == "connection_policy_unknown")
    assert "not in the settings" in flagged.detail["why"]
    assert watch.run(T0 + 5 * DAY) == []  # flagged once


def test_a_missing_holiday_schedule_raises_one_alarm_for_its_year(tmp_path: Path) -> None:
    """Lingbao's two working days from 31 December reach into 2027, which has no schedule
    here: no deadline is guessed, and the control room hears of the year once."""
    registry = sqlite_registry(tmp_path)
    actor = Actor("otto", "operator", "t")
    numbers = [
        registry.connections.create(
            NewApplication("lingbao", "none", "counter", name, "13900139000", "函谷路 1"),
            actor,
            NEW_YEARS_EVE,
        ).number
        for name in ("王", "李")
    ]
    watch = ConnectionWatch(registry, totals_only(), lambda: NEW_YEARS_EVE)
    (alarm,) = watch.run(NEW_YEARS_EVE + HOUR)
    assert (alarm.meter_id, alarm.rule) == ("calendar-2027", "connection_calendar_missing")
    assert alarm.detail["applications"] == sorted(numbers) and alarm.detail["waiting"] == 2
    assert "GASGUARD_HOLIDAY_FILE" in alarm.detail["why"]
    assert watch.run(NEW_YEARS_EVE + 2 * HOUR) == []  # once for the year


def test_a_pause_past_its_maximum_raises_one_alarm(tmp_path: Path) -> None:
    """Lingbao: administrative approval within 3 working days; an approval pause open from
    Monday 12:00 is past its maximum on Thursday 12:00."""
    registry = sqlite_registry(tmp_path)
    actor = Actor("otto", "operator", "t")
    monday = T0 - HOUR  # 09:00
    new = NewApplication("lingbao", "none", "counter", "王", "13900139000", "函谷路 1")
    application = registry.connections.create(new, actor, monday)
    registry.connections.pause(
        application.id, actor, "administrative_approval", monday + 3 * HOUR, "审批受理单 A-17"
    )
    watch = ConnectionWatch(registry, totals_only(), lambda: T0)
    assert watch.run(monday + 3 * DAY + 2 * HOUR) == []  # Thursday 11:00
    (alarm,) = watch.run(monday + 3 * DAY + 4 * HOUR)  # Thursday 13:00
    assert (alarm.meter_id, alarm.rule) == (application.number, "connection_pause_too_long")
    assert alarm.detail["reasons"] == ["administrative_approval"]
    assert watch.run(monday + 3 * DAY + 5 * HOUR) == []  # once


def test_a_stage_past_its_own_limit_raises_its_own_alarm(tmp_path: Path) -> None:
    from connections.policies import build_policies

    registry = sqlite_registry(tmp_path)
    actor = Actor("otto", "operator", "t")
    new = NewApplication("guangzhou", "none", "online", "Li", "13900139000", "Haizhu 1")
    application = registry.connections.create(new, actor, T0)  # Monday 10:00
    staged = dataclasses.replace(BUILT_IN["guangzhou"], stage_days={"one": {"none": 1}})
    policies = build_policies(WorkCalendar(), {"guangzhou": staged}, 0.8)
    watch = ConnectionWatch(registry, policies, lambda: T0)
    assert watch.run(T0 + 12 * HOUR) == []  # Monday 22:00: counting starts Tuesday
    (overdue,) = watch.run(T0 + 2 * DAY)  # Wednesday: stage one ended Tuesday 24:00
    assert (overdue.meter_id, overdue.rule) == (application.number, "connection_stage1_overdue")
    assert overdue.detail["stage"] == "用气报装"
    assert watch.run(T0 + 2 * DAY + HOUR) == []  # once


def test_a_missing_calendar_does_not_hide_the_alarms_that_need_none(tmp_path: Path) -> None:
    """Documents overdue under 容缺受理 need no holiday schedule: a Lingbao application
    whose deadline waits for 2027's still raises them."""
    registry = sqlite_registry(tmp_path)
    new = NewApplication(
        "lingbao",
        "none",
        "counter",
        "王",
        "13900139000",
        "函谷路 1",
        missing_documents=("房产证",),
        documents_due_ms=NEW_YEARS_EVE + HOUR,
    )
    registry.connections.create(new, Actor("otto", "operator", "t"), NEW_YEARS_EVE)
    watch = ConnectionWatch(registry, totals_only(), lambda: NEW_YEARS_EVE)
    rules = sorted(d.rule for d in watch.run(NEW_YEARS_EVE + 2 * HOUR))
    assert rules == ["connection_calendar_missing", "connection_docs_overdue"]
