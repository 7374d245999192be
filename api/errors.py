"""The api package's exception tree, and turning domain errors into HTTP answers that name
the field at fault."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from contract.errors import GasguardError
from meters.errors import Conflict, NotFound, RegistryError
from telemetry.errors import TelemetryError

log = logging.getLogger(__name__)


class ApiError(GasguardError):
    """Base of the errors the api package raises itself."""


class InvalidToken(ApiError):
    """A session token that is malformed, forged, expired or of an old version."""


def field_error(location: str, name: str, message: str) -> HTTPException:
    """A 422 in FastAPI's own validation shape: ``detail[0].loc`` names the field."""
    return field_errors(location, [(name, message)])


def field_errors(location: str, problems: list[tuple[str, str]]) -> HTTPException:
    """A 422 naming every field at fault: (name, message) each."""
    detail = [
        {"loc": [location, name], "msg": why, "type": "value_error"} for name, why in problems
    ]
    return HTTPException(status_code=422, detail=detail)


def too_many(wait_ms: int, what: str) -> None:
    """429 with Retry-After while a caller is locked out (``wait_ms`` > 0)."""
    if wait_ms <= 0:
        return
    retry_s = max(1, -(-wait_ms // 1000))
    raise HTTPException(
        429, detail=f"{what}: try again in {retry_s} s", headers={"Retry-After": str(retry_s)}
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(NotFound)
    async def not_found(_request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(Conflict)
    async def conflict(_request: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(RegistryError)
    async def registry_down(request: Request, exc: RegistryError) -> JSONResponse:
        return unavailable(request, "registry", exc)

    @app.exception_handler(TelemetryError)
    async def store_down(request: Request, exc: TelemetryError) -> JSONResponse:
        return unavailable(request, "telemetry store", exc)


def unavailable(request: Request, what: str, exc: Exception) -> JSONResponse:
    """A 503 that tells the caller what is down and a correlation id, never the library's
    text (SQL, parameters, host names), which goes to the log under that id."""
    correlation = uuid.uuid4().hex[:12]
    log.error(
        "%s unavailable [%s] %s %s: %s", what, correlation, request.method, request.url.path, exc
    )
    return JSONResponse(
        status_code=503,
        content={
            "detail": f"{what} unavailable; try again shortly (reference {correlation})",
            "correlation_id": correlation,
        },
    )
