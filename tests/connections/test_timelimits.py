"""Working days and the connection time limits (pure: no fixtures)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from connections.timelimits import GUANGZHOU, LINGBAO, LOCAL, Pause, time_status, used_days
from connections.workdays import HolidayFileError, WorkCalendar, load_holiday_file

HOUR = 3_600_000
DAY = 24 * HOUR


def at(text: str) -> int:
    """Local (Guangzhou) time as epoch milliseconds."""
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=LOCAL).timestamp() * 1000)


def test_chinese_holidays_and_make_up_working_days_2026() -> None:
    calendar = WorkCalendar()
    assert calendar.is_workday(dt.date(2026, 2, 14))  # Saturday, a make-up working day (调休)
    assert not calendar.is_workday(dt.date(2026, 2, 16))  # Spring Festival, a Monday
    assert not calendar.is_workday(dt.date(2026, 10, 1))  # National Day
    assert calendar.is_workday(dt.date(2026, 9, 20))  # Sunday, made up for National Day
    assert not calendar.is_workday(dt.date(2026, 3, 7))  # an ordinary Saturday


def test_years_after_the_library_use_the_operators_file_or_monday_to_friday(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    guessed = WorkCalendar()
    with caplog.at_level(logging.WARNING):
        assert guessed.is_workday(dt.date(2027, 1, 1))  # a Friday: no data, Mon-Fri
        assert not guessed.is_workday(dt.date(2027, 1, 2))
    assert guessed.guessed_years == {2027}
    assert [r.message for r in caplog.records if "2027" in r.message][:1]
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps({"2027": {"holidays": ["2027-01-01"], "workdays": ["2027-01-02"]}}))
    loaded = WorkCalendar(load_holiday_file(path))
    assert not loaded.is_workday(dt.date(2027, 1, 1))
    assert loaded.is_workday(dt.date(2027, 1, 2))  # Saturday made a working day
    assert loaded.is_workday(dt.date(2027, 1, 4)) and loaded.guessed_years == set()
    path.write_text(json.dumps({"2027": {"holidays": ["2028-01-01"]}}))
    with pytest.raises(HolidayFileError, match="another year"):
        load_holiday_file(path)


def test_guangzhou_counts_natural_days_and_warns_at_80_percent() -> None:
    calendar = WorkCalendar()
    start = at("2026-09-30T09:00")
    status = time_status(GUANGZHOU, calendar, "none", start, None, [], start + 2 * DAY)
    assert (status.used_days, status.budget_days, status.state) == (2.0, 3, "on_time")
    warning = time_status(GUANGZHOU, calendar, "none", start, None, [], start + int(2.5 * DAY))
    assert warning.state == "warning"  # 83 %: holidays count in natural days
    overdue = time_status(GUANGZHOU, calendar, "A", start, None, [], start + 5 * DAY)
    assert (overdue.state, overdue.left_days) == ("overdue", 0.0)
    done = time_status(GUANGZHOU, calendar, "B", start, start + 7 * DAY, [], start + 20 * DAY)
    assert (done.state, done.used_days) == ("done_in_time", 7.0)


def test_lingbao_counts_working_days_without_time_outside_the_utilitys_control() -> None:
    calendar = WorkCalendar()
    # Wednesday 30 September 09:00; National Day holidays 1-7 October do not count.
    start = at("2026-09-30T09:00")
    assert used_days(LINGBAO, calendar, start, at("2026-10-08T09:00"), []) == 1.0
    status = time_status(LINGBAO, calendar, "A", start, None, [], at("2026-10-08T09:00"))
    assert (status.used_days, status.state) == (1.0, "on_time")
    # A design pause of one working day (8 October 09:00 to 9 October 09:00) is left out.
    design = Pause(at("2026-10-08T09:00"), at("2026-10-09T09:00"), "design")
    paused = time_status(LINGBAO, calendar, "A", start, None, [design], at("2026-10-09T21:00"))
    assert (paused.used_days, paused.state) == (1.5, "on_time")
    still_paused = Pause(at("2026-10-09T09:00"), None, "approval")
    assert used_days(LINGBAO, calendar, start, at("2026-10-12T09:00"), [still_paused]) == 2.0
    # Guangzhou's policy would count the pause.
    assert used_days(GUANGZHOU, calendar, start, at("2026-10-09T21:00"), [design]) == 9.5


def test_overlapping_pauses_count_once() -> None:
    calendar = WorkCalendar()
    start = at("2026-03-02T00:00")  # a Monday
    pauses = [
        Pause(start + 2 * HOUR, start + 10 * HOUR, "design"),
        Pause(start + 6 * HOUR, start + 12 * HOUR, "approval"),
    ]
    assert used_days(LINGBAO, calendar, start, start + DAY, pauses) == 14 / 24  # 10 h paused
