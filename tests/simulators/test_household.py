"""Demand profiles: seasons, weekdays and small industry, and that a normal profile stays
inside what the safety rules allow for its meter."""

from __future__ import annotations

import itertools
from datetime import datetime

from contract.local_time import CHINA
from safety.config import RulesConfig, model_limits
from simulators.household import (
    QMAX_M3H,
    household_flow_m3h,
    industry_flow_m3h,
    is_weekend,
    local_month,
)

GUANGZHOU = CHINA
MIN = 60_000


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=GUANGZHOU).timestamp() * 1000)


def minutes_with_flow(flow: object, start_ms: int, minutes: int) -> int:
    return sum(1 for m in range(minutes) if flow(start_ms + m * MIN) > 0)  # type: ignore[operator]


def days_of(year: int, month: int, count: int = 28) -> list[int]:
    return [at(year, month, 1) + d * 86_400_000 for d in range(count)]


def test_local_calendar_helpers() -> None:
    assert local_month(at(2026, 1, 1, 0, 30)) == 1  # still 31 December in UTC
    day = (at(2026, 11, 28) + 8 * 3_600_000) // 86_400_000  # a Saturday
    assert is_weekend(day) and is_weekend(day + 1) and not is_weekend(day + 2)


def test_showers_run_longer_in_the_cool_months_than_in_the_hot_ones() -> None:
    def shower_minutes(month: int) -> int:
        # 20:30-22:00 holds the shower whatever the day's shift of up to 15 minutes.
        return sum(
            minutes_with_flow(
                lambda ts: household_flow_m3h("H1", ts), day + 20 * 3_600_000 + 30 * MIN, 90
            )
            for day in days_of(2026, month)
        )

    assert shower_minutes(1) > 1.5 * shower_minutes(7)


def test_weekend_breakfast_is_an_hour_later() -> None:
    def cooking(days: list[int], from_hour: int) -> int:
        start = from_hour * 60 - 20
        return sum(
            minutes_with_flow(lambda ts: household_flow_m3h("H2", ts), day + start * MIN, 60)
            for day in days
        )

    week_ms = 7 * 86_400_000
    mondays = [at(2026, 11, 23) + w * week_ms for w in range(8)]
    saturdays = [at(2026, 11, 28) + w * week_ms for w in range(8)]
    assert cooking(mondays, 7) > 2 * cooking(saturdays, 7)
    assert cooking(saturdays, 8) > 2 * cooking(mondays, 8)


def test_a_small_factory_runs_two_shifts_on_workdays_within_its_meters_limits() -> None:
    rules = RulesConfig()
    for model in ("G10", "G16", "G25"):
        limits = model_limits(rules, model)
        monday = at(2026, 11, 23)
        flows = [industry_flow_m3h("I1", model, monday + m * MIN) for m in range(24 * 60)]
        assert flows[3 * 60] == 0.0 and flows[23 * 60] == 0.0  # night
        assert flows[12 * 60 + 15] == 0.0  # the noon stop
        assert min(flows[7 * 60 : 12 * 60]) > 0.3 * QMAX_M3H[model]
        assert max(flows) < limits.over_flow_m3h
        steps = [later - earlier for earlier, later in itertools.pairwise(flows)]
        assert max(steps) < limits.sudden_step_m3h
        sunday = at(2026, 11, 29)
        assert all(industry_flow_m3h("I1", model, sunday + m * MIN) == 0 for m in range(0, 1440, 7))
