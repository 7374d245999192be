from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import RegistryDep
from api.schemas import AlarmOut

router = APIRouter(prefix="/alarms", tags=["alarms"])


@router.get("", response_model=list[AlarmOut])
def list_alarms(
    registry: RegistryDep,
    state: Literal["active", "acknowledged", "cleared"] | None = None,
    meter_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,32}$")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlarmOut]:
    return [AlarmOut(**asdict(a)) for a in registry.list_alarms(state, meter_id, offset, limit)]
