from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import RegistryDep
from api.schemas import CommandOut

router = APIRouter(prefix="/commands", tags=["commands"])


@router.get("", response_model=list[CommandOut])
def list_commands(
    registry: RegistryDep,
    meter_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,32}$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[CommandOut]:
    return [CommandOut(**asdict(c)) for c in registry.list_commands(meter_id, limit)]


@router.get("/{command_id}", response_model=CommandOut)
def get_command(command_id: str, registry: RegistryDep) -> CommandOut:
    return CommandOut(**asdict(registry.get_command(command_id)))
