from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from api.auth import Operator, Supervisor, require
from api.deps import ContextDep, RegistryDep, StoreDep
from api.params import Limit, MeterId, Offset
from api.schemas import LifecycleRequest, MeterDetail, ReadingOut, ReadingsPage
from api.timeparams import bounded_range
from contract.readings import Reading
from contract.roles import role_at_least
from meters.consumption import Consumption, as_csv, carried_over, consumption
from meters.delivery_files import DeliveryFileError, import_delivery
from meters.errors import Conflict
from meters.lifecycle import LifecycleStep
from meters.views import AuditView, ImportReport, MeterView

# Reading any of this needs a signed-in viewer.
router = APIRouter(prefix="/meters", tags=["meters"], dependencies=[Depends(require("viewer"))])


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
    district: Annotated[str | None, Query(max_length=64)] = None,
    pressure_zone: Annotated[str | None, Query(max_length=64)] = None,
) -> list[MeterView]:
    """A page of meters; ``district``, ``pressure_zone``: those of one area only."""
    return registry.meters.find(offset, limit, valve, order, district, pressure_zone)


MAX_DELIVERY_BYTES = 20_000_000  # a delivery of 200,000 meters as CSV is some 20 MB


@router.post("/import", response_model=ImportReport)
async def import_meters(
    file: UploadFile,
    actor: Supervisor,
    context: ContextDep,
    dry_run: Annotated[bool, Query(description="check every row, change nothing")] = False,
) -> ImportReport:
    """The factory's delivery file (CSV or .xlsx, a header row: docs/meters.md), every row
    checked; all of it imported, or nothing (422 naming each bad row's line and field).
    Importing the same file twice changes nothing."""
    content = await file.read(MAX_DELIVERY_BYTES + 1)
    if len(content) > MAX_DELIVERY_BYTES:
        raise HTTPException(413, f"a delivery file is at most {MAX_DELIVERY_BYTES} bytes")
    try:
        report = await run_in_threadpool(
            import_delivery,
            context.registry.meters,
            content,
            file.filename or "delivery.csv",
            context.meter_models,
            context.device_profiles,
            actor,
            context.clock(),
            dry_run,
        )
    except DeliveryFileError as exc:
        raise HTTPException(422, f"file: {exc}") from exc
    if report.errors:
        raise HTTPException(422, {"errors": list(report.errors), "imported": 0})
    return report


@router.get("/{meter_id}", response_model=MeterDetail)
def get_meter(meter_id: MeterId, registry: RegistryDep, store: StoreDep) -> MeterDetail:
    meter = registry.meters.get(meter_id)
    latest = store.latest(meter_id)
    return MeterDetail(**asdict(meter), latest=reading_out(latest) if latest else None)


MAX_CONSUMPTION_READINGS = 600_000  # a year of 1-minute readings, or 10 years hourly


@router.get("/{meter_id}/consumption", response_model=list[Consumption])
def meter_consumption(
    meter_id: MeterId,
    context: ContextDep,
    start: Annotated[str | None, Query(description="ISO time or epoch ms")] = None,
    end: Annotated[str | None, Query(description="ISO time or epoch ms")] = None,
    by: Literal["day", "month"] = "day",
    format: Literal["json", "csv"] = "json",
) -> list[Consumption] | Response:
    """Gas used per day or month (local time, UTC+8) from the register, for billing: steps
    the register cannot have made (a reset, a spike) are left out and counted
    (``left_out``). Default the last 31 days; at most 31 days by day, 366 by month.
    ``format=csv`` for a billing system. A meter that replaced another carries its
    register on: the old meter's days count, and the swap itself is no step."""
    meter = context.registry.meters.get(meter_id)
    now_ms = context.clock()
    days = 31 if by == "day" else 366
    if start is None and end is None:
        start_ms, end_ms = now_ms - days * 86_400_000, now_ms
    else:
        start_ms, end_ms = bounded_range(start, end, now_ms, days)
    readings = context.store.readings(meter_id, start_ms, end_ms, MAX_CONSUMPTION_READINGS)
    if meter.replaces and meter.register_start_m3 is not None:  # the register carries over
        old = context.registry.meters.get(meter.replaces)
        if old.register_end_m3 is not None and old.lifecycle_ms is not None:
            until_ms = min(end_ms, old.lifecycle_ms)
            before = context.store.readings(old.id, start_ms, until_ms, MAX_CONSUMPTION_READINGS)
            readings = carried_over(before, readings, old.register_end_m3, meter.register_start_m3)
    max_flow = context.meter_models.get(meter.model, max(context.meter_models.values()))
    periods = consumption(readings, by, max_flow)
    if format == "csv":
        name = f"consumption-{meter_id}-{by}.csv"
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(as_csv(meter_id, periods), media_type="text/csv", headers=headers)
    return periods


@router.post("/{meter_id}/lifecycle", response_model=MeterView)
def lifecycle(
    meter_id: MeterId, body: LifecycleRequest, actor: Operator, context: ContextDep
) -> MeterView:
    """One step of the meter's life (docs/meters.md), audited: 409 when it cannot follow
    the meter's state or lacks what it needs (the installer, the registers). Removing or
    replacing a meter is a supervisor's; it revokes the meter's MQTT account."""
    if body.step in ("remove", "replace") and not role_at_least(actor.role, "supervisor"):
        raise HTTPException(403, f"{body.step} needs the supervisor role")
    request = LifecycleStep(**body.model_dump())
    try:
        return context.registry.meters.lifecycle_step(meter_id, request, actor, context.clock())
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc


@router.get("/{meter_id}/history", response_model=list[AuditView])
def history(meter_id: MeterId, registry: RegistryDep, limit: Limit = 100) -> list[AuditView]:
    """The meter's life as the audit log has it (import, install, commission, ..., remove
    or replace; threshold changes, key exports), newest first: who, when, why."""
    registry.meters.get(meter_id)  # 404 for an unknown meter
    return registry.audit.history(f"meter:{meter_id}", "meter.", limit)


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
