"""Response models of the API that are not registry views (``meters.views`` are served as
they are)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from connections.applications import ApplicationView
from connections.pauses import PauseReason
from connections.timelimits import Category
from contract.protocol import METER_ID_PATTERN
from meters.overview import OverviewView, WorkerStatus
from meters.severity import Severity
from meters.views import AlarmCount, MeterView


class Health(BaseModel):
    status: str
    registry: bool
    telemetry: bool
    calendar_missing_years: list[int] = Field(
        description="years needed now (this one; the next from November) without a holiday "
        "schedule: working-day deadlines in them are not computed (GASGUARD_HOLIDAY_FILE)"
    )


class IngestOut(BaseModel):
    ok: bool = Field(description="at least one worker, all reporting, no spool backlog")
    messages_per_s: float
    readings_per_s: float
    spool_records: int
    workers: list[WorkerStatus] = Field(
        description="each worker's last report; stale: none for too long"
    )


class Overview(BaseModel):
    meters: int
    online: int
    offline: int = Field(description="said offline, or silent (an open offline alarm)")
    never_seen: int
    valves_closed: int
    alarms_active: int = Field(description="open alarms nobody has acknowledged yet")
    alarms_open: int = Field(description="active + acknowledged")
    alarms_by_severity: dict[Severity, int]
    alarms_by_rule: list[AlarmCount]
    dead_letters: int
    ingest: IngestOut
    calendar_missing_years: list[int] = Field(description="as in /health")

    @classmethod
    def of(cls, view: OverviewView, calendar_missing_years: list[int]) -> Overview:
        fresh = [w for w in view.workers if not w.stale]
        ingest = IngestOut(
            ok=view.ingest_ok,
            messages_per_s=round(sum(h.messages_per_s for h in fresh), 1),
            readings_per_s=round(sum(h.readings_per_s for h in fresh), 1),
            spool_records=sum(w.spool_records for w in view.workers),
            workers=view.workers,
        )
        return cls(
            meters=view.meters.total,
            online=view.meters.online,
            offline=view.meters.offline,
            never_seen=view.meters.never_seen,
            valves_closed=view.meters.valves_closed,
            alarms_active=sum(c.active for c in view.alarms),
            alarms_open=sum(c.open for c in view.alarms),
            alarms_by_severity=view.alarms_by_severity,
            alarms_by_rule=view.alarms,
            dead_letters=view.dead_letters,
            ingest=ingest,
            calendar_missing_years=calendar_missing_years,
        )


class ReadingOut(BaseModel):
    ts: int
    volume_m3: float | None
    flow_m3h: float | None = None
    pressure_kpa: float | None = None
    temperature_c: float | None = None
    battery_pct: float | None = None
    valve: str | None = None


class ReadingsPage(BaseModel):
    meter_id: str
    start: int
    end: int
    readings: list[ReadingOut]
    truncated: bool


class DeadLetterOut(BaseModel):
    id: int
    received_ms: int
    topic: str
    code: str
    reason: str
    payload_size: int
    payload_preview: str


@dataclass(frozen=True)
class MeterDetail(MeterView):
    """A registered meter with its newest reading."""

    latest: ReadingOut | None = None


class TokenOut(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    username: str
    role: str


class UserOut(BaseModel):
    username: str
    role: str
    display_name: str


class AlarmAck(BaseModel):
    note: str = Field("", max_length=2000, description="optional: what the operator did")


class AlarmAssign(BaseModel):
    username: str = Field(..., min_length=1, max_length=64, description="an operator's account")
    note: str = Field("", max_length=2000, description="optional: what they should do")


class AlarmComment(BaseModel):
    text: str = Field(..., min_length=1, max_length=2000)


class AlarmClear(BaseModel):
    reason: str = Field(
        ..., min_length=3, max_length=2000, description="required: why it can be cleared"
    )


class CommandRequest(BaseModel):
    action: Literal["close", "arm", "open"]
    reason: str = Field(..., min_length=3, max_length=500, description="required: why")
    closure: Literal["safety", "billing", "maintenance"] = Field(
        "safety",
        description="for a close: why the valve is closed (only billing and "
        "maintenance closures may later be opened remotely)",
    )


class ThresholdsRequest(BaseModel):
    """A meter's own firmware thresholds (contract.thresholds: m³/h, minutes, kPa), over
    its device profile's; each one left out (or null) follows the profile."""

    thresholds: dict[str, float | None] = Field(..., description="name -> value or null")
    reason: str = Field(..., min_length=3, max_length=500, description="required: why")


class DownloadRequest(BaseModel):
    reason: str = Field(..., min_length=3, max_length=500, description="required: why")


class LifecycleRequest(BaseModel):
    """One step of a meter's life (docs/meters.md): install, commission, activate,
    suspend, resume (an operator), remove, replace (a supervisor)."""

    step: Literal["install", "commission", "activate", "suspend", "resume", "remove", "replace"]
    reason: str = Field(..., min_length=3, max_length=500, description="required: why")
    installer: str | None = Field(None, min_length=1, max_length=64)
    location: str | None = Field(None, max_length=200)
    register_m3: float | None = Field(None, ge=0, le=1e9, description="remove, replace")
    new_meter_id: str | None = Field(None, pattern=METER_ID_PATTERN, description="replace")
    new_register_m3: float | None = Field(None, ge=0, le=1e9, description="replace")


