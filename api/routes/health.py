from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.auth import Viewer
from api.deps import ContextDep, RegistryDep, StoreDep
from api.schemas import Health, Overview
from connections.policies import years_ahead
from meters.errors import RegistryError
from meters.overview import overview as fleet_overview

router = APIRouter(tags=["health"])


def missing_years(context: ContextDep) -> list[int]:
    """The holiday schedules needed now that are missing (connections.policies)."""
    return context.policies.calendar.missing(years_ahead(context.clock()))


@router.get("/health", response_model=Health)
def health(
    registry: RegistryDep, store: StoreDep, context: ContextDep, response: Response
) -> Health:
    """Up (200) or degraded (503: the registry or the store cannot be reached). A missing
    holiday schedule is reported, not degraded: everything else works."""
    try:
        registry.meters.count()
        registry_ok = True
    except RegistryError:
        registry_ok = False
    telemetry_ok = store.ping()
    healthy = registry_ok and telemetry_ok
    if not healthy:
        response.status_code = 503
    return Health(
        status="ok" if healthy else "degraded",
        registry=registry_ok,
        telemetry=telemetry_ok,
        calendar_missing_years=missing_years(context),
    )


@router.get("/overview", response_model=Overview)
def overview(_viewer: Viewer, context: ContextDep) -> Overview:
    """Meters online/offline/closed, open alarms by rule and severity, ingest health."""
    stale_ms = int(context.worker_stale_s * 1000)
    view = fleet_overview(context.registry, context.clock(), stale_ms)
    return Overview.of(view, missing_years(context))


@router.get("/metrics", response_class=Response, include_in_schema=False)
def metrics(context: ContextDep) -> Response:
    return Response(generate_latest(context.metrics), media_type=CONTENT_TYPE_LATEST)
