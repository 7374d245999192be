"""FastAPI dependencies: the context and its parts, typed with ``Annotated``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.context import ApiContext
from meters.registry import Registry
from telemetry.base import TelemetryStore


def get_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


def get_registry(request: Request) -> Registry:
    return get_context(request).registry


def get_store(request: Request) -> TelemetryStore:
    return get_context(request).store


ContextDep = Annotated[ApiContext, Depends(get_context)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
StoreDep = Annotated[TelemetryStore, Depends(get_store)]
