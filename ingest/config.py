"""Ingest settings (a section of ``gasguard.settings.Settings``). Timing lives here so tests
can shrink it."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from contract.lifecycle import CommandTiming
from meters.partition import Partition


class DecodeLimits(BaseModel):
    model_config = {"frozen": True}

    max_payload_bytes: int = Field(262_144, gt=0)
    max_future_s: int = Field(86_400, ge=0)
    max_past_s: int = Field(366 * 86_400, gt=0)
    max_batch_readings: int = Field(10_000, gt=0)


class CommandsConfig(BaseModel):
    """Valve command timing (``contract.lifecycle.CommandTiming``) and how often the
    dispatcher looks for commands to publish, retry, confirm or end."""

    model_config = {"frozen": True}

    ttl_s: float = Field(3600.0, gt=0)
    reply_timeout_s: float = Field(20.0, gt=0)
    retry_max_s: float = Field(300.0, gt=0)
    confirm_timeout_s: float = Field(600.0, gt=0)
    dispatch_poll_s: float = Field(1.0, gt=0)

    def timing(self) -> CommandTiming:
        return CommandTiming(
            self.ttl_s, self.reply_timeout_s, self.retry_max_s, self.confirm_timeout_s
        )


class IngestConfig(BaseModel):
    """``keep_session``: a persistent MQTT session (fixed ``client_id``), so the broker
    keeps unacknowledged messages while the ingester is away, for ``session_expiry_s``.
    The broker's in-flight window (MQTT 5 Receive Maximum, or Mosquitto's
    ``max_inflight_messages`` for 3.1.1) bounds how many unacknowledged messages are
    delivered at once: that bounds the ingester's memory.

    ``partition`` of ``partitions``: this worker handles only the meters whose id hashes to
    ``partition`` (meters.partition); each worker has its own MQTT session, spool and
    snapshot, named by the suffix ``-p{partition}of{partitions}``."""

    model_config = {"frozen": True}

    client_id: str = "gasguard-ingest"
    keep_session: bool = True
    session_expiry_s: int = Field(7 * 86_400, ge=0)
    reconnect_min_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)
    batch_max_messages: int = Field(2_000, gt=0)
    batch_max_wait_s: float = Field(0.05, gt=0)
    retry_initial_s: float = Field(0.5, gt=0)
    retry_max_s: float = Field(10.0, gt=0)
    spool_max_bytes: int = Field(1024**3, gt=0)
    spool_segment_bytes: int = Field(16 * 1024**2, gt=0)
    drain_batches_per_round: int = Field(20, gt=0)
    sightings_flush_s: float = Field(2.0, gt=0)
    snapshot_every_s: float = Field(30.0, gt=0)
    clears_poll_s: float = Field(2.0, gt=0)  # how soon an operator's clear reaches the engine
    connection_check_s: float = Field(60.0, gt=0)  # time-limit warnings as alarms
    health_every_s: float = Field(5.0, gt=0)  # the overview's ingest health
    gas_on_refresh_s: float = Field(10.0, gt=0)  # how soon a commissioned meter is watched
    profiles_refresh_s: float = Field(10.0, gt=0)  # how soon a meter's new profile counts
    # a shutoff decided on data older than this (a meter that reports once a day) says how
    # old in the close's reason, for the operator: the leak may be a day old, or gone
    late_data_s: float = Field(600.0, ge=0)
    # a meter's clock more than this off gasguard's, over its last uplinks, is flagged
    # (clock_drift) and, where its protocol can, set (ingest.clock_watch)
    clock_drift_s: float = Field(300.0, gt=0)
    clock_sample_every_s: float = Field(60.0, ge=0)  # one clock sample a meter per this
    clears_lookback_s: float = Field(7 * 86_400, ge=0)  # clears made while ingest was down
    # A clear committed late (another process's clock, a slow transaction) may carry a time
    # before the newest one read: each poll re-reads this far back, applying each alarm once.
    clears_settle_s: float = Field(30.0, ge=0)
    # The broker's in-flight window bounds how much one batch can hold: below min_window
    # (probed at start) throughput suffers, so with mqtt_protocol "auto" the ingester uses
    # MQTT 5 and asks for receive_maximum unacknowledged messages. The most MQTT allows:
    # a stock broker's queue (1,000) overflows, and drops, as soon as ingest is that far
    # behind; the ingester's memory holds the backlog instead (docs/ingest.md).
    min_window: int = Field(1000, ge=1)
    receive_maximum: int = Field(65_535, ge=1, le=65_535)
    broker_watch: bool = True  # watch the broker's $SYS drop counter (ingest.broker_watch)
    broker_watch_check_s: float = Field(2.0, gt=0)
    # Data completeness (抄表率): every completeness_check_s the lane of partition 0 counts
    # each meter's readings over the last completeness_window_s against one per report
    # interval; a meter below completeness_min_share gets a low_completeness alarm.
    completeness_min_share: float = Field(0.9, gt=0, le=1)
    completeness_window_s: float = Field(86_400.0, gt=0)
    completeness_check_s: float = Field(3_600.0, gt=0)
    # One meter cannot exhaust ingest (ingest.flood): at most dead_letters_per_meter dead
    # letters per meter per dead_letters_window_s (then a meter_flooding alarm, the rest
    # dropped and counted); dead letters older than dead_letter_retention_s are deleted;
    # QoS 0 messages past max_queued_qos0 waiting in the lane are dropped and counted
    # (QoS 1 is bounded by the broker's in-flight window).
    dead_letters_per_meter: int = Field(100, ge=1)
    dead_letters_window_s: float = Field(3_600.0, gt=0)
    dead_letter_retention_s: float = Field(30 * 86_400.0, gt=0)
    dead_letter_expiry_check_s: float = Field(3_600.0, gt=0)
    max_queued_qos0: int = Field(100_000, ge=1)
    decode: DecodeLimits = DecodeLimits()
    commands: CommandsConfig = CommandsConfig()
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(None, ge=1, le=65535)
    partition: int = Field(0, ge=0)
    partitions: int = Field(1, ge=1)
    # A worker renews its partition leases every lease_renew_s; a lease not renewed for
    # lease_ttl_s is taken over by another worker (ingest.lease_plan, docs/scaling.md).
    lease_ttl_s: float = Field(20.0, gt=0)
    lease_renew_s: float = Field(5.0, gt=0)
    # Subscribe as a member of the MQTT 5 shared subscription $share/<group>/... instead:
    # the broker splits the meters among the workers (EMQX hash_clientid / hash_topic; see
    # docs/scaling.md), so no partitions and no leases. Each worker needs its own client_id.
    shared_group: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$")

    @model_validator(mode="after")
    def _partition_in_range(self) -> IngestConfig:
        if self.partition >= self.partitions:
            raise ValueError(
                f"partition {self.partition} must be below partitions {self.partitions}"
            )
        if self.shared_group is not None and self.partitions > 1:
            raise ValueError(
                "shared_group and partitions > 1 exclude each other: the broker splits the "
                "meters among the members of a shared subscription"
            )
        if self.lease_renew_s * 2 > self.lease_ttl_s:
            raise ValueError(
                f"lease_renew_s {self.lease_renew_s} must be at most half of "
                f"lease_ttl_s {self.lease_ttl_s}, so that one late renewal does not lose it"
            )
        return self

    def worker_partition(self) -> Partition:
        return Partition(self.partition, self.partitions)
