"""The city by area: districts or pressure zones, their meters, closed valves and open
alarms by severity (viewer); the area's meters are ``GET /meters?district=…``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel

from api.auth import Viewer
from api.deps import RegistryDep

router = APIRouter(tags=["meters"])


class AreaOut(BaseModel):
    area: str | None
    meters: int
    valves_closed: int
    critical: int
    warning: int
    info: int
    worst: str  # critical, warning, info, none


@router.get("/areas", response_model=list[AreaOut])
def areas(
    _viewer: Viewer, registry: RegistryDep, by: Literal["district", "pressure_zone"] = "district"
) -> list[AreaOut]:
    """The worst first (most critical alarms, then warnings), then by name; ``area`` null:
    the meters that no delivery file placed."""
    return [AreaOut(**asdict(v), worst=v.worst) for v in registry.areas.summary(by)]
