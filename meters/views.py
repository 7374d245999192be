"""Plain frozen views of registry rows, handed to callers instead of ORM objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meters.severity import Severity


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
    installed_ms: int | None = None  # commissioned on its connection application
    valve_ms: int | None = None  # the meter time of the fact ``valve`` comes from
    closures: tuple[str, ...] = ()  # why it is closed (meters.command_policy)
    armed_ms: int | None = None  # when it was last armed (meter time), until it opens
    last_seq: int | None = None  # the newest batch sequence number received
    missing_batches: int = 0  # batches it numbered that never arrived (gaps in seq)
    device_profile: str = "gasguard-json"  # what it speaks (devices.profiles)
    imei: str | None = None  # what identifies it beside its id (meters.fleet_import)
    iccid: str | None = None
    network_address: str | None = None
    location: str | None = None
    lifecycle: str = "active"  # in_stock, installed, commissioned, active, suspended, ...
    lifecycle_ms: int | None = None  # since when
    installer: str | None = None
    replaces: str | None = None  # the meter it replaced, and
    replaced_by: str | None = None  # the meter that replaced it
    register_start_m3: float | None = None  # its register when it started (a replacement)
    register_end_m3: float | None = None  # when it was removed or replaced
    thresholds: dict[str, Any] | None = None  # its own firmware thresholds, over its profile's
    held_thresholds: dict[str, Any] | None = None  # those it confirmed it holds, and when
    thresholds_confirmed_ms: int | None = None
    district: str | None = None  # where it is (meters.places)
    street: str | None = None
    building: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    pressure_zone: str | None = None


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
    acknowledged_by: str | None = None
    acknowledged_ms: int | None = None
    cleared_by: str | None = None
    cleared_ms: int | None = None
    note: str = ""
    updated_ms: int = 0
    assigned_to: str | None = None
    assigned_ms: int | None = None
    severity: Severity = "warning"  # meters.severity: derived from rule and action


@dataclass(frozen=True, slots=True)
class AlarmCount:
    """Open (not cleared) alarms of one rule and action: ``open`` = ``active`` (nobody
    acknowledged yet) + acknowledged."""

    rule: str
    action: str
    severity: Severity
    open: int
    active: int


@dataclass(frozen=True, slots=True)
class MeterCounts:
    """``online``: last said online and not silent (no open ``offline`` alarm);
    ``offline``: said offline, or silent; ``never_seen``: no message yet."""

    total: int
    online: int
    offline: int
    never_seen: int
    valves_closed: int


@dataclass(frozen=True, slots=True)
class WorkerHealth:
    """What one ingest worker reported of itself at ``updated_ms``."""

    worker: str
    partition: str
    updated_ms: int
    messages: int
    readings: int
    dead_letters: int
    spool_records: int
    spool_bytes: int
    messages_per_s: float
    readings_per_s: float
    fault: str = ""  # a critical fault of the worker (a lane that died), or ""
    warning: str = ""  # what limits it or risks data (a small broker window), or ""


@dataclass(frozen=True, slots=True)
class ClearedAlarm:
    """Alarm ``alarm_id`` on (meter, rule) was cleared, by an operator or by gasguard
    itself (``cleared_by``), and no newer alarm is open for that (meter, rule)."""

    meter_id: str
    rule: str
    cleared_ms: int
    alarm_id: int
    cleared_by: str


@dataclass(frozen=True, slots=True)
class Actor:
    """Who changes the world: an operator (username, role, client address) or gasguard
    itself (role ``system``, source the process)."""

    username: str
    role: str
    source: str


SAFETY_ACTOR = Actor("gasguard-safety", "system", "ingest")
INGEST_ACTOR = Actor("gasguard-ingest", "system", "ingest")  # what the ingester records


@dataclass(frozen=True, slots=True)
class AuditView:
    id: int
    at_ms: int
    actor: str
    action: str
    target: str
    source: str
    reason: str
    detail: dict[str, Any]


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
    updated_ms: int = 0
    kind: str = "safety"  # for a close: why (safety, billing, maintenance)
    counter: int = 0
    expires_ms: int = 0
    attempts: int = 0
    next_attempt_ms: int = 0
    delivered_ms: int | None = None
    finished_ms: int | None = None
    error: str | None = None
    closures: tuple[str, ...] = ()  # a close: its reason and those of the closes it joined
    platform_refs: tuple[str, ...] = ()  # the operator platform's ids, when handed to one
    wake_expected_ms: int | None = None  # waiting for a sleeping meter: its expected wake-up
    params: str = ""  # a parameter download: the thresholds' canonical JSON


@dataclass(frozen=True, slots=True)
class CommandWindow:
    """When a command can reach its meter (devices.profiles.command_window): its lifetime,
    and for a meter that sleeps when it is next expected to wake, and whether the command
    is held for its next uplink (a meter on MQTT) or handed over at once (a platform
    holds it)."""

    ttl_ms: int
    wake_expected_ms: int | None = None
    hold: bool = False


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


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did (or, a dry run, would do): the meters created, the ones already
    there as the file says; nothing at all when ``errors`` (each naming a line and field)."""

    created: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    dry_run: bool = False
