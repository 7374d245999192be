"""Registry tables (SQLAlchemy 2). Schema changes go through Alembic (meters/migrations)."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from meters.closures import parse_closures
from meters.severity import Severity, severity_of


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


# The dashboard's order of meters: closed valves first, then faulted, open, never reported.
# One text for the index and the query, so that the planner matches them (a bound
# parameter in the query's CASE would not match the index's expression).
VALVE_RANK = "(CASE valve WHEN 'closed' THEN 0 WHEN 'fault' THEN 1 WHEN 'open' THEN 2 ELSE 3 END)"


class Meter(Base):
    __tablename__ = "meters"
    __table_args__ = (
        Index("ix_meters_valve_rank", text(VALVE_RANK), "id"),
        Index("uq_meters_imei", "imei", unique=True),
        Index("uq_meters_network_address", "network_address", unique=True),
        Index("ix_meters_lifecycle", "lifecycle"),
        Index("ix_meters_profile_ms", "profile_ms"),
        Index("ix_meters_district", "district"),
        Index("ix_meters_pressure_zone", "pressure_zone"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    model: Mapped[str] = mapped_column(String(16), default="G2.5")
    category: Mapped[str] = mapped_column(String(16), default="residential")
    report_interval_s: Mapped[int] = mapped_column(Integer, default=60)
    # what it speaks and how it is reached (devices.profiles), assigned at provisioning
    device_profile: Mapped[str] = mapped_column(
        String(32), default="gasguard-json", server_default="gasguard-json"
    )
    created_ms: Mapped[int] = mapped_column(BigInteger)
    last_seen_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_reading_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    valve: Mapped[str | None] = mapped_column(String(8), nullable=True)
    status: Mapped[str | None] = mapped_column(String(8), nullable=True)
    secret_key: Mapped[str | None] = mapped_column(String(64), nullable=True)  # never served
    command_counter: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # why it is closed: the reasons of every close confirmed since its last confirmed open,
    # comma-separated and sorted ("billing,safety"); "" when not closed by a command
    closures_text: Mapped[str] = mapped_column(
        "closures", String(64), default="", server_default=""
    )
    armed_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # meter time
    valve_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # of ``valve``
    last_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # of its batches
    missing_batches: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    @property
    def closures(self) -> tuple[str, ...]:
        return parse_closures(self.closures_text)

    installed_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    mqtt_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    mqtt_revoked_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # what identifies it beside its id, from the factory's file (meters.fleet_import)
    imei: Mapped[str | None] = mapped_column(String(15), nullable=True)
    iccid: Mapped[str | None] = mapped_column(String(20), nullable=True)
    network_address: Mapped[str | None] = mapped_column(String(32), nullable=True)
    location: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # its life (meters.lifecycle); a replacement carries the register over
    lifecycle: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    lifecycle_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    installer: Mapped[str | None] = mapped_column(String(64), nullable=True)
    replaces: Mapped[str | None] = mapped_column(String(32), nullable=True)
    replaced_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    register_start_m3: Mapped[float | None] = mapped_column(Float, nullable=True)
    register_end_m3: Mapped[float | None] = mapped_column(Float, nullable=True)
    # parameter download (contract.thresholds): its own thresholds over its profile's, and
    # those it confirmed it holds (a reply to a "params" command), when
    thresholds: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    held_thresholds: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    thresholds_confirmed_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # where it is (meters.places): the area view, routes by district, incidents
    district: Mapped[str | None] = mapped_column(String(64), nullable=True)
    street: Mapped[str | None] = mapped_column(String(128), nullable=True)
    building: Mapped[str | None] = mapped_column(String(64), nullable=True)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    pressure_zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # when its profile for the rules or its life last changed (a running engine follows)
    profile_ms: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Alarm(Base):
    """One alarm per (meter, rule) episode: repeats while it is open only update it."""

    __tablename__ = "alarms"
    __table_args__ = (Index("ix_alarms_meter_rule_state", "meter_id", "rule", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meter_id: Mapped[str] = mapped_column(String(32), index=True)
    rule: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    opened_ts_ms: Mapped[int] = mapped_column(BigInteger)
    last_ts_ms: Mapped[int] = mapped_column(BigInteger)
    repeat_count: Mapped[int] = mapped_column(Integer, default=1)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acknowledged_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    cleared_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cleared_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    updated_ms: Mapped[int] = mapped_column(BigInteger, index=True, server_default="0")
    assigned_to: Mapped[str | None] = mapped_column(String(64), nullable=True)
    assigned_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    @property
    def severity(self) -> Severity:
        return severity_of(self.rule, self.action)


class IngestWorker(Base):
    """What each ingest worker last reported of itself (the overview's ingest health)."""

    __tablename__ = "ingest_workers"

    worker: Mapped[str] = mapped_column(String(128), primary_key=True)
    partition: Mapped[str] = mapped_column(String(128))  # the partitions it runs, "0/2,1/2"
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    messages: Mapped[int] = mapped_column(BigInteger)
    readings: Mapped[int] = mapped_column(BigInteger)
    dead_letters: Mapped[int] = mapped_column(BigInteger)
    spool_records: Mapped[int] = mapped_column(BigInteger)
    spool_bytes: Mapped[int] = mapped_column(BigInteger)
    messages_per_s: Mapped[float] = mapped_column(Float)
    readings_per_s: Mapped[float] = mapped_column(Float)
    fault: Mapped[str] = mapped_column(Text, default="", server_default="")  # critical, or ""
    warning: Mapped[str] = mapped_column(Text, default="", server_default="")


class PartitionLease(Base):
    """Which ingest worker runs a partition, until when (meters.leases)."""

    __tablename__ = "partition_leases"

    partition: Mapped[str] = mapped_column(String(16), primary_key=True)  # "K/N"
    holder: Mapped[str] = mapped_column(String(128))
    expires_ms: Mapped[int] = mapped_column(BigInteger)
    wanted_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    wanted_ms: Mapped[int] = mapped_column(BigInteger, default=0)


class ConnectionWarning(Base):
    """A time-limit warning raised for an application (once per state, across restarts)."""

    __tablename__ = "connection_warnings"

    application: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), primary_key=True)
    raised_ms: Mapped[int] = mapped_column(BigInteger)


