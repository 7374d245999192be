from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query

from api.auth import require
from api.deps import ContextDep, RegistryDep, StoreDep
from api.params import Limit, Offset
from api.schemas import MeterDetail, ReadingOut, ReadingsPage
from api.timeparams import bounded_range
from contract.protocol import METER_ID_PATTERN
from contract.readings import Reading
from meters.views import MeterView

# Reading any of this needs a signed-in viewer.
router = APIRouter(prefix="/meters", tags=["meters"], dependencies=[Depends(require("viewer"))])

MeterId = Annotated[str, Path(pattern=METER_ID_PATTERN)]


def reading_out(reading: Reading) -> ReadingOut:
    fields = asdict(reading)
    fields.pop("meter_id")
    return ReadingOut(ts=fields.pop("ts_ms"), **fields)


@router.get("", response_model=list[MeterView])
def list_meters(
    registry: RegistryDep,
    offset: Offset = 0,
    limit: Limit = 100,
    valve: Literal["open", "closed", "fault"] | None = None,
    order: Annotated[
        Literal["id", "valve"],
        Query(description="id, or valve: closed first, then fault, open, never reported"),
    ] = "id",
) -> list[MeterView]:
    return registry.meters.find(offset, limit, valve, order)


@router.get("/{meter_id}", response_model=MeterDetail)
def get_meter(meter_id: MeterId, registry: RegistryDep, store: StoreDep) -> MeterDetail:
    meter = registry.meters.get(meter_id)
    latest = store.latest(meter_id)
    return MeterDetail(**asdict(meter), latest=reading_out(latest) if latest else None)


@router.get("/{meter_id}/readings", response_model=ReadingsPage)
def readings(
    meter_id: MeterId,
    registry: RegistryDep,
    store: StoreDep,
    context: ContextDep,
    start: Annotated[
        str | None, Query(description="epoch ms or RFC 3339; default end - 24 h")
    ] = None,
    end: Annotated[str | None, Query(description="epoch ms or RFC 3339; default now")] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> ReadingsPage:
    registry.meters.get(meter_id)
    start_ms, end_ms = bounded_range(start, end, context.clock(), context.max_range_days)
    cap = min(limit or context.max_readings, context.max_readings)
    rows = store.readings(meter_id, start_ms, end_ms, cap + 1)
    return ReadingsPage(
        meter_id=meter_id,
        start=start_ms,
        end=end_ms,
        readings=[reading_out(r) for r in rows[:cap]],
        truncated=len(rows) > cap,
    )
