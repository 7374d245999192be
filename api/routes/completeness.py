"""Data completeness (抄表率): readings received against expected, for the fleet and the
meters below the configured share (viewer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.auth import Viewer
from api.deps import ContextDep
from api.params import Limit
from api.timeparams import bounded_range
from meters.completeness import MeterCompleteness
from meters.overview import measure_completeness

router = APIRouter(tags=["completeness"])


class MeterCompletenessOut(BaseModel):
    meter_id: str
    expected: int
    received: int
    share: float
    missing_batches: int = Field(description="batches it numbered that never arrived, ever")

    @classmethod
    def of(cls, row: MeterCompleteness) -> MeterCompletenessOut:
        return cls(
            meter_id=row.meter_id,
            expected=row.expected,
            received=row.received,
            share=round(row.share, 4),
            missing_batches=row.missing_batches,
        )


class CompletenessOut(BaseModel):
    start: int
    end: int
    min_share: float = Field(description="a meter at or above it is complete")
    meters: int
    expected: int = Field(description="readings expected: one per report interval")
    received: int = Field(description="readings stored (each counted once)")
    share: float = Field(description="received / expected for the fleet (抄表率)")
    complete: int = Field(description="meters at or above min_share")
    below: list[MeterCompletenessOut] = Field(description="the others, lowest share first")
    below_total: int
    missing_batches: int = Field(description="over every meter: gaps in their batch seq")


@router.get("/completeness", response_model=CompletenessOut)
def completeness(
    _viewer: Viewer,
    context: ContextDep,
    start: Annotated[
        str | None, Query(description="epoch ms or RFC 3339; default end - 24 h")
    ] = None,
    end: Annotated[str | None, Query(description="epoch ms or RFC 3339; default now")] = None,
    limit: Limit = 100,
) -> CompletenessOut:
    start_ms, end_ms = bounded_range(start, end, context.clock(), context.max_range_days)
    fleet = measure_completeness(
        context.registry, context.store, start_ms, end_ms, context.completeness_min_share
    )
    return CompletenessOut(
        start=start_ms,
        end=end_ms,
        min_share=fleet.min_share,
        meters=fleet.meters,
        expected=fleet.expected,
        received=fleet.received,
        share=round(fleet.share, 4),
        complete=fleet.complete,
        below=[MeterCompletenessOut.of(row) for row in fleet.below[:limit]],
        below_total=len(fleet.below),
        missing_batches=fleet.missing_batches,
    )
