"""The on-call rota and escalation steps: pure, no fixtures."""

from __future__ import annotations

import datetime as dt

from contract.local_time import CHINA
from notify.rota import Shift, Step, due_steps, next_on_duty, on_duty, resolve

DAY_SHIFT = Shift("li", "li-sms", 8, 20, (0, 1, 2, 3, 4))  # weekdays 08-20
NIGHT = Shift("wang", "wang-sms", 20, 8, (0, 1, 2, 3, 4))  # weeknights, past midnight
WEEKEND = Shift("zhao", "zhao-sms", 0, 24, (5, 6))
ROTA = (DAY_SHIFT, NIGHT, WEEKEND)


def at(day: int, hour: int) -> int:
    """Epoch ms of 2026-12-(day) hour:00 in UTC+8 (2026-12-07 is a Monday)."""
    return int(dt.datetime(2026, 12, day, hour, tzinfo=CHINA).timestamp() * 1000)


def test_who_is_on_duty_follows_the_shifts_across_midnight_and_the_weekend() -> None:
    assert on_duty(ROTA, at(7, 9)) == (DAY_SHIFT,)  # Monday morning
    assert on_duty(ROTA, at(7, 21)) == (NIGHT,)  # Monday evening
    assert on_duty(ROTA, at(8, 3)) == (NIGHT,)  # Tuesday 03:00: Monday night's shift
    assert on_duty(ROTA, at(12, 3)) == (NIGHT, WEEKEND)  # Saturday 03:00: Friday's night runs on
    assert on_duty(ROTA, at(12, 9)) == (WEEKEND,)
    assert on_duty(ROTA, at(7, 3)) == ()  # Monday 03:00: a gap, Sunday night is nobody's


def test_the_next_person_is_the_second_on_duty_or_the_next_shift() -> None:
    assert next_on_duty(ROTA, at(12, 3)) == WEEKEND
    assert next_on_duty(ROTA, at(7, 9)) == NIGHT  # after li's day: wang at 20:00
    assert next_on_duty((DAY_SHIFT,), at(7, 9)) is None  # nobody else, all week


def test_on_call_names_resolve_to_the_channels_of_who_that_is_now() -> None:
    names = ("on-call", "on-call-next", "supervisor-sms", "li-sms")
    assert resolve(names, ROTA, at(7, 9)) == ("li-sms", "wang-sms", "supervisor-sms")
    assert resolve(("on-call",), (), at(7, 9)) == ()  # no rota: nobody


def test_escalation_steps_come_due_in_turn() -> None:
    steps = (Step(600, ("on-call-next",)), Step(1200, ("supervisor-sms",)))
    raised = at(8, 3)
    assert due_steps(steps, raised, raised + 599_000) == ()
    assert due_steps(steps, raised, raised + 600_000) == steps[:1]
    assert due_steps(steps, raised, raised + 1_300_000) == steps
