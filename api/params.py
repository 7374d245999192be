"""Bounded query and path parameters shared by the routes: a number too large for the
databases is a 422 naming the parameter, never a 500."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from contract.protocol import METER_ID_PATTERN

MAX_ID = 2**31 - 1
MAX_OFFSET = 10_000_000
MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z

RecordId = Annotated[int, Path(ge=1, le=MAX_ID)]
MeterId = Annotated[str, Path(pattern=METER_ID_PATTERN)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]
Limit = Annotated[int, Query(ge=1, le=1000)]
EpochMs = Annotated[int, Query(ge=0, le=MAX_MS)]
