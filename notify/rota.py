"""Who is on duty now, from the on-call rota; and escalation, when a critical alarm is not
acknowledged in time: the next person, then the supervisor. Pure: time is passed in.

A rota is a list of shifts, each one person's (a channel that reaches them) on some
weekdays between two local hours (UTC+8; a shift may run past midnight: 22-7). The route
and escalation channel names ``on-call`` and ``on-call-next`` stand for the channels of
the first person on duty now and of the one after them (the next on duty now, else the
next shift's)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from contract.local_time import CHINA

ON_CALL, ON_CALL_NEXT = "on-call", "on-call-next"
EVERY_DAY = (0, 1, 2, 3, 4, 5, 6)  # Monday 0


@dataclass(frozen=True, slots=True)
class Shift:
    person: str  # a username: who acknowledges by the link in their message
    channel: str  # the channel that reaches them (their phone, their mail)
    start_hour: int = 0
    end_hour: int = 24
    weekdays: tuple[int, ...] = EVERY_DAY  # of the shift's start


@dataclass(frozen=True, slots=True)
class Step:
    """Escalation: ``after_s`` after the alarm was raised and still not acknowledged, its
    message goes to ``channels`` too."""

    after_s: float
    channels: tuple[str, ...]


def _covers(shift: Shift, at: dt.datetime) -> bool:
    hour = at.hour
    if shift.start_hour <= shift.end_hour:
        return at.weekday() in shift.weekdays and shift.start_hour <= hour < shift.end_hour
    if hour >= shift.start_hour:  # past midnight: the evening part, on its own weekday
        return at.weekday() in shift.weekdays
    yesterday = (at.weekday() - 1) % 7  # the morning part belongs to yesterday's shift
    return hour < shift.end_hour and yesterday in shift.weekdays


def on_duty(rota: Sequence[Shift], at_ms: int) -> tuple[Shift, ...]:
    """The shifts covering ``at_ms``, in rota order."""
    at = dt.datetime.fromtimestamp(at_ms / 1000, CHINA)
    return tuple(s for s in rota if _covers(s, at))


def next_on_duty(rota: Sequence[Shift], at_ms: int) -> Shift | None:
    """The one after the first on duty: the second on duty now, else the first of the next
    shift to begin (within a week) who is not on duty now."""
    now = on_duty(rota, at_ms)
    if len(now) > 1:
        return now[1]
    for hours in range(1, 7 * 24 + 1):
        later = on_duty(rota, at_ms + hours * 3_600_000)
        fresh = [s for s in later if s not in now]
        if fresh:
            return fresh[0]
    return None


def resolve(channels: Sequence[str], rota: Sequence[Shift], at_ms: int) -> tuple[str, ...]:
    """Route or escalation channels with ``on-call`` / ``on-call-next`` replaced by the
    channel of who that is at ``at_ms`` (nobody: left out), each once."""
    out: list[str] = []
    for name in channels:
        if name == ON_CALL:
            duty = on_duty(rota, at_ms)
            name = duty[0].channel if duty else ""
        elif name == ON_CALL_NEXT:
            after = next_on_duty(rota, at_ms)
            name = after.channel if after else ""
        if name and name not in out:
            out.append(name)
    return tuple(out)


def due_steps(steps: Sequence[Step], raised_ms: int, now_ms: int) -> tuple[Step, ...]:
    """The escalation steps whose time has come for an alarm raised at ``raised_ms`` that
    nobody has acknowledged yet."""
    return tuple(step for step in steps if now_ms - raised_ms >= step.after_s * 1000)
