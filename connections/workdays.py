"""Working days in mainland China: public holidays and the make-up working days (调休)
that move weekends.

``chinesecalendar`` knows the State Council's schedule for the years it covers (up to
2026 in the version we use). For later years an operator loads the year's schedule from a
holiday file (``load_holiday_file``); without one, Monday-Friday is assumed and a warning
is logged once per year, so that deadlines keep being computed and someone is told.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import chinese_calendar

from connections.errors import HolidayFileError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """One year's days off that would be working days, and working days that would be off."""

    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]


def load_holiday_file(path: Path) -> dict[int, YearSchedule]:
    """``{"2027": {"holidays": ["2027-01-01", ...], "workdays": ["2027-02-07", ...]}}``."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        schedules = {}
        for year, days in raw.items():
            holidays = frozenset(dt.date.fromisoformat(d) for d in days.get("holidays", []))
            workdays = frozenset(dt.date.fromisoformat(d) for d in days.get("workdays", []))
            if any(d.year != int(year) for d in holidays | workdays):
                raise ValueError(f"year {year} lists a date of another year")
            schedules[int(year)] = YearSchedule(holidays, workdays)
        return schedules
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise HolidayFileError(f"holiday file {path}: {exc}") from exc


@dataclass
class WorkCalendar:
    """``is_workday`` for any date: the loaded schedules first (an operator's file wins),
    then chinesecalendar, then Monday-Friday (warned once per year)."""

    schedules: dict[int, YearSchedule] = field(default_factory=dict)
    guessed_years: set[int] = field(default_factory=set)

    def is_workday(self, day: dt.date) -> bool:
        schedule = self.schedules.get(day.year)
        if schedule is not None:
            if day in schedule.holidays:
                return False
            if day in schedule.workdays:
                return True
            return day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self.guessed_years:
                self.guessed_years.add(day.year)
                log.warning(
                    "no holiday schedule for %d: counting Monday-Friday as working days; "
                    "load the State Council's schedule with GASGUARD_HOLIDAY_FILE",
                    day.year,
                )
            return day.weekday() < 5
