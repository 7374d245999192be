from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import RegistryDep
from meters.protocol import METER_ID_RE
from meters.views import AlarmView

router = APIRouter(prefix="/alarms", tags=["alarms"])


@router.get("", response_model=list[AlarmView])
def list_alarms(
    registry: RegistryDep,
    state: Literal["active", "acknowledged", "cleared"] | None = None,
    meter_id: Annotated[str | None, Query(pattern=METER_ID_RE.pattern)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlarmView]:
    return registry.list_alarms(state, meter_id, offset, limit)
