"""One ingest worker process: the partitions it runs, each as its own lane (an
``MqttIngester`` with its partition's MQTT session, spool, snapshot and engine), kept by
partition leases in the registry, and the worker's health report.

Every ``lease_renew_s`` the supervisor reads the leases, asks ``ingest.lease_plan`` what
to run, and carries it out: claim or renew (start the lane when it is new to this worker),
hand back (stop the lane, which saves its snapshot, then release the lease), ask for the
worker's own partition back. A lane whose lease this worker lost, or could not renew for
``lease_ttl_s - lease_renew_s`` (the registry is unreachable), is stopped before another
worker may take it over: two lanes never run one partition knowingly.

Without leases (``leased=False``: members of an MQTT shared subscription, where the
broker splits the meters) the supervisor just runs the worker's one lane.

A takeover lane connects with the partition's own MQTT client id, so the broker hands it
the dead worker's persistent session (every message not yet acknowledged), restores the
partition's engine snapshot and drains its spool, from the shared data folder.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from prometheus_client import Counter

from ingest.broker_watch import BrokerWatch
from ingest.chores import Chore, Chores
from ingest.health import HealthReporter
from ingest.lease_plan import Round, plan
from meters.errors import MetersError
from meters.leases import LeaseStore
from meters.partition import Partition

log = logging.getLogger(__name__)


class Lane(Protocol):
    """What the supervisor needs of a lane (ingest.service.MqttIngester)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def wait_connected(self, timeout_s: float) -> bool: ...

    def alive(self) -> bool: ...


BuildLane = Callable[[Partition], Lane]


