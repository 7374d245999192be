"""The one builder of the policies in force. Pure: no fixtures."""

from __future__ import annotations

import pytest

from connections.applications import ApplicationView
from connections.errors import PolicyError
from connections.policies import build_policies, check_calendar, years_ahead
from connections.timelimits import BUILT_IN, Policy
from connections.workdays import WorkCalendar


def test_built_in_and_configured_cities_share_the_configured_warning_share() -> None:
    xian = Policy("ignored", "natural", {"none": 2, "A": 4, "B": 6})
    policies = build_policies(WorkCalendar(), {"xian": xian}, 0.6)
    assert sorted(policies.by_name) == ["guangzhou", "lingbao", "xian"]
    assert {p.warn_share for p in policies.by_name.values()} == {0.6}
    assert policies.by_name["xian"].name == "xian"  # named by its key in the settings
    assert policies.by_name["xian"].days == {"none": 2, "A": 4, "B": 6}
    assert policies.by_name["guangzhou"].days == BUILT_IN["guangzhou"].days


def test_a_configured_city_of_a_built_in_name_replaces_it() -> None:
    slower = Policy("guangzhou", "natural", {"none": 4, "A": 6, "B": 9})
    policies = build_policies(WorkCalendar(), {"guangzhou": slower}, 0.8)
    assert policies.by_name["guangzhou"].days == {"none": 4, "A": 6, "B": 9}


def test_a_configured_city_without_a_category_is_refused_by_name() -> None:
    partial = Policy("x", "working", {"none": 1, "A": 2})
    with pytest.raises(PolicyError, match=r"'x'.*\['B'\]"):
        build_policies(WorkCalendar(), {"x": partial}, 0.8)


NOV_1 = 1_793_462_400_000  # 2026-11-01 00:00 UTC+8
DEC_31 = 1_798_682_400_000  # 2026-12-31 10:00 UTC+8


def test_next_years_schedule_is_needed_from_november() -> None:
    assert years_ahead(NOV_1 - 86_400_000 * 30) == [2026]
    assert years_ahead(DEC_31) == [2026, 2027]


def test_the_calendar_check_names_the_applications_waiting_for_a_missing_year() -> None:
    policies = build_policies(WorkCalendar(), {}, 0.8)
    waiting = application("LI2026000001", "lingbao", DEC_31)  # Jan 2027 is its day 2
    counted = application("GU2026000002", "guangzhou", DEC_31)  # natural days: no calendar
    check = check_calendar(policies, [waiting, counted], DEC_31)
    assert check.sources == {2026: "chinesecalendar", 2027: None}
    assert check.missing == [2027]
    assert check.waiting == {2027: ["LI2026000001"]}


def application(number: str, policy: str, submitted_ms: int) -> ApplicationView:
    return ApplicationView(
        id=1,
        number=number,
        policy=policy,
        category="none",
        channel="counter",
        applicant="王",
        phone="13900139000",
        address="函谷路 1",
        district="",
        submitted_ms=submitted_ms,
        surveyed_ms=None,
        gas_on_ms=None,
        meter_id=None,
        fee_application=0.0,
        fee_gas_on=0.0,
        state="open",
        pauses=(),
    )


def test_documents_accepted_as_missing_are_due_within_the_policys_maximum_in_its_unit() -> None:
    from connections.policies import documents_due_ms
    from connections.timelimits import BUILT_IN, DAY_MS

    thursday = 1_772_677_800_000  # 2026-03-05 10:30 UTC+8
    calendar = WorkCalendar()
    lingbao = documents_due_ms(BUILT_IN["lingbao"], calendar, thursday)
    assert lingbao == thursday + 7 * DAY_MS  # 5 working days: Thu, Fri, Mon, Tue, Wed -> Thu
    assert documents_due_ms(BUILT_IN["guangzhou"], calendar, thursday) == thursday + 5 * DAY_MS
    late = 1_798_682_400_000  # 2026-12-31: no schedule for 2027, natural days then
    assert documents_due_ms(BUILT_IN["lingbao"], calendar, late) == late + 5 * DAY_MS


def test_a_city_may_give_each_stage_its_own_limit() -> None:
    """Stage one (accepted Monday 10:00, one natural day: Tuesday 24:00) is late when the
    survey ends Wednesday 09:00; stage two counts from the survey (two days: Friday 24:00)."""
    import dataclasses

    from connections.timelimits import BUILT_IN

    staged = dataclasses.replace(BUILT_IN["guangzhou"], stage_days={"one": 1, "two": 2})
    policies = build_policies(WorkCalendar(), {"guangzhou": staged}, 0.8)
    monday = 1_772_416_800_000  # 2026-03-02 10:00 UTC+8
    hour = 3_600_000
    surveyed = dataclasses.replace(
        application("GU1", "guangzhou", monday), surveyed_ms=monday + 47 * hour
    )
    one, two = policies.stage_statuses(surveyed, monday + 4 * 24 * hour + 2 * hour)  # Fri 12:00
    assert (one.name, one.time.state, one.time.deadline) == (
        "用气报装",
        "done_late",
        "2026-03-03T24:00:00+08:00",
    )
    assert (two.name, two.time.deadline, two.time.state) == (
        "验收通气",
        "2026-03-06T24:00:00+08:00",
        "on_time",
    )
    (_, later) = policies.stage_statuses(surveyed, monday + 4 * 24 * hour + 8 * hour)  # Fri 18:00
    assert later.time.state == "warning"
    assert policies.stage_statuses(application("GU2", "guangzhou", monday), monday) != []
    plain = build_policies(WorkCalendar(), {}, 0.8)  # the built-in cities give totals only
    assert plain.stage_statuses(surveyed, monday) == []
