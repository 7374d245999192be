from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import require
from api.deps import RegistryDep
from meters.protocol import METER_ID_RE
from meters.views import CommandView

# Reading any of this needs a signed-in viewer.
router = APIRouter(prefix="/commands", tags=["commands"], dependencies=[Depends(require("viewer"))])


@router.get("", response_model=list[CommandView])
def list_commands(
    registry: RegistryDep,
    meter_id: Annotated[str | None, Query(pattern=METER_ID_RE.pattern)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[CommandView]:
    return registry.list_commands(meter_id, limit)


@router.get("/{command_id}", response_model=CommandView)
def get_command(command_id: str, registry: RegistryDep) -> CommandView:
    return registry.get_command(command_id)