class Command(Base):
    """A valve command and where it stands (docs/protocol.md, command states)."""

    __tablename__ = "commands"
    __table_args__ = (Index("uq_commands_meter_counter", "meter_id", "counter", unique=True),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    meter_id: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    sent_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    replied_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reply: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    updated_ms: Mapped[int] = mapped_column(BigInteger, index=True, server_default="0")
    kind: Mapped[str] = mapped_column(String(16), default="safety", server_default="safety")
    # a close: the reasons of its requester and of every close that joined it ("billing,safety")
    closures_text: Mapped[str] = mapped_column(
        "closures", String(64), default="", server_default=""
    )
    source: Mapped[str] = mapped_column(String(64), default="", server_default="")
    counter: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    expires_ms: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_ms: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    delivered_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    finished_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # each hand-over to an operator platform: the platform's id for it (docs/protocols.md)
    platform_refs: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    # a meter that sleeps: when it is next expected to wake, while the command waits for it
    wake_expected_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # a parameter download: the thresholds it carries (canonical JSON, signed)
    params: Mapped[str] = mapped_column(Text, default="", server_default="")

    @property
    def closures(self) -> tuple[str, ...]:
        return parse_closures(self.closures_text)


class DeadLetter(Base):
    """A message, or one item of a batch, that was refused, with the reason."""

    __tablename__ = "dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    topic: Mapped[str] = mapped_column(Text)
    code: Mapped[str] = mapped_column(String(32), index=True, server_default="invalid")
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    payload_size: Mapped[int] = mapped_column(Integer)


class MeterEventRow(Base):
    __tablename__ = "meter_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    meter_id: Mapped[str] = mapped_column(String(32), index=True)
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(String(32))
    received_ms: Mapped[int] = mapped_column(BigInteger)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source: Mapped[str] = mapped_column(String(64), default="", server_default="")
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")


class User(Base):
    """An operator account: argon2 password hash and one role."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(128), default="", server_default="")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_ms: Mapped[int] = mapped_column(BigInteger)
    # tokens carry it; bumped to revoke every session at once (api.auth)
    token_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class AttemptFailure(Base):
    """Failed attempts of one key: a sign-in account or address, a public lookup's address
    or application number (meters.attempt_limits)."""

    __tablename__ = "attempt_failures"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)  # user:<name>, addr:<ip>…
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    last_ms: Mapped[int] = mapped_column(BigInteger, default=0, index=True)  # expiry
    locked_until_ms: Mapped[int] = mapped_column(BigInteger, default=0)


class MqttServiceAccount(Base):
    """A server process's MQTT account (gasguard-ingest, …) and the generation of its
    derived password (meters.mqtt_auth); no row: generation 0."""

    __tablename__ = "mqtt_service_accounts"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    updated_ms: Mapped[int] = mapped_column(BigInteger, default=0)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(32))
    created_ms: Mapped[int] = mapped_column(BigInteger)


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    text: Mapped[str] = mapped_column(Text)
    district: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_ms: Mapped[int] = mapped_column(BigInteger)


class ConnectionApplication(Base):
    """A connection (报装): stage one ends when the survey is done (``surveyed_ms``), stage
    two at gas-on (``gas_on_ms``): the time the utility recorded (``gas_on_recorded_ms``),
    once the commissioned meter's first flow after commissioning confirms it
    (``first_flow_ms``)."""

    __tablename__ = "connection_applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    policy: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id"))
    submitted_ms: Mapped[int] = mapped_column(BigInteger)
    surveyed_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    gas_on_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    meter_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    fee_application: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    fee_gas_on: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    # other fees charged: [{"item", "amount", "at_ms", "by"}]; None: none (before 0016)
    fees: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    # 容缺受理: accepted with these documents missing, due by documents_due_ms
    missing_documents: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    documents_due_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # when the last of them was handed in (None: none were missing, or still missing)
    documents_complete_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # the external works: metres of pipe outside the building, and whether other users are
    # affected (class A: at most 200 m, no one affected); None: not recorded (before 0014)
    pipe_length_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    affects_others: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    commissioned_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    first_flow_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    gas_on_recorded_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # the earliest flow the meter showed before it was commissioned here (flagged)
    flow_before_commission_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    # the public lookup's code, hashed (connections.query_codes); None: none issued yet
    query_code_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ConnectionPause(Base):
    """Time outside the utility's control (design, construction, approval)."""

    __tablename__ = "connection_pauses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("connection_applications.id"), index=True
    )
    start_ms: Mapped[int] = mapped_column(BigInteger)
    end_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="", server_default="")


class Notification(Base):
    """One alarm's message on one channel (issue 23) and where it stands: queued (due at
    ``next_attempt_ms``), sent (the channel took it: its answer), failed (given up)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("uq_notifications_alarm_channel", "alarm_id", "channel", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alarm_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_ms: Mapped[int] = mapped_column(BigInteger)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    updated_ms: Mapped[int] = mapped_column(BigInteger)
    sent_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    answer: Mapped[str] = mapped_column(Text, default="")


class UsedLink(Base):
    """An acknowledgement link's nonce, spent (notify.links: each link acts once)."""

    __tablename__ = "used_links"

    nonce: Mapped[str] = mapped_column(String(32), primary_key=True)
    alarm_id: Mapped[int] = mapped_column(Integer)
    username: Mapped[str] = mapped_column(String(64))
    used_ms: Mapped[int] = mapped_column(BigInteger)
