"""The FastAPI application: ``/api/v1`` routes, OpenAPI at ``/openapi.json``, dashboard at ``/``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from api import errors
from api.context import ApiContext
from api.routes import alarms, auth, commands, connections, dead_letters, feed, health, meters

STATIC_DIR = Path(__file__).with_name("static")
PREFIX = "/api/v1"


def create_app(context: ApiContext) -> FastAPI:
    app = FastAPI(title="gasguard", version="1", openapi_url="/openapi.json")
    app.state.context = context
    errors.install(app)
    for module in (health, auth, meters, alarms, commands, connections, dead_letters, feed):
        app.include_router(module.router, prefix=PREFIX)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    return app
