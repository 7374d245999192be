"""The MQTT ingester: manual acknowledgement on a persistent session (transport.mqtt).

A message is acknowledged (PUBACK) only after its batch went all the way through the
pipeline: readings durable (telemetry store, or fsynced spool), decisions carried out,
dead letters recorded. Until then the broker keeps it, so a crash loses nothing the broker
accepted. When neither the store nor the spool can take readings, acknowledgements stop
and the broker holds the backlog (its in-flight window bounds what is delivered meanwhile).
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from contract.protocol import TopicKind, subscription
from ingest.chores import Chore, Chores
from ingest.clears import OperatorClears
from ingest.completeness_watch import CompletenessWatch
from ingest.config import IngestConfig
from ingest.connection_watch import ConnectionWatch
from ingest.durable import Refused
from ingest.errors import IngestError, Stopping
from ingest.pipeline import Pipeline, RawMessage, Step, refused_letters
from ingest.snapshots import SnapshotKeeper
from meters.clock import wall_clock_ms
from meters.errors import MetersError
from meters.partition import Partition
from telemetry.errors import TelemetryError
from transport.mqtt import Incoming, MqttSession, SessionOptions

log = logging.getLogger(__name__)

SUBSCRIBED_KINDS: tuple[TopicKind, ...] = (
    "telemetry",
    "events",
    "replies",
    "status",
    "cjt188-up",
    "wmbus",
    "dlms",
    "platform-replies",
    "meter-alarms",
)


def ingest_subscriptions(shared_group: str | None = None) -> list[tuple[str, int]]:
    """QoS 1 on every meter's topics; as a member of ``$share/<shared_group>/`` when given."""
    share = "" if shared_group is None else f"$share/{shared_group}/"
    return [(share + subscription(kind), 1) for kind in SUBSCRIBED_KINDS]


def session_options(config: IngestConfig) -> SessionOptions:
    return SessionOptions(
        persistent=config.keep_session,
        manual_ack=True,
        session_expiry_s=config.session_expiry_s,
        reconnect_min_s=config.reconnect_min_s,
        reconnect_max_s=config.reconnect_max_s,
        receive_maximum=config.receive_maximum,
    )


@dataclass(frozen=True, slots=True)
class Delivery:
    """A received message (acknowledged through the transport, on its own connection),
    and the decoder's view of it."""

    incoming: Incoming
    message: RawMessage


