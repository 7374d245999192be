"""The indicator table (pure)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from connections.applications import ApplicationView, PauseView
from connections.indicators import indicator_rows, to_csv
from connections.timelimits import BUILT_IN, LOCAL
from connections.workdays import WorkCalendar

DAY = 86_400_000
T0 = int(dt.datetime(2026, 3, 2, 9, 0, tzinfo=LOCAL).timestamp() * 1000)  # Monday 09:00


def app(number: str, policy: str, category: str, days: float, **extra: object) -> ApplicationView:
    fields: dict[str, object] = {
        "id": 1,
        "number": number,
        "policy": policy,
        "category": category,
        "channel": "online",
        "applicant": "x",
        "phone": "13800000000",
        "address": "y",
        "district": "",
        "submitted_ms": T0,
        "surveyed_ms": None,
        "gas_on_ms": T0 + int(days * DAY),
        "meter_id": None,
        "fee_application": 0.0,
        "fee_gas_on": 0.0,
        "state": "done",
        "pauses": (),
    }
    fields.update(extra)
    return ApplicationView(**fields)  # type: ignore[arg-type]


def test_rows_per_policy_and_category_with_days_share_and_fees() -> None:
    applications = [
        app("GZ1", "guangzhou", "none", 2),
        app("GZ2", "guangzhou", "none", 4, fee_gas_on=200.0),  # late, and charged
        app("GZ3", "guangzhou", "B", 7),
        app("LB1", "lingbao", "A", 6, pauses=(PauseView(1, T0 + DAY, T0 + 5 * DAY, "design"),)),
        app("OUT", "guangzhou", "none", 40),  # gas-on after the period
    ]
    rows = indicator_rows(applications, BUILT_IN, WorkCalendar(), T0, T0 + 30 * DAY)
    by_key = {(r.policy, r.group): r for r in rows}
    gz_none = by_key[("guangzhou", "none")]
    assert (gz_none.completed, gz_none.within_limit, gz_none.share_within_limit) == (2, 1, 0.5)
    assert (gz_none.natural_days_median, gz_none.natural_days_max) == (3.0, 4.0)
    assert gz_none.fees_charged == ("GZ2",)
    assert by_key[("guangzhou", "all")].completed == 3
    lingbao = by_key[("lingbao", "A")]
    # 6 natural days; working days without the 4-day design pause: Mon 09:00 to Tue 09:00
    # and Sat 09:00 to Sun 09:00 of a normal weekend -> 1 working day.
    assert (lingbao.natural_days_max, lingbao.working_days_max, lingbao.within_limit) == (
        6.0,
        1.0,
        1,
    )
    text = to_csv(rows)
    assert text.splitlines()[0].startswith("policy,by,group,stages,completed")
    assert "GZ2" in text


def test_stages_are_measured_and_each_has_its_days() -> None:
    surveyed = app("GZ1", "guangzhou", "none", 3, surveyed_ms=T0 + DAY)
    direct = app("GZ2", "guangzhou", "none", 2)  # no survey recorded: one stage
    (everything, _none) = indicator_rows(
        [surveyed, direct], BUILT_IN, WorkCalendar(), T0, T0 + 9 * DAY
    )
    assert everything.stages == 2
    assert (everything.stage_one_days_median, everything.stage_one_days_max) == (1.5, 2.0)
    assert (everything.stage_two_days_median, everything.stage_two_days_max) == (2.0, 2.0)
    (alone,) = [
        r
        for r in indicator_rows([direct], BUILT_IN, WorkCalendar(), T0, T0 + 9 * DAY)
        if r.group == "all"
    ]
    assert (alone.stages, alone.stage_two_days_max) == (1, None)


def test_rows_by_district_and_by_month_with_targets_and_the_frontier() -> None:
    policy = dataclasses.replace(
        BUILT_IN["guangzhou"], targets={"stages": 2, "days": 3}, frontier={"stages": 1, "days": 1}
    )
    march = T0
    april = int(dt.datetime(2026, 4, 1, 9, 0, tzinfo=LOCAL).timestamp() * 1000)
    applications = [
        app("GZ1", "guangzhou", "none", 2, district="天河 Tianhe"),
        app("GZ2", "guangzhou", "none", 3, district="海珠 Haizhu"),
        app(
            "GZ3",
            "guangzhou",
            "none",
            1,
            district="天河 Tianhe",
            submitted_ms=april,
            gas_on_ms=april + DAY,
        ),
    ]
    policies = {"guangzhou": policy}
    by_district = indicator_rows(
        applications, policies, WorkCalendar(), march, april + 9 * DAY, "district"
    )
    assert [(r.by, r.group, r.completed) for r in by_district] == [
        ("district", "all", 3),
        ("district", "天河 Tianhe", 2),
        ("district", "海珠 Haizhu", 1),
    ]
    by_month = indicator_rows(
        applications, policies, WorkCalendar(), march, april + 9 * DAY, "month"
    )
    assert [(r.group, r.completed) for r in by_month] == [
        ("2026-03", 2),
        ("2026-04", 1),
        ("all", 3),
    ]
    assert {
        (r.target_stages, r.target_days, r.frontier_stages, r.frontier_days) for r in by_month
    } == {(2, 3, 1, 1)}


def test_lingbaos_own_clocks_are_reported_like_stages() -> None:
    """Administrative approval within 3 working days, external works within 7: the days
    spent in each (working days, Lingbao's unit) and the applications past a maximum."""
    approval = PauseView(1, T0 + 3_600_000, T0 + 2 * DAY, "administrative_approval")  # Mon-Wed
    works = PauseView(2, T0 + 2 * DAY, T0 + 11 * DAY, "construction")  # Wed to Fri next week
    applications = [
        app("LB1", "lingbao", "A", 12, pauses=(approval, works)),
        app("LB2", "lingbao", "A", 3, pauses=(approval,)),
    ]
    rows = indicator_rows(applications, BUILT_IN, WorkCalendar(), T0, T0 + 30 * DAY)
    (everything,) = [r for r in rows if r.group == "all"]
    assert (everything.approval_days_median, everything.approval_days_max) == (1.96, 1.96)
    assert everything.construction_days_max == 7.0  # Wed 09:00 to Fri 09:00 next week
    assert everything.pauses_over_limit == 0
    longer = PauseView(3, T0 + 2 * DAY, T0 + 13 * DAY, "construction")  # 7.6 working days
    late = indicator_rows(
        [app("LB3", "lingbao", "B", 14, pauses=(longer,))],
        BUILT_IN,
        WorkCalendar(),
        T0,
        T0 + 30 * DAY,
    )
    assert [r.pauses_over_limit for r in late] == [1, 1]
