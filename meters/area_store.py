"""The city by area (issue 23): per district or pressure zone (meters.places), its meters in
service, their closed valves and their open alarms by severity: the dashboard's area view,
drilling down to the area's meters. One query for the meters, one for the alarms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from contract.alarms import ALARM_OPEN_STATES
from meters.alarm_store import SEVERITY_RANK
from meters.db import Transactions
from meters.lifecycle import ENDED
from meters.models import Alarm, Meter
from meters.severity import SEVERITIES

AreaKind = Literal["district", "pressure_zone"]


@dataclass(frozen=True, slots=True)
class AreaView:
    area: str | None  # None: the meters nobody placed
    meters: int
    valves_closed: int
    critical: int = 0
    warning: int = 0
    info: int = 0

    @property
    def worst(self) -> str:
        return next((s for s in SEVERITIES if getattr(self, s)), "none")


class AreaStore:
    def __init__(self, transactions: Transactions) -> None:
        self._run = transactions.run

    def summary(self, by: AreaKind) -> list[AreaView]:
        """Every area with meters in service, the worst first (most critical alarms, then
        warnings), then by name."""
        column = Meter.district if by == "district" else Meter.pressure_zone
        closed = func.sum(case((Meter.valve == "closed", 1), else_=0))
        meters = (
            select(column, func.count(), closed)
            .where(Meter.lifecycle.not_in(ENDED))
            .group_by(column)
        )
        alarms = (
            select(column, SEVERITY_RANK, func.count())
            .select_from(Alarm)
            .join(Meter, Meter.id == Alarm.meter_id)
            .where(Alarm.state.in_(ALARM_OPEN_STATES))
            .group_by(column, SEVERITY_RANK)
        )

        def work(session: Session) -> list[AreaView]:
            open_by: dict[str | None, dict[str, int]] = {}
            for area, rank, count in session.execute(alarms).all():
                open_by.setdefault(area, {})[SEVERITIES[int(rank)]] = int(count)
            views = [
                AreaView(area, int(count), int(shut or 0), **open_by.get(area, {}))
                for area, count, shut in session.execute(meters).all()
            ]
            return sorted(
                views, key=lambda v: (-v.critical, -v.warning, v.area is None, v.area or "")
            )

        return self._run(work)
