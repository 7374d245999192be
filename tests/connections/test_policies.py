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

    staged = dataclasses.replace(
        BUILT_IN["guangzhou"], stage_days={"one": {"none": 1}, "two": {"none": 2}}
    )
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
    unstaged = dataclasses.replace(BUILT_IN["guangzhou"], stage_days={"one": {"A": 1}})
    plain = build_policies(WorkCalendar(), {"guangzhou": unstaged}, 0.8)
    assert plain.stage_statuses(surveyed, monday) == []  # no limit for this category


HOUR = 3_600_000


def test_guangzhou_built_in_stages_split_the_total_first_day_and_the_rest() -> None:
    """Accepted Monday 2026-03-02 17:00 (no external works: Thursday 24:00): 用气报装 by
    Tuesday 24:00; surveyed Tuesday 10:00, 验收通气 two days from then: Thursday 24:00; a
    class B application's second stage has seven."""
    import dataclasses

    policies = build_policies(WorkCalendar(), {}, 0.8)
    monday_17 = 1_772_442_000_000
    surveyed = dataclasses.replace(
        application("GU3", "guangzhou", monday_17), surveyed_ms=monday_17 + 17 * HOUR
    )
    one, two = policies.stage_statuses(surveyed, monday_17 + 18 * HOUR)
    assert (one.name, one.time.state, one.time.deadline) == (
        "用气报装",
        "done_in_time",
        "2026-03-03T24:00:00+08:00",
    )
    assert (two.name, two.time.budget_days, two.time.deadline) == (
        "验收通气",
        2,
        "2026-03-05T24:00:00+08:00",
    )
    class_b = dataclasses.replace(surveyed, category="B")
    _, two_b = policies.stage_statuses(class_b, monday_17 + 18 * HOUR)
    assert (two_b.time.budget_days, two_b.time.deadline) == (7, "2026-03-10T24:00:00+08:00")


def test_lingbao_built_in_stages_are_accepted_today_opened_the_next_day() -> None:
    """当日受理、次日开通: accepted Monday 2026-03-02 09:00, 受理勘查 ends with the day
    (Monday 24:00), 验收开通 the next working day (surveyed Monday: Tuesday 24:00); a survey
    on Tuesday is one stage late, and a survey on Friday has Monday for gas-on."""
    import dataclasses

    policies = build_policies(WorkCalendar(), {}, 0.8)
    monday_9 = 1_772_413_200_000
    same_day = dataclasses.replace(
        application("LB1", "lingbao", monday_9),
        surveyed_ms=monday_9 + 6 * HOUR,
        gas_on_ms=monday_9 + 32 * HOUR,  # Tuesday 17:00
    )
    one, two = policies.stage_statuses(same_day, monday_9 + 40 * HOUR)
    assert (one.name, one.time.state, one.time.deadline) == (
        "受理勘查",
        "done_in_time",
        "2026-03-02T24:00:00+08:00",
    )
    assert (two.name, two.time.state, two.time.deadline) == (
        "验收开通",
        "done_in_time",
        "2026-03-03T24:00:00+08:00",
    )
    next_day = dataclasses.replace(same_day, surveyed_ms=monday_9 + 25 * HOUR, gas_on_ms=None)
    late, _ = policies.stage_statuses(next_day, monday_9 + 26 * HOUR)
    assert late.time.state == "done_late"
    friday_9 = monday_9 + 4 * 24 * HOUR
    friday = dataclasses.replace(
        application("LB2", "lingbao", friday_9), surveyed_ms=friday_9 + 2 * HOUR
    )
    _, gas_on_stage = policies.stage_statuses(friday, friday_9 + 3 * HOUR)
    assert gas_on_stage.time.deadline == "2026-03-09T24:00:00+08:00"  # Monday, after the weekend


MONDAY_9 = 1_772_413_200_000  # Lingbao, 2026-03-02 09:00 UTC+8


def test_lingbaos_approval_clock_counts_from_complete_documents() -> None:
    """Accepted Monday 09:00 with a document missing, an approval paused from Monday 10:00:
    the document handed in Wednesday 10:00 starts the 3 working days (to Monday 10:00), so
    the pause is not past its maximum on Thursday; still missing, the clock starts when
    the document is due (Thursday 10:00: the maximum is reached Tuesday 10:00)."""
    import dataclasses

    from connections.applications import PauseView

    policies = build_policies(WorkCalendar(), {}, 0.8)
    approval = PauseView(1, MONDAY_9 + HOUR, None, "administrative_approval", "审批受理单 A-17")
    handed_in = dataclasses.replace(
        application("LB3", "lingbao", MONDAY_9),
        pauses=(approval,),
        documents_due_ms=MONDAY_9 + 73 * HOUR,  # Thursday 10:00
        documents_complete_ms=MONDAY_9 + 49 * HOUR,  # Wednesday 10:00
    )
    thursday_11 = MONDAY_9 + 74 * HOUR
    assert policies.status(handed_in, thursday_11).pauses_over_limit == ()
    next_monday = MONDAY_9 + 7 * 24 * HOUR
    assert policies.status(handed_in, next_monday).pauses_over_limit == ()  # 09:00
    assert policies.status(handed_in, next_monday + 2 * HOUR).pauses_over_limit == (
        "administrative_approval",
    )
    still_missing = dataclasses.replace(
        handed_in, documents_complete_ms=None, missing_documents=("房产证",)
    )
    tuesday = next_monday + 24 * HOUR
    assert policies.status(still_missing, tuesday).pauses_over_limit == ()  # 09:00
    over = policies.status(still_missing, tuesday + 2 * HOUR)  # 11:00
    assert over.pauses_over_limit == ("administrative_approval",)
    ready_at_once = dataclasses.replace(handed_in, documents_complete_ms=MONDAY_9)
    assert policies.status(ready_at_once, thursday_11).pauses_over_limit == (
        "administrative_approval",
    )


def test_lingbaos_external_works_clock_counts_from_the_permits() -> None:
    """Works paused from Monday 12:00, the approval (Monday 10:00 to Tuesday 10:00) gives
    the permits: 7 working days from Tuesday 10:00 is Thursday 2026-03-12 10:00."""
    import dataclasses

    from connections.applications import PauseView

    policies = build_policies(WorkCalendar(), {}, 0.8)
    pauses = (
        PauseView(1, MONDAY_9 + HOUR, MONDAY_9 + 25 * HOUR, "administrative_approval", "批复 7"),
        PauseView(2, MONDAY_9 + 3 * HOUR, None, "construction", "施工单 12"),
    )
    works = dataclasses.replace(application("LB4", "lingbao", MONDAY_9), pauses=pauses)
    thursday_12 = MONDAY_9 + 10 * 24 * HOUR  # 2026-03-12 09:00
    assert policies.status(works, thursday_12).pauses_over_limit == ()
    assert policies.status(works, thursday_12 + 2 * HOUR).pauses_over_limit == ("construction",)
    no_permits = dataclasses.replace(works, pauses=pauses[1:])  # counted from its start
    wednesday_11 = thursday_12 - 24 * HOUR + 4 * HOUR  # Wednesday 13:00
    assert policies.status(no_permits, wednesday_11).pauses_over_limit == ("construction",)
