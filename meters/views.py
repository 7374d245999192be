"""Plain frozen views of registry rows, handed to callers instead of ORM objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class MeterView:
    id: str
    model: str
    category: str
    report_interval_s: int
    created_ms: int
    last_seen_ms: int | None
    last_reading_ms: int | None
    valve: str | None
    status: str | None


@dataclass(frozen=True, slots=True)
class AlarmView:
    id: int
    meter_id: str
    rule: str
    action: str
    state: str
    opened_ts_ms: int
    last_ts_ms: int
    repeat_count: int
    detail: dict[str, Any]
    created_ms: int


@dataclass(frozen=True, slots=True)
class CommandView:
    id: str
    meter_id: str
    action: str
    reason: str
    requested_by: str
    state: str
    created_ms: int
    sent_ms: int | None
    replied_ms: int | None
    reply: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class DeadLetterView:
    id: int
    received_ms: int
    topic: str
    code: str
    reason: str
    payload: bytes
    payload_size: int


@dataclass(frozen=True, slots=True)
class NewDeadLetter:
    received_ms: int
    topic: str
    code: str
    reason: str
    payload: bytes
