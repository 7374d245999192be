"""The simulator's report schedule: every meter once per interval, staggered, and a late
tick never bursts."""

from __future__ import annotations

from collections import Counter

from simulators.schedule import ReportSchedule


def test_every_meter_reports_once_per_interval_spread_over_it() -> None:
    schedule = ReportSchedule([60_000] * 600, start_ms=0)
    first_minute = [schedule.due(t) for t in range(999, 60_000, 1_000)]
    assert Counter(i for tick in first_minute for i in tick) == Counter(range(600))
    assert max(len(tick) for tick in first_minute) == 10  # 600 meters over 60 one-second ticks
    second_minute = [i for t in range(60_999, 120_000, 1_000) for i in schedule.due(t)]
    assert sorted(second_minute) == list(range(600))


def test_meters_keep_their_own_intervals() -> None:
    schedule = ReportSchedule([10_000, 60_000], start_ms=0)
    reports = Counter(i for t in range(0, 120_000, 500) for i in schedule.due(t))
    assert reports == {0: 12, 1: 2}


def test_a_late_tick_skips_missed_reports_instead_of_bursting() -> None:
    schedule = ReportSchedule([1_000] * 3, start_ms=0)
    assert sorted(schedule.due(10_500)) == [0, 1, 2]  # ten intervals late: once each
    assert schedule.due(10_600) == []
    assert sorted(schedule.due(11_600)) == [0, 1, 2]
