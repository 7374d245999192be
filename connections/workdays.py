"""Working days in mainland China: public holidays and the make-up working days (调休)
that move weekends.

``chinesecalendar`` knows the State Council's schedule for the years it covers (2004 to
2026 in the version we use). For later years an operator loads the year's schedule from a
holiday file (``load_holiday_file``). A year that neither covers is **missing**:
``is_workday`` raises ``CalendarMissing`` instead of guessing Monday to Friday (a guess
would be wrong for every holiday and make-up day of that year, so deadlines are not
computed on it), and ``source`` says where each year's schedule comes from.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import chinese_calendar

from connections.errors import CalendarMissing, HolidayFileError


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
    """``is_workday`` for the dates of the years it knows: the loaded schedules first (an
    operator's file wins), then chinesecalendar; ``CalendarMissing`` for any other year."""

    schedules: dict[int, YearSchedule] = field(default_factory=dict)
    # answers already given: the watch asks the same few weeks for every open application
    _known: dict[dt.date, bool] = field(default_factory=dict, repr=False, compare=False)

    def is_workday(self, day: dt.date) -> bool:
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._is_workday(day)
        return known

    def _is_workday(self, day: dt.date) -> bool:
        schedule = self.schedules.get(day.year)
        if schedule is not None:
            if day in schedule.holidays:
                return False
            if day in schedule.workdays:
                return True
            return day.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError as exc:
            raise CalendarMissing(day.year) from exc

    def source(self, year: int) -> str | None:
        """Where the year's schedule comes from: "holiday file", "chinesecalendar", or
        None when it is missing."""
        if year in self.schedules:
            return "holiday file"
        try:
            chinese_calendar.is_workday(dt.date(year, 1, 1))
        except NotImplementedError:
            return None
        return "chinesecalendar"

    def missing(self, years: Iterable[int]) -> list[int]:
        """The years of ``years`` whose schedule is missing, in order."""
        return sorted(year for year in set(years) if self.source(year) is None)
