"""Which channels an alarm goes to: routes by severity, rule, the meter's district and the
time of day (local, UTC+8). A route's quiet hours hold back what is not critical; they
never silence a shutoff or any critical alarm. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from contract.local_time import CHINA
from notify.notice import Notice

RANK = {"info": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True, slots=True)
class Route:
    channels: tuple[str, ...]
    min_severity: str = "critical"
    rules: tuple[str, ...] = ()  # empty: every rule
    quiet: tuple[int, int] | None = None  # (from hour, to hour), local: only critical then
    districts: tuple[str, ...] = ()  # empty: everywhere


def quiet_now(quiet: tuple[int, int] | None, at_ms: int) -> bool:
    if quiet is None:
        return False
    hour = dt.datetime.fromtimestamp(at_ms / 1000, CHINA).hour
    start, end = quiet
    return start <= hour < end if start <= end else hour >= start or hour < end


def channels_for(notice: Notice, routes: Sequence[Route], now_ms: int) -> tuple[str, ...]:
    """The channels of every route the notice passes, each once, in route order."""
    chosen: list[str] = []
    urgent = notice.severity == "critical" or notice.action == "shutoff"
    for route in routes:
        if RANK.get(notice.severity, 0) < RANK.get(route.min_severity, 2):
            continue
        if route.rules and notice.rule not in route.rules:
            continue
        if route.districts and notice.district not in route.districts:
            continue
        if not urgent and quiet_now(route.quiet, now_ms):
            continue
        chosen.extend(c for c in route.channels if c not in chosen)
    return tuple(chosen)
