"""Two ingest workers in partitioned mode on one Mosquitto: each meter's messages are
handled by exactly one worker, nothing is lost, no alarm is raised twice, a worker
killed mid-stream catches up its meters from its persistent session when it restarts, and
a worker that stays dead has its meters taken over by the other (partition leases)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from gasguard.servers import InfluxServer, MosquittoServer
from meters.partition import Partition
from telemetry import InfluxTelemetryStore
from tests.conftest import sqlite_registry
from tests.helpers import MqttProbe, wait_until
from tests.ingest.test_faults import assert_exactly_once
from tests.processes import IngestProcess, LoadPublisher

pytestmark = pytest.mark.integration

WORKERS = 2


def workers(
    folder: Path, mosquitto: MosquittoServer, influxd: InfluxServer, database: str, **env: str
) -> list[IngestProcess]:
    """Worker k of N, sharing one data folder (registry) and one base client id."""
    client_id = f"parts-{uuid.uuid4().hex[:8]}"
    return [
        IngestProcess(
            folder,
            mosquitto.url,
            influxd.url,
            database,
            name=f"ingest-{index}",
            GASGUARD_INGEST__CLIENT_ID=client_id,
            GASGUARD_INGEST__PARTITION=str(index),
            GASGUARD_INGEST__PARTITIONS=str(WORKERS),
            GASGUARD_INGEST__HEALTH_EVERY_S="0.5",
            **env,
        )
        for index in range(WORKERS)
    ]


def stored_by(worker: IngestProcess) -> float:
    return worker.metric("gasguard_ingest_readings_stored_total")


def test_two_workers_split_the_meters_and_lose_nothing_when_one_is_killed(
    mosquitto: MosquittoServer,
    influxd: InfluxServer,
    influx_store: InfluxTelemetryStore,
    tmp_path: Path,
) -> None:
    pool = workers(tmp_path, mosquitto, influxd, influx_store.database)
    for worker in pool:
        worker.start()
    load = LoadPublisher(mosquitto.url, "PART", meters=40, count=6000, rate=1500)
    probe = MqttProbe(mosquitto.url)
    try:
        load.start()
        time.sleep(1.0)
        pool[1].kill()
        time.sleep(1.5)
        pool[1].start()
        load.wait()
        assert len(load.acknowledged()) == load.count
        assert_exactly_once(influx_store, load)

        # Each worker stored only its own meters' readings (the restarted one counts from
        # its restart, so the sum can fall short of the total, never exceed it).
        meters = {load.key(index)[0] for index in range(load.meters)}
        own = [[m for m in meters if Partition(k, WORKERS).owns(m)] for k in range(WORKERS)]
        assert all(own), "the test's meters should fall into both partitions"
        assert stored_by(pool[0]) == load.count * len(own[0]) / load.meters
        assert 0 < stored_by(pool[1]) <= load.count * len(own[1]) / load.meters

        # A leak on every meter: one alarm decision per meter across the two workers.
        for meter in sorted(meters):
            probe.publish(
                f"gas/v1/meters/{meter}/events",
                {"ts": time.time_ns() // 1_000_000, "event": "detector_alarm"},
            )
        registry = sqlite_registry(tmp_path / "data")
        wait_until(
            lambda: {a.meter_id for a in registry.alarms.find(limit=500)} == meters,
            what="an alarm for every leaking meter",
        )
        time.sleep(1.0)  # a second worker's duplicate would arrive by now
        decisions = [
            w.metric('gasguard_safety_decisions_total{action="shutoff",rule="leak_detector"}')
            for w in pool
        ]
        assert decisions == [len(own[0]), len(own[1])]

        # Each worker reports its health under its own name, for the API's overview.
        client_id = pool[0].env["GASGUARD_INGEST__CLIENT_ID"]
        wait_until(
            lambda: (
                [(w.worker, w.partition) for w in registry.workers.list()]
                == [(f"{client_id}-p0of2", "0/2"), (f"{client_id}-p1of2", "1/2")]
            ),
            what="a health report from each worker",
        )
        reported = {w.partition: w.readings for w in registry.workers.list()}
        wait_until(
            lambda: (
                {w.partition: w.readings for w in registry.workers.list()}["0/2"]
                == stored_by(pool[0])
            ),
            what="worker 0's report to catch up with its counter",
        )
        assert reported["1/2"] <= stored_by(pool[1])
    finally:
        probe.close()
        load.stop()
        for worker in pool:
            worker.stop()


def test_a_worker_that_stays_dead_has_its_meters_taken_over_and_handed_back(
    mosquitto: MosquittoServer,
    influxd: InfluxServer,
    influx_store: InfluxTelemetryStore,
    tmp_path: Path,
) -> None:
    pool = workers(
        tmp_path,
        mosquitto,
        influxd,
        influx_store.database,
        GASGUARD_INGEST__LEASE_TTL_S="2",
        GASGUARD_INGEST__LEASE_RENEW_S="0.5",
        GASGUARD_INGEST__SNAPSHOT_EVERY_S="0.5",
    )
    for worker in pool:
        worker.start()
    registry = sqlite_registry(tmp_path / "data")
    client_id = pool[0].env["GASGUARD_INGEST__CLIENT_ID"]

    def running() -> dict[str, str]:
        return {w.worker: w.partition for w in registry.workers.list()}

    load = LoadPublisher(mosquitto.url, "TAKE", meters=40, count=6000, rate=1500)
    probe = MqttProbe(mosquitto.url)
    try:
        load.start()
        time.sleep(1.0)
        pool[1].kill()  # and it stays dead: worker 0 must take partition 1 over
        load.wait()
        assert len(load.acknowledged()) == load.count
        assert_exactly_once(influx_store, load)
        assert "taking over" in pool[0].log()
        wait_until(
            lambda: running().get(f"{client_id}-p0of2") == "0/2,1/2",
            what="worker 0 to report both partitions",
        )

        # Worker 0 now watches every meter: one alarm each, none twice.
        meters = {load.key(index)[0] for index in range(load.meters)}
        for meter in sorted(meters):
            probe.publish(
                f"gas/v1/meters/{meter}/events",
                {"ts": time.time_ns() // 1_000_000, "event": "detector_alarm"},
            )
        wait_until(
            lambda: {a.meter_id for a in registry.alarms.find(limit=500)} == meters,
            what="an alarm for every leaking meter",
        )
        time.sleep(1.0)  # a duplicate would arrive by now
        decisions = 'gasguard_safety_decisions_total{action="shutoff",rule="leak_detector"}'
        assert pool[0].metric(decisions) == len(meters)
        leaks = [a.meter_id for a in registry.alarms.find(limit=500) if a.rule == "leak_detector"]
        assert sorted(leaks) == sorted(meters), "one leak alarm per meter, none twice"

        # Worker 1 comes back: worker 0 hands partition 1 back to it.
        pool[1].start()
        wait_until(
            lambda: running() == {f"{client_id}-p0of2": "0/2", f"{client_id}-p1of2": "1/2"},
            what="partition 1 back with worker 1",
        )
        assert "handed back to its own worker" in pool[0].log()
    finally:
        probe.close()
        load.stop()
        for worker in pool:
            worker.stop()


def test_members_of_a_shared_subscription_split_the_messages_and_lose_nothing(
    mosquitto: MosquittoServer,
    influxd: InfluxServer,
    influx_store: InfluxTelemetryStore,
    tmp_path: Path,
) -> None:
    """MQTT 5 shared subscription ($share/<group>/...): the broker gives each message to one
    member. Mosquitto shares round-robin, which is enough to show that nothing is lost or
    stored twice; the per-meter routing the safety engine needs comes from EMQX's hash
    strategies (docs/scaling.md)."""
    group = f"g{uuid.uuid4().hex[:6]}"
    pool = [
        IngestProcess(
            tmp_path,
            mosquitto.url,
            influxd.url,
            influx_store.database,
            name=f"member-{index}",
            GASGUARD_INGEST__SHARED_GROUP=group,
        )
        for index in range(2)
    ]
    for worker in pool:
        worker.start()
    load = LoadPublisher(mosquitto.url, "SHARE", meters=20, count=4000, rate=1500)
    try:
        load.start()
        load.wait()
        assert len(load.acknowledged()) == load.count
        assert_exactly_once(influx_store, load)
        stored = [stored_by(worker) for worker in pool]
        assert sum(stored) == load.count, "each message went to exactly one member"
        assert min(stored) > 0, "both members got a share"
    finally:
        load.stop()
        for worker in pool:
            worker.stop()