class ApplicationIn(BaseModel):
    policy: str = Field(..., max_length=32, description="city policy: guangzhou, lingbao, ...")
    category: Category
    channel: Literal["online", "counter", "phone", "app"]
    applicant: str = Field(..., min_length=1, max_length=128)
    phone: str = Field(..., pattern=r"^\+?\d{7,15}$")
    address: str = Field(..., min_length=3, max_length=500)
    district: str = Field("", max_length=64)
    submitted_ms: int | None = Field(None, ge=0, le=253_402_300_799_999)
    fee_application: float = Field(0.0, ge=0, le=1e9)
    fee_gas_on: float = Field(0.0, ge=0, le=1e9)
    pipe_length_m: float | None = Field(
        None, ge=0, le=100_000, description="external pipe, m (class A: at most 200)"
    )
    affects_others: bool | None = Field(
        None, description="the external works affect other users (class A: false)"
    )
    missing_documents: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list,
        max_length=30,
        description="容缺受理: accepted with these documents missing",
    )
    documents_due_ms: int | None = Field(
        None, ge=0, le=253_402_300_799_999, description="when the missing documents are due"
    )


class DocumentsIn(BaseModel):
    received: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        ..., min_length=1, max_length=30
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationOut(ApplicationView):
    """An application with its time status against its city's limit."""

    time: dict[str, Any]
    documents: str  # complete, due (容缺受理), overdue
    stage_times: list[dict[str, Any]]  # each stage with a limit of its own: stage, name, time
    stage_names: tuple[str, str]  # the two stages as the application's city names them


class ReasonIn(BaseModel):
    reason: str = Field(..., min_length=3, max_length=500, description="required: why (audited)")


class PauseIn(BaseModel):
    """Why the application's clock stops (time the utility does not control), and the
    evidence: a note or a document reference (connections/pauses.py)."""

    reason: PauseReason
    evidence: str = Field(..., min_length=3, max_length=500, description="note or document")


class FeeIn(BaseModel):
    """A fee charged besides the application and gas-on fees (which must be zero)."""

    item: str = Field(..., pattern=r"^[a-z0-9_]{1,64}$", description="an item of the fee list")
    amount: float = Field(..., gt=0, le=1e9, description="yuan")
    note: str = Field("", max_length=500)


class GasOnIn(BaseModel):
    """The utility's acceptance and gas-on (验收通气)."""

    at_ms: int | None = Field(None, ge=0, description="when gas was on; default: now")


class CommissionIn(BaseModel):
    meter_id: str = Field(..., pattern=r"^[A-Za-z0-9_-]{1,32}$")


class PublicProgress(BaseModel):
    number: str
    stage: Literal["application", "gas_on", "done"]
    submitted_ms: int
    surveyed_ms: int | None
    gas_on_ms: int | None
    paused: bool
    used_days: float | None  # None: the calendar of a year it needs is missing
    left_days: float | None
    budget_days: int
    unit: str
    state: str
    deadline: str | None  # ISO 8601 at +08:00; a period ends at 24:00 of its last day
    deadline_ms: int | None
    policy: str
    timeline: list[dict[str, Any]] = Field(
        description="the stages in order: name and when (null: not yet)"
    )
    missing_documents: list[str] = Field(description="容缺受理: still to hand in")
    documents_due_ms: int | None
    contact: str = Field(description="whom to call: the utility's service number")


class PublicApplicationIn(BaseModel):
    """The one form an applicant fills in online (一表申请); documents not yet at hand may
    follow (容缺受理), due within the policy's maximum for them."""

    policy: str = Field(..., max_length=32)
    category: Category
    applicant: str = Field(..., min_length=1, max_length=128)
    phone: str = Field(..., pattern=r"^\+?\d{7,15}$")
    address: str = Field(..., min_length=3, max_length=500)
    district: str = Field("", max_length=64)
    pipe_length_m: float | None = Field(None, ge=0, le=100_000)
    affects_others: bool | None = None
    missing_documents: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=30
    )


class Receipt(BaseModel):
    """What the applicant keeps: the number and the query code open the progress page."""

    number: str
    query_code: str
    policy: str
    deadline: str | None
    missing_documents: list[str]
    documents_due_ms: int | None


class PublicGuide(BaseModel):
    """The service guide (办事指南) of a city: materials, steps, time limits, fees."""

    policy: str
    stages: list[str]
    unit: str
    days: dict[str, int]
    rule: str
    materials: list[str]
    steps: list[str]
    contact: str
    fees: dict[str, float] = Field(description="the published fee list, yuan")
    free: list[str] = Field(description="always free: the application and gas-on")


class ErrorOut(BaseModel):
    """An error: a message, or FastAPI's list naming the fields at fault."""

    detail: str | list[dict[str, Any]]