class MqttIngester:
    def __init__(
        self,
        session: MqttSession,
        pipeline: Pipeline,
        config: IngestConfig,
        snapshots: SnapshotKeeper | None = None,
        clock: Callable[[], int] = wall_clock_ms,
        connection_watch: ConnectionWatch | None = None,
        partition: Partition | None = None,
        completeness_watch: CompletenessWatch | None = None,
    ) -> None:
        self._completeness_watch = completeness_watch
        self._connection_watch = connection_watch
        self._snapshots = snapshots
        self._session = session
        self._pipeline = pipeline
        self._config = config
        self._clock = clock
        self._partition = partition or config.worker_partition()
        self._queue_depth = pipeline.metrics.lane(self._partition.text).queue_depth
        self._clears = OperatorClears(
            pipeline.registry,
            pipeline.engine,
            config.clears_lookback_s,
            clock,
            self._partition.owns,
            config.clears_settle_s,
        )
        # Unbounded here: the broker's in-flight window bounds what is delivered and not yet
        # acknowledged, so it bounds this queue too (up to receive_maximum, 65,535, on a
        # stock broker with MQTT 5). SimpleQueue is the C implementation.
        self._queue: queue.SimpleQueue[Delivery] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._chores = self._lane_chores()
        self._engine_ahead = False  # the engine holds a batch not yet acknowledged
        self._worker = threading.Thread(target=self._run, name="ingest-worker", daemon=True)
        session.on_message(self._on_message)
        session.on_reconnect = pipeline.metrics.reconnects.inc

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._session.start()
        self._worker.start()

    def wait_connected(self, timeout_s: float) -> bool:
        """True once connected and subscribed (the broker acknowledged the subscription)."""
        return self._session.wait_ready(timeout_s)

    def alive(self) -> bool:
        """False once the worker thread has ended without being asked to stop (a bug
        outside every guard): the supervisor then hands the partition on."""
        return self._stop.is_set() or self._worker.ident is None or self._worker.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._worker.join(timeout=30)
        self._session.stop()
        self._pipeline.metrics.forget_lane(self._partition.text)

    # -- the transport's callback (network thread) -----------------------------------------

    def _on_message(self, incoming: Incoming) -> None:
        if incoming.qos == 0 and self._queue.qsize() >= self._config.max_queued_qos0:
            # QoS 0 bypasses the broker's in-flight window: never let it grow our memory
            self._pipeline.metrics.qos0_dropped.inc()
            return
        raw = RawMessage(incoming.topic, incoming.payload, self._clock())
        self._queue.put(Delivery(incoming, raw))

    # -- worker ---------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._receive_loop()
        except Exception:
            # Outside every guard: the lane stops detecting. The supervisor sees the thread
            # gone (``alive``), reports a critical fault and hands the partition on.
            log.critical("the lane of partition %s died", self._partition.text, exc_info=True)
        finally:
            self._flush_on_stop()

    def _receive_loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._chores.run()  # between batches: the engine is this thread's
            except Stopping:
                return
            batch = self._next_batch()
            if not batch:
                continue
            try:
                self._process(batch)
            except Stopping:
                log.info(
                    "stopping with %d messages not acknowledged; the broker keeps them", len(batch)
                )
                return
            except Exception:
                # A bug must not stop the receive loop: the batch stays unacknowledged and
                # is redelivered after the next reconnect.
                log.exception("batch of %d messages failed; left unacknowledged", len(batch))
                continue
            self._acknowledge(batch)
            self._engine_ahead = False

    def _lane_chores(self) -> Chores:
        """Every chore with its cadence from the settings, on one clock (ingest.chores)."""
        pipeline, config = self._pipeline, self._config
        chores = [
            Chore("spool", self._drain_spool),
            Chore("sightings", self._write_sightings),
        ]
        if self._snapshots is not None:
            snapshots = self._snapshots
            chores.append(Chore("snapshots", snapshots.save, snapshots.every_s, wait_first=True))
        chores.append(Chore("clears", self._clears.apply, config.clears_poll_s))
        chores.append(Chore("gas-on", pipeline.gas_on.refresh, config.gas_on_refresh_s))
        if pipeline.profiles is not None:
            refresh = pipeline.profiles.refresh
            chores.append(Chore("meter profiles", refresh, config.profiles_refresh_s))
        if pipeline.rule_profiles is not None:
            follow = pipeline.rule_profiles.refresh
            chores.append(Chore("rule profiles", follow, config.profiles_refresh_s))
        if self._connection_watch is not None:
            watch = self._connection_watch
            chores.append(Chore("connection watch", watch.run_now, config.connection_check_s))
        if self._completeness_watch is not None:  # a lane just started knows little
            completeness = self._completeness_watch.run_now
            every_s = config.completeness_check_s
            chores.append(Chore("completeness", completeness, every_s, wait_first=True))
        if self._partition.index == 0:  # one lane expires them for the whole registry
            every_s = config.dead_letter_expiry_check_s
            chores.append(Chore("dead-letter expiry", self._expire_dead_letters, every_s))
        every_s = config.commands.dispatch_poll_s
        chores.append(Chore("commands", pipeline.actuator.dispatch_due, every_s))
        return Chores(chores, pipeline.metrics.chore_failures)

    def _expire_dead_letters(self) -> int:
        """Dead letters older than the retention are deleted (a few thousand at a time)."""
        before_ms = self._clock() - int(self._config.dead_letter_retention_s * 1000)
        return self._pipeline.registry.dead_letters.expire(before_ms)

    def _write_sightings(self) -> None:
        for step in self._pipeline.sightings_steps(self._clock()):
            self._retry(step)

    def _flush_on_stop(self) -> None:
        if self._snapshots is not None and self._engine_ahead:
            # The engine took a batch whose decisions were not all carried out (stopped or
            # died mid-batch). Saving it would make the redelivered batch look old to the
            # next run, and its alarms and closes would never happen: keep the last
            # snapshot, taken between batches, and let the redelivery decide again.
            log.warning("engine snapshot not saved: a batch was decided but not carried out")
        elif self._snapshots is not None:
            self._snapshots.save()
        for step in self._pipeline.sightings_steps(self._clock(), force=True):
            try:
                step.run()
            except MetersError as exc:
                log.warning(
                    "last-seen data not written at stop (%s); it is refreshed on start", exc
                )

    def _next_batch(self) -> list[Delivery]:
        try:
            first = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        batch = [first]
        deadline = time.monotonic() + self._config.batch_max_wait_s
        while len(batch) < self._config.batch_max_messages:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except queue.Empty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        self._queue_depth.set(self._queue.qsize())
        return batch

    def _process(self, batch: list[Delivery]) -> None:
        pipeline = self._pipeline
        owns = self._partition.owns_topic
        # Another worker's meters: acknowledged with the batch, handled by that worker.
        decoded = pipeline.decode([d.message for d in batch if owns(d.message.topic)])
        refused: list[Refused] = []

        def store() -> None:
            refused[:] = pipeline.store_readings(decoded)

        self._retry(Step("store readings", store))
        self._engine_ahead = True  # until the batch is acknowledged (see _flush_on_stop)
        decisions = pipeline.decide(decoded)
        for step in pipeline.record_steps(decoded, decisions, refused, self._clock()):
            self._retry(step)

    def _drain_spool(self) -> None:
        writer = self._pipeline.writer
        if not writer.spool or writer.store_down:
            return
        refused = writer.drain(self._config.drain_batches_per_round)
        if refused:
            self._retry(self._pipeline.dead_letters_step(refused_letters(refused, self._clock())))

    def _retry(self, step: Step) -> None:
        delay = self._config.retry_initial_s
        while True:
            try:
                step.run()
                return
            except (MetersError, TelemetryError, IngestError) as exc:
                if isinstance(exc, Stopping):
                    raise
                self._pipeline.metrics.retries.labels(step=step.name.split(" ")[0]).inc()
                log.warning("%s failed (%s); retrying in %.1f s", step.name, exc, delay)
            if self._stop.wait(delay * random.uniform(0.8, 1.2)):
                raise Stopping(step.name)
            delay = min(delay * 2, self._config.retry_max_s)

    def _acknowledge(self, batch: list[Delivery]) -> None:
        """PUBACK the batch, only on the connection that delivered it (a redelivery after
        a reconnect carries new packet ids; the broker resends the others)."""
        acknowledged = self._session.acknowledge([d.incoming for d in batch])
        self._pipeline.metrics.acknowledged.inc(acknowledged)
