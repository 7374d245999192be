from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.auth import Viewer
from api.deps import ContextDep, RegistryDep, StoreDep
from api.schemas import Health, Overview
from meters.errors import RegistryError
from meters.overview import overview as fleet_overview

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(registry: RegistryDep, store: StoreDep, response: Response) -> Health:
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
        status="ok" if healthy else "degraded", registry=registry_ok, telemetry=telemetry_ok
    )


@router.get("/overview", response_model=Overview)
def overview(_viewer: Viewer, context: ContextDep) -> Overview:
    """Meters online/offline/closed, open alarms by rule and severity, ingest health."""
    stale_ms = int(context.worker_stale_s * 1000)
    return Overview.of(fleet_overview(context.registry, context.clock(), stale_ms))


@router.get("/metrics", response_class=Response, include_in_schema=False)
def metrics(context: ContextDep) -> Response:
    return Response(generate_latest(context.metrics), media_type=CONTENT_TYPE_LATEST)
