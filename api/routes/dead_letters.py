from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.auth import require
from api.deps import RegistryDep
from api.params import Limit, Offset
from api.schemas import DeadLetterOut

# Reading any of this needs a signed-in viewer.
router = APIRouter(
    prefix="/dead-letters", tags=["ingest"], dependencies=[Depends(require("viewer"))]
)

PREVIEW_BYTES = 512


@router.get("", response_model=list[DeadLetterOut])
def list_dead_letters(
    registry: RegistryDep,
    offset: Offset = 0,
    limit: Limit = 100,
    code: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$", description="reason code")] = None,
) -> list[DeadLetterOut]:
    return [
        DeadLetterOut(
            id=d.id,
            received_ms=d.received_ms,
            topic=d.topic,
            code=d.code,
            reason=d.reason,
            payload_size=d.payload_size,
            payload_preview=d.payload[:PREVIEW_BYTES].decode("utf-8", errors="replace"),
        )
        for d in registry.dead_letters.find(offset, limit, code)
    ]
