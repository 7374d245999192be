"""Turning domain errors into HTTP answers that name the field at fault."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from meters.errors import Conflict, NotFound, RegistryError, StoreError


def field_error(location: str, name: str, message: str) -> HTTPException:
    """A 422 in FastAPI's own validation shape: ``detail[0].loc`` names the field."""
    return HTTPException(
        status_code=422, detail=[{"loc": [location, name], "msg": message, "type": "value_error"}]
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def not_found(_request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(Conflict)
    async def conflict(_request: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(RegistryError)
    async def registry_down(_request: Request, exc: RegistryError) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": f"registry unavailable: {exc}"})

    @app.exception_handler(StoreError)
    async def store_down(_request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse(
            status_code=503, content={"detail": f"telemetry store unavailable: {exc}"}
        )