class PartitionSupervisor:
    def __init__(
        self,
        leases: LeaseStore,
        me: str,
        preferred: Partition,
        build_lane: BuildLane,
        ttl_s: float,
        renew_s: float,
        clock: Callable[[], int],
        health: HealthReporter | None = None,
        leased: bool = True,
        on_lane_death: Callable[[], object] = lambda: None,
        broker_watch: BrokerWatch | None = None,
        chore_failures: Counter | None = None,
    ) -> None:
        self._broker_watch = broker_watch
        self._on_lane_death = on_lane_death
        self._resting: dict[int, int] = {}  # partition -> until when (its lane died here)
        self.fault = ""  # the newest critical fault, for the health report
        self._leased = leased
        self._leases = leases
        self._me = me
        self._preferred = preferred
        self._build_lane = build_lane
        self._ttl_ms = round(ttl_s * 1000)
        self._renew_ms = round(renew_s * 1000)
        self._clock = clock
        self._health = health
        self._lanes: dict[int, Lane] = {}
        self._confirmed_ms: dict[int, int] = {}
        self._lock = threading.Lock()  # the lanes, read by other threads through running()
        self._started_ms = clock()
        self._chore_failures = chore_failures
        self._chores = Chores([])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingest-leases", daemon=True)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Claim what is free now (the worker's own partition, normally), then keep at it."""
        self._chores = Chores(self._own_chores(), self._chore_failures)
        self.run_round()
        if self._broker_watch is not None:
            self._broker_watch.start()
        self._thread.start()

    def stop(self) -> None:
        """Stop every lane and release its lease, so another worker may take it at once."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=60)
        for index in sorted(self._lanes):
            self._stop_lane(index, "worker stopping")
            if not self._leased:
                continue
            try:
                self._leases.release(self._partition(index), self._me)
            except MetersError as exc:
                log.warning("lease of partition %d not released (%s); it expires", index, exc)
        if self._broker_watch is not None:
            self._broker_watch.stop()
        self._report_health()  # the last one: this worker's state as it stops

    @property
    def count(self) -> int:
        return self._preferred.count

    def _partition(self, index: int) -> Partition:
        return Partition(index, self.count)

    def running(self) -> list[Partition]:
        with self._lock:
            return [self._partition(index) for index in sorted(self._lanes)]

    def describe(self) -> str:
        """The partitions running now, for the health report: "0/2" or "0/2,1/2"."""
        return ",".join(p.text for p in self.running()) or "-"

    def wait_connected(self, timeout_s: float) -> bool:
        with self._lock:
            lanes = list(self._lanes.values())
        return bool(lanes) and all(lane.wait_connected(timeout_s) for lane in lanes)

    # -- rounds ---------------------------------------------------------------------------

    def _own_chores(self) -> list[Chore]:
        """The leases' round (the first ran in ``start``), the broker's drops, the health
        report; each guarded on its own: a bug in one never stops the leases' renewal."""
        chores = [Chore("partition leases", self.run_round, self._renew_ms / 1000, True)]
        if self._broker_watch is not None:
            watch = self._broker_watch
            chores.append(Chore("broker drops", watch.check_now, watch.every_s))
        if self._health is not None:
            chores.append(Chore("health report", self._health.report, self._health.every_s))
        return chores

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._chores.run()

    def run_round(self) -> None:
        now_ms = self._clock()
        self._bury_dead_lanes(now_ms)
        if not self._leased:
            if not self._lanes:
                self._start_lane(self._preferred.index)
            return
        try:
            leases = self._leases.leases(self.count)
            resting = frozenset(i for i, until in self._resting.items() if until > now_ms)
            state = Round(
                self._me,
                self._preferred.index,
                self.count,
                now_ms,
                self._started_ms,
                self._ttl_ms,
                frozenset(self._lanes),
                resting,
            )
            moves = plan(state, leases)
            for index in moves.release:
                self._stop_lane(index, "handed back to its own worker")
                self._leases.release(self._partition(index), self._me)
            for index in moves.hold:
                self._hold(index, now_ms)
            for index in set(self._lanes) - set(moves.hold):
                self._stop_lane(index, "another worker holds its lease")
            if moves.want is not None:
                self._leases.want(self._partition(moves.want), self._me, now_ms)
        except MetersError as exc:
            log.warning("partition leases not renewed (%s); trying again", exc)
        self._fence(now_ms)

    def _hold(self, index: int, now_ms: int) -> None:
        if not self._leases.claim(self._partition(index), self._me, now_ms, self._ttl_ms):
            self._stop_lane(index, "another worker claimed its lease first")
            return
        self._confirmed_ms[index] = now_ms
        if index not in self._lanes:
            self._start_lane(index)

    def _fence(self, now_ms: int) -> None:
        """Stop the lanes whose lease may expire before the next round could renew it."""
        for index in sorted(self._lanes):
            if now_ms - self._confirmed_ms.get(index, 0) >= self._ttl_ms - self._renew_ms:
                self._stop_lane(index, "its lease could not be renewed in time")

    def _bury_dead_lanes(self, now_ms: int) -> None:
        """A lane whose thread died (a bug outside every guard) runs no detection: say so
        as a critical fault, stop it, give its lease up and leave the partition to a live
        worker for one lease time (restarted here after that if none took it)."""
        with self._lock:
            dead = [index for index, lane in self._lanes.items() if not lane.alive()]
        for index in dead:
            text = self._partition(index).text
            self.fault = f"lane {text} died at {now_ms}: its partition was handed on"
            log.critical("worker %s: the lane of partition %s died", self._me, text)
            self._on_lane_death()
            self._stop_lane(index, "its worker thread died")
            self._resting[index] = now_ms + self._ttl_ms
            if self._leased:
                try:
                    self._leases.release(self._partition(index), self._me)
                except MetersError as exc:
                    log.warning("lease of partition %s not released (%s); it expires", text, exc)
        if dead:
            self._report_health()  # at once: the overview shows the fault now

    def _report_health(self) -> None:
        """A health report out of turn; an outage waits for the chore's next turn."""
        if self._health is None:
            return
        try:
            self._health.report()
        except MetersError as exc:
            log.warning("health report not written (%s); the next one tries again", exc)
        except Exception:  # a bug in the report must not stop a stop or a takeover
            log.exception("health report failed")

    # -- lanes ----------------------------------------------------------------------------

    def _start_lane(self, index: int) -> None:
        partition = self._partition(index)
        own = index == self._preferred.index
        log.warning(
            "worker %s starts partition %d/%d%s",
            self._me,
            index,
            self.count,
            "" if own else " (taking over: its lease was free or expired)",
        )
        lane = self._build_lane(partition)
        lane.start()
        with self._lock:
            self._lanes[index] = lane

    def _stop_lane(self, index: int, why: str) -> None:
        with self._lock:
            lane = self._lanes.pop(index, None)
        self._confirmed_ms.pop(index, None)
        if lane is None:
            return
        log.warning("worker %s stops partition %d/%d: %s", self._me, index, self.count, why)
        lane.stop()
