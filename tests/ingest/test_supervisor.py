"""The partition supervisor over a real (SQLite) registry, with stand-in lanes and a
hand-driven clock: takeover of a dead worker's partition, hand-back, self-fencing."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter

from ingest.supervisor import PartitionSupervisor
from meters.clock import wall_clock_ms
from meters.db import Transactions
from meters.errors import RegistryError
from meters.leases import Lease, LeaseStore
from meters.partition import Partition
from tests.conftest import sqlite_registry

TTL_S, RENEW_S = 20.0, 5.0


class FakeLane:
    def __init__(self, partition: Partition, log: list[str], worker: str) -> None:
        self.name = f"{worker}:{partition.index}"
        self.log = log
        self.dead = False  # its worker thread died

    def alive(self) -> bool:
        return not self.dead

    def start(self) -> None:
        self.log.append(f"start {self.name}")

    def stop(self) -> None:
        self.log.append(f"stop {self.name}")

    def wait_connected(self, timeout_s: float) -> bool:
        return True


class Cluster:
    def __init__(self, leases: LeaseStore) -> None:
        self.leases = leases
        self.now_ms = 1_000_000
        self.log: list[str] = []

        self.lanes: dict[str, FakeLane] = {}
        self.deaths = 0

    def worker(self, index: int, leases: LeaseStore | None = None) -> PartitionSupervisor:
        name = f"w{index}"

        def build(partition: Partition) -> FakeLane:
            lane = self.lanes[f"{name}:{partition.index}"] = FakeLane(partition, self.log, name)
            return lane

        def died() -> None:
            self.deaths += 1

        return PartitionSupervisor(
            leases or self.leases,
            name,
            Partition(index, 2),
            build,
            TTL_S,
            RENEW_S,
            lambda: self.now_ms,
            on_lane_death=died,
        )

    def advance(self, seconds: float, *workers: PartitionSupervisor) -> None:
        """Let time pass with ``workers`` doing a round every renewal period."""
        for _ in range(round(seconds / RENEW_S)):
            self.now_ms += round(RENEW_S * 1000)
            for worker in workers:
                worker.run_round()


def running(worker: PartitionSupervisor) -> list[int]:
    return [p.index for p in worker.running()]


def test_a_survivor_takes_over_a_dead_workers_partition_and_hands_it_back(
    tmp_path: Path,
) -> None:
    cluster = Cluster(sqlite_registry(tmp_path).leases)
    w0, w1 = cluster.worker(0), cluster.worker(1)
    w0.run_round()
    w1.run_round()
    assert (running(w0), running(w1)) == ([0], [1])
    cluster.advance(30, w0, w1)
    assert (running(w0), running(w1)) == ([0], [1]), "live leases are renewed, not moved"

    # w1 dies (no release, no more renewals): w0 takes partition 1 once its lease expires.
    cluster.advance(TTL_S - RENEW_S, w0)
    assert running(w0) == [0]
    cluster.advance(RENEW_S, w0)
    assert running(w0) == [0, 1]
    assert cluster.log[-1] == "start w0:1"

    # w1 restarts: it asks for its partition, w0 hands it back, w1 runs it again.
    restarted = cluster.worker(1)
    restarted.run_round()
    assert running(restarted) == []
    w0.run_round()
    assert running(w0) == [0]
    assert cluster.log[-1] == "stop w0:1"
    restarted.run_round()
    assert running(restarted) == [1]
    cluster.advance(30, w0, restarted)
    assert (running(w0), running(restarted)) == ([0], [1])


def test_a_clean_stop_releases_at_once(tmp_path: Path) -> None:
    cluster = Cluster(sqlite_registry(tmp_path).leases)
    w0, w1 = cluster.worker(0), cluster.worker(1)
    w0.run_round()
    w1.run_round()
    w1.stop()
    assert cluster.log[-1] == "stop w1:1"
    cluster.now_ms += 1
    w0.run_round()
    assert running(w0) == [0, 1]


class BrokenLeases(LeaseStore):
    """A lease store whose registry can be made unreachable (``up = False``)."""

    def __init__(self, store: LeaseStore) -> None:
        self.store = store
        self.up = True

    def leases(self, count: int) -> dict[int, Lease]:
        if not self.up:
            raise RegistryError("registry unreachable")
        return self.store.leases(count)

    def claim(self, partition: Partition, holder: str, now_ms: int, ttl_ms: int) -> bool:
        if not self.up:
            raise RegistryError("registry unreachable")
        return self.store.claim(partition, holder, now_ms, ttl_ms)


def test_a_worker_that_cannot_renew_stops_its_lane_before_the_lease_can_expire(
    tmp_path: Path,
) -> None:
    cluster = Cluster(sqlite_registry(tmp_path).leases)
    leases = BrokenLeases(cluster.leases)
    w0 = cluster.worker(0, leases)
    w0.run_round()
    claimed_ms = cluster.now_ms
    leases.up = False
    cluster.advance(TTL_S - 2 * RENEW_S, w0)
    assert running(w0) == [0]
    cluster.advance(RENEW_S, w0)
    assert running(w0) == []
    assert cluster.log[-1] == "stop w0:0"
    # Stopped before anyone else could claim it.
    assert cluster.now_ms < claimed_ms + TTL_S * 1000
    leases.up = True
    cluster.advance(RENEW_S, w0)
    # Its own partition again, and partition 1, which nobody has claimed for a lease time.
    assert running(w0) == [0, 1]


def test_a_lane_whose_thread_died_is_handed_to_a_live_worker_and_reported(
    tmp_path: Path,
) -> None:
    """Before: the supervisor kept renewing the dead lane's lease, so nobody ever took the
    partition over and detection stopped without a word."""
    cluster = Cluster(sqlite_registry(tmp_path).leases)
    w0, w1 = cluster.worker(0), cluster.worker(1)
    w0.run_round()
    w1.run_round()
    cluster.lanes["w1:1"].dead = True
    cluster.advance(RENEW_S, w1, w0)  # w1 sees it first, then w0 takes the free lease
    assert (running(w0), running(w1)) == ([0, 1], [])
    assert "stop w1:1" in cluster.log and cluster.log[-1] == "start w0:1"
    assert cluster.deaths == 1 and "lane 1/2 died" in w1.fault
    cluster.advance(TTL_S, w0, w1)  # w1 rests, then asks for its partition back
    cluster.advance(RENEW_S, w0, w1)
    assert (running(w0), running(w1)) == ([0], [1])


def test_a_lone_worker_restarts_a_dead_lane_after_one_lease_time(tmp_path: Path) -> None:
    cluster = Cluster(sqlite_registry(tmp_path).leases)
    w0 = cluster.worker(0)
    w0.run_round()
    cluster.lanes["w0:0"].dead = True
    cluster.advance(RENEW_S, w0)
    assert running(w0) == [] and cluster.log[-1] == "stop w0:0"
    cluster.advance(TTL_S - RENEW_S, w0)
    assert 0 not in running(w0), "it rests for one lease time, for a live worker to take it"
    cluster.advance(RENEW_S, w0)
    assert 0 in running(w0) and cluster.log.count("start w0:0") == 2
    assert cluster.lanes["w0:0"].alive() and cluster.deaths == 1


class CountingLeases(LeaseStore):
    """The real lease store, counting its renewals."""

    claims = 0

    def claim(self, partition: Partition, holder: str, now_ms: int, ttl_ms: int) -> bool:
        self.claims += 1
        return super().claim(partition, holder, now_ms, ttl_ms)


class BuggyHealth:
    """A health report with a bug: it raises on every turn."""

    every_s = 0.0

    def report(self) -> None:
        raise ZeroDivisionError("a bug in the health report")


def test_a_bug_in_the_health_report_is_counted_and_never_stops_the_lease_renewals(
    tmp_path: Path,
) -> None:
    leases = CountingLeases(Transactions(sqlite_registry(tmp_path).engine))
    failures = Counter("chore_failures", "", ["chore"], registry=CollectorRegistry())
    worker = PartitionSupervisor(
        leases,
        "w0",
        Partition(0, 1),
        lambda partition: FakeLane(partition, [], "w0"),
        2.0,
        0.3,  # a renewal every 0.3 s of the supervisor's own (monotonic) clock
        wall_clock_ms,
        health=BuggyHealth(),  # type: ignore[arg-type]
        chore_failures=failures,
    )
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while leases.claims < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert leases.claims >= 4  # renewed on its cadence, however often the report failed
    assert failures.labels(chore="health report")._value.get() >= 3
    assert running(worker) == []  # and it stopped cleanly, releasing the lease
