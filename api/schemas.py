"""Response models of the API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Health(BaseModel):
    status: str
    registry: bool
    telemetry: bool


class Overview(BaseModel):
    meters: int
    valves_closed: int
    alarms_active: int
    readings_stored: int
    dead_letters: int


class MeterOut(BaseModel):
    id: str
    model: str
    category: str
    report_interval_s: int
    created_ms: int
    last_seen_ms: int | None
    last_reading_ms: int | None
    valve: str | None
    status: str | None


class ReadingOut(BaseModel):
    ts: int
    volume_m3: float | None
    flow_m3h: float | None = None
    pressure_kpa: float | None = None
    temperature_c: float | None = None
    battery_pct: float | None = None
    valve: str | None = None


class MeterDetail(MeterOut):
    latest: ReadingOut | None


class ReadingsPage(BaseModel):
    meter_id: str
    start: int
    end: int
    readings: list[ReadingOut]
    truncated: bool


class AlarmOut(BaseModel):
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


class CommandOut(BaseModel):
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


class DeadLetterOut(BaseModel):
    id: int
    received_ms: int
    topic: str
    reason: str
    payload_size: int
    payload_preview: str
