"""The FastAPI application: ``/api/v1`` routes, OpenAPI at ``/openapi.json``, dashboard at ``/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from api import csrf, errors, headers
from api.context import ApiContext
from api.routes import (
    ack_links,
    alarms,
    areas,
    audit,
    auth,
    commands,
    completeness,
    connections,
    dead_letters,
    feed,
    health,
    meters,
    thresholds,
    users,
)
from api.schemas import ErrorOut

STATIC_DIR = Path(__file__).with_name("static")
# Every route may answer with these; documented once, for all of them.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "malformed request"},
    401: {"model": ErrorOut, "description": "not signed in, or the token expired"},
    403: {"model": ErrorOut, "description": "the role does not allow it"},
    404: {"model": ErrorOut, "description": "no such record"},
    409: {"model": ErrorOut, "description": "contradicts the record's state"},
    429: {"model": ErrorOut, "description": "rate limited"},
    503: {"model": ErrorOut, "description": "registry or telemetry store unavailable"},
}
PREFIX = "/api/v1"


def create_app(context: ApiContext) -> FastAPI:
    app = FastAPI(title="gasguard", version="1", openapi_url="/openapi.json")
    app.state.context = context
    errors.install(app)
    app.middleware("http")(csrf.guard(context.allowed_origins))
    # added last, so outermost: its headers reach every answer, the CSRF refusals too
    app.middleware("http")(headers.add_headers(context.hsts_max_age_s))
    routers = (
        health,
        auth,
        meters,
        alarms,
        commands,
        connections,
        dead_letters,
        feed,
        audit,
        completeness,
        users,
        thresholds,
        ack_links,
        areas,
    )
    for module in routers:
        app.include_router(module.router, prefix=PREFIX, responses=ERROR_RESPONSES)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    @app.get("/progress", include_in_schema=False)
    def applicant_progress() -> FileResponse:
        """The applicant's page: progress by number and query code, the service guide."""
        return FileResponse(STATIC_DIR / "progress.html")

    return app
