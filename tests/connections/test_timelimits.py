"""Working days and the connection deadlines as the law counts them (pure: no fixtures).
The worked examples are issue 20's, on the 2026 calendar."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connections.errors import CalendarMissing
from connections.timelimits import (
    GUANGZHOU,
    LINGBAO,
    LOCAL,
    Pause,
    Policy,
    TimeStatus,
    elapsed_days,
    iso_local,
    measure_ms,
    time_status,
)
from connections.workdays import HolidayFileError, WorkCalendar, load_holiday_file

HOUR = 3_600_000
DAY = 24 * HOUR
CALENDAR = WorkCalendar()


def at(text: str) -> int:
    """Local (UTC+8) time as epoch milliseconds; "24:00" is the end of that day."""
    day, _, clock = text.partition("T")
    if clock == "24:00":
        return at(f"{dt.date.fromisoformat(day) + dt.timedelta(days=1)}T00:00")
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=LOCAL).timestamp() * 1000)


# -- the calendar -------------------------------------------------------------------------


def test_chinese_holidays_and_make_up_working_days_2026() -> None:
    assert CALENDAR.is_workday(dt.date(2026, 2, 14))  # Saturday, a make-up working day (调休)
    assert not CALENDAR.is_workday(dt.date(2026, 2, 16))  # Spring Festival, a Monday
    assert not CALENDAR.is_workday(dt.date(2026, 10, 1))  # National Day
    assert CALENDAR.is_workday(dt.date(2026, 9, 20))  # Sunday, made up for National Day
    assert not CALENDAR.is_workday(dt.date(2026, 3, 7))  # an ordinary Saturday


def test_a_year_without_a_schedule_is_missing_not_guessed(tmp_path: Path) -> None:
    with pytest.raises(CalendarMissing) as missing:
        CALENDAR.is_workday(dt.date(2027, 1, 4))
    assert missing.value.year == 2027
    assert CALENDAR.source(2026) == "chinesecalendar" and CALENDAR.source(2027) is None
    assert CALENDAR.missing([2026, 2027, 2028, 2027]) == [2027, 2028]
    path = tmp_path / "holidays.json"
    path.write_text(json.dumps({"2027": {"holidays": ["2027-01-01"], "workdays": ["2027-01-02"]}}))
    loaded = WorkCalendar(load_holiday_file(path))
    assert not loaded.is_workday(dt.date(2027, 1, 1))
    assert loaded.is_workday(dt.date(2027, 1, 2))  # Saturday made a working day
    assert loaded.is_workday(dt.date(2027, 1, 4))
    assert loaded.source(2027) == "holiday file" and loaded.missing([2026, 2027]) == []
    path.write_text(json.dumps({"2027": {"holidays": ["2028-01-01"]}}))
    with pytest.raises(HolidayFileError, match="another year"):
        load_holiday_file(path)


# -- the worked examples ------------------------------------------------------------------


def status_of(
    policy: Policy,
    accepted: str,
    done: str | None,
    now: str,
    category: str = "none",
    pauses: Sequence[Pause] = (),
) -> TimeStatus:
    return time_status(
        policy,
        CALENDAR,
        category,
        at(accepted),
        at(done) if done else None,
        list(pauses),
        at(now),
    )


def test_guangzhou_does_not_count_the_day_of_acceptance_and_ends_at_24_00() -> None:
    """Accepted Monday 17:00, no external works: Tuesday, Wednesday, Thursday; gas on
    Thursday 18:00 is in time (counted as elapsed days, 3.04, it was once late)."""
    done = status_of(GUANGZHOU, "2026-03-02T17:00", "2026-03-05T18:00", "2026-03-06T09:00")
    assert done.state == "done_in_time"
    assert done.deadline == "2026-03-05T24:00:00+08:00"
    assert done.deadline_ms == at("2026-03-05T24:00") == at("2026-03-06T00:00")
    assert done.counted_from == "2026-03-03"
    assert (done.used_days, done.left_days) == (2.75, 0.25)
    late = status_of(GUANGZHOU, "2026-03-02T17:00", "2026-03-06T00:01", "2026-03-06T09:00")
    assert late.state == "done_late"
    assert status_of(GUANGZHOU, "2026-03-02T17:00", None, "2026-03-02T23:00").used_days == 0.0


def test_guangzhou_class_a_and_b_count_five_and_eight_natural_days() -> None:
    a = status_of(GUANGZHOU, "2026-03-02T10:00", None, "2026-03-03T00:00", "A")
    b = status_of(GUANGZHOU, "2026-03-02T10:00", None, "2026-03-03T00:00", "B")
    assert a.deadline == "2026-03-07T24:00:00+08:00" and a.budget_days == 5
    assert b.deadline == "2026-03-10T24:00:00+08:00" and b.budget_days == 8


def test_lingbao_accepted_today_opened_tomorrow_is_in_time() -> None:
    """当日受理、次日开通: accepted Monday 09:00, opened Tuesday 17:00."""
    done = status_of(LINGBAO, "2026-03-02T09:00", "2026-03-03T17:00", "2026-03-04T09:00")
    assert done.state == "done_in_time"
    assert done.deadline == "2026-03-03T24:00:00+08:00" and done.counted_from == "2026-03-02"


@pytest.mark.parametrize(
    ("accepted", "deadline"),
    [
        ("2026-03-06T16:00", "2026-03-09T24:00:00+08:00"),  # Friday: Friday, Monday
        ("2026-03-07T10:00", "2026-03-10T24:00:00+08:00"),  # Saturday: Monday, Tuesday
        ("2026-09-30T09:00", "2026-10-08T24:00:00+08:00"),  # National Day, Oct 1-7
        ("2026-03-02T18:00", "2026-03-04T24:00:00+08:00"),  # after business hours (17:30)
    ],
)
def test_lingbao_counts_working_days_from_the_day_of_acceptance(
    accepted: str, deadline: str
) -> None:
    status = status_of(LINGBAO, accepted, None, accepted)
    assert status.deadline == deadline
    assert status.state == "on_time"


def test_warnings_come_at_the_share_and_overdue_after_24_00_of_the_last_day() -> None:
    accepted = "2026-03-02T10:00"  # Guangzhou: Tuesday 00:00 to Thursday 24:00
    assert status_of(GUANGZHOU, accepted, None, "2026-03-05T09:00").state == "on_time"  # 79 %
    warning = status_of(GUANGZHOU, accepted, None, "2026-03-05T12:00")
    assert (warning.state, warning.share) == ("warning", 0.833)
    assert status_of(GUANGZHOU, accepted, None, "2026-03-05T24:00").state == "warning"
    overdue = status_of(GUANGZHOU, accepted, None, "2026-03-06T06:00")
    assert (overdue.state, overdue.left_days) == ("overdue", -0.25)


# -- time left out ------------------------------------------------------------------------


def test_a_pause_moves_a_working_day_deadline_by_the_working_time_inside_it() -> None:
    """Lingbao, accepted Monday 09:00 (deadline Tuesday 24:00); drawings review from
    Monday 12:00 to Wednesday 12:00 holds two working days: deadline Thursday 24:00."""
    review = Pause(at("2026-03-02T12:00"), at("2026-03-04T12:00"), "drawings_review")
    status = status_of(LINGBAO, "2026-03-02T09:00", None, "2026-03-04T12:00", pauses=[review])
    assert status.deadline == "2026-03-05T24:00:00+08:00"
    assert (status.used_days, status.left_days) == (0.5, 1.5)  # Monday 00:00-12:00 used


def test_a_pause_over_a_weekend_moves_a_working_day_deadline_by_nothing() -> None:
    weekend = Pause(at("2026-03-07T00:00"), at("2026-03-09T00:00"), "construction")  # max 7
    status = status_of(LINGBAO, "2026-03-06T10:00", None, "2026-03-09T10:00", pauses=[weekend])
    assert status.deadline == "2026-03-09T24:00:00+08:00"


def test_a_pause_still_open_holds_the_days_left_up_to_its_reasons_maximum() -> None:
    """Administrative approval: at most 3 working days left out (Lingbao's own clock);
    beyond that the clock runs again and the pause is flagged."""
    approval = Pause(at("2026-03-02T12:00"), None, "administrative_approval")
    first = status_of(LINGBAO, "2026-03-02T09:00", None, "2026-03-03T10:00", pauses=[approval])
    later = status_of(LINGBAO, "2026-03-02T09:00", None, "2026-03-05T11:00", pauses=[approval])
    assert first.left_days == later.left_days == 1.5
    assert first.state == later.state == "on_time"
    assert first.pauses_over_limit == later.pauses_over_limit == ()
    # 3 working days from Monday 12:00 end on Thursday 12:00; the deadline stops moving
    capped = status_of(LINGBAO, "2026-03-02T09:00", None, "2026-03-06T16:00", pauses=[approval])
    assert capped.deadline == "2026-03-06T24:00:00+08:00"  # Tuesday 24:00 + 3 working days
    assert capped.pauses_over_limit == ("administrative_approval",)
    assert (capped.left_days, capped.state) == (0.333, "warning")
    legacy = Pause(at("2026-03-02T12:00"), None, "free text from before the list")
    kept = status_of(LINGBAO, "2026-03-02T09:00", None, "2026-03-20T10:00", pauses=[legacy])
    assert (kept.left_days, kept.pauses_over_limit) == (1.5, ())  # no maximum known for it


def test_a_city_sets_its_own_pause_maxima() -> None:
    strict = dataclasses.replace(LINGBAO, pause_max_days={"design": 1})
    design = Pause(at("2026-03-02T12:00"), at("2026-03-05T12:00"), "design")
    status = status_of(strict, "2026-03-02T09:00", None, "2026-03-05T12:00", pauses=[design])
    assert status.deadline == "2026-03-04T24:00:00+08:00"  # moved by one working day only
    assert status.pauses_over_limit == ("design",)


def test_a_pause_that_starts_after_the_deadline_does_not_make_a_late_record_on_time() -> None:
    after = Pause(at("2026-03-04T09:00"), at("2026-03-09T09:00"), "waiting for the customer")
    status = status_of(LINGBAO, "2026-03-02T09:00", None, "2026-03-09T10:00", pauses=[after])
    assert status.deadline == "2026-03-03T24:00:00+08:00" and status.state == "overdue"


def test_guangzhou_counts_its_pauses() -> None:
    design = Pause(at("2026-03-03T00:00"), at("2026-03-04T00:00"), "design")
    status = status_of(GUANGZHOU, "2026-03-02T10:00", None, "2026-03-04T00:00", pauses=[design])
    assert status.deadline == "2026-03-05T24:00:00+08:00" and status.used_days == 1.0


def test_overlapping_pauses_count_once() -> None:
    pauses = [
        Pause(at("2026-03-02T10:00"), at("2026-03-02T18:00"), "design"),
        Pause(at("2026-03-02T14:00"), at("2026-03-02T20:00"), "administrative approval"),
    ]
    status = status_of(LINGBAO, "2026-03-02T09:00", None, "2026-03-02T21:00", pauses=pauses)
    assert status.deadline == "2026-03-04T10:00:00+08:00"  # moved by 10 h of working time
    used = elapsed_days(LINGBAO, CALENDAR, at("2026-03-02T00:00"), at("2026-03-03T00:00"), pauses)
    assert used == 14 / 24


# -- years without a schedule -------------------------------------------------------------


def test_a_working_day_deadline_in_a_year_without_a_schedule_is_calendar_missing() -> None:
    status = status_of(LINGBAO, "2026-12-31T10:00", None, "2026-12-31T11:00")
    assert status.state == "calendar_missing" and status.missing_year == 2027
    assert status.deadline is None and status.used_days is None
    natural = status_of(GUANGZHOU, "2026-12-31T10:00", None, "2026-12-31T11:00")
    assert natural.deadline == "2027-01-03T24:00:00+08:00"  # natural days need no schedule


def test_a_policy_that_extends_past_rest_days_moves_its_last_day() -> None:
    extended = dataclasses.replace(GUANGZHOU, holiday_extends=True)
    plain = status_of(GUANGZHOU, "2026-09-28T10:00", None, "2026-09-28T11:00")
    moved = status_of(extended, "2026-09-28T10:00", None, "2026-09-28T11:00")
    assert plain.deadline == "2026-10-01T24:00:00+08:00"  # National Day
    assert moved.deadline == "2026-10-08T24:00:00+08:00"  # the first working day after


# -- properties ---------------------------------------------------------------------------

instants = st.integers(at("2026-01-01T00:00"), at("2026-11-30T00:00"))


@given(instants, st.sampled_from(["none", "A", "B"]))
def test_at_day_one_every_day_is_left_and_the_deadline_is_a_local_midnight(
    accepted: int, category: str
) -> None:
    for policy in (GUANGZHOU, LINGBAO):
        status = time_status(policy, CALENDAR, category, accepted, None, [], accepted)
        assert status.deadline_ms is not None and status.left_days is not None
        assert dt.datetime.fromtimestamp(status.deadline_ms / 1000, LOCAL).time() == dt.time()
        assert status.deadline is not None and status.deadline.endswith("T24:00:00+08:00")
        assert status.left_days <= status.budget_days
        assert status.left_days > status.budget_days - 1  # at most the acceptance day used


@given(instants, st.integers(0, 20 * DAY), st.integers(0, 5 * DAY))
def test_a_pause_never_brings_the_deadline_earlier(accepted: int, offset: int, length: int) -> None:
    pause = Pause(accepted + offset, accepted + offset + length, "design")
    now = accepted + offset + length
    plain = time_status(LINGBAO, CALENDAR, "A", accepted, None, [], now)
    paused = time_status(LINGBAO, CALENDAR, "A", accepted, None, [pause], now)
    assert plain.deadline_ms is not None and paused.deadline_ms is not None
    assert paused.deadline_ms >= plain.deadline_ms
    working = measure_ms(LINGBAO, CALENDAR, plain.deadline_ms, paused.deadline_ms)
    assert working <= measure_ms(LINGBAO, CALENDAR, pause.start_ms, now)


def test_a_midnight_is_written_as_24_00_of_the_day_before() -> None:
    assert iso_local(at("2026-03-06T00:00")) == "2026-03-05T24:00:00+08:00"
    assert iso_local(at("2026-03-06T07:30")) == "2026-03-06T07:30:00+08:00"
