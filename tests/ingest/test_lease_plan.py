"""The pure lease planner: which partitions a worker runs, takes over and hands back."""

from __future__ import annotations

from ingest.lease_plan import Moves, Round, plan
from meters.leases import Lease

TTL = 20_000
NOW = 1_000_000


def round_for(me: str, preferred: int, running: set[int] | None = None, up_ms: int = TTL) -> Round:
    return Round(me, preferred, 2, NOW, NOW - up_ms, TTL, frozenset(running or set()))


def test_a_fresh_worker_claims_its_own_partition_and_waits_before_taking_unclaimed_ones() -> None:
    assert plan(round_for("w0", 0, up_ms=0), {}) == Moves(hold=(0,))
    assert plan(round_for("w0", 0, up_ms=TTL - 1), {}) == Moves(hold=(0,))
    # Nobody has claimed partition 1 for a whole lease time: somebody must run it.
    assert plan(round_for("w0", 0, up_ms=TTL), {}) == Moves(hold=(0, 1))


def test_a_live_lease_of_another_worker_is_left_alone() -> None:
    leases = {0: Lease(0, "w0", NOW + 5_000), 1: Lease(1, "w1", NOW + 5_000)}
    assert plan(round_for("w0", 0, {0}), leases) == Moves(hold=(0,))
    assert plan(round_for("w1", 1, {1}), leases) == Moves(hold=(1,))


def test_an_expired_lease_is_taken_over() -> None:
    leases = {0: Lease(0, "w0", NOW + 5_000), 1: Lease(1, "w1", NOW)}
    assert plan(round_for("w0", 0, {0}), leases) == Moves(hold=(0, 1))


def test_a_restarted_worker_resumes_its_own_lease_at_once() -> None:
    # Same name as before the crash: its lease is still live, and still its own.
    leases = {1: Lease(1, "w1", NOW + 15_000), 0: Lease(0, "w0", NOW + 15_000)}
    assert plan(round_for("w1", 1, up_ms=0), leases) == Moves(hold=(1,))


def test_a_returning_worker_asks_for_its_partition_and_the_taker_hands_it_back() -> None:
    taken = {0: Lease(0, "w0", NOW + 15_000), 1: Lease(1, "w0", NOW + 15_000)}
    assert plan(round_for("w1", 1, up_ms=0), taken) == Moves(want=1)
    asked = {**taken, 1: Lease(1, "w0", NOW + 15_000, wanted_by="w1", wanted_ms=NOW - 1_000)}
    assert plan(round_for("w0", 0, {0, 1}), asked) == Moves(hold=(0,), release=(1,))
    # Released: the owner claims it; the taker leaves it alone.
    released = {**taken, 1: Lease(1, "w0", 0, wanted_by="w1", wanted_ms=NOW - 1_000)}
    assert plan(round_for("w1", 1, up_ms=1_000), released) == Moves(hold=(1,))


def test_a_stale_request_does_not_take_a_partition_away() -> None:
    # The worker that asked died again: its request is older than a lease time.
    leases = {
        0: Lease(0, "w0", NOW + 15_000),
        1: Lease(1, "w0", NOW + 15_000, wanted_by="w1", wanted_ms=NOW - TTL),
    }
    assert plan(round_for("w0", 0, {0, 1}), leases) == Moves(hold=(0, 1))


def test_a_worker_never_hands_its_own_partition_away() -> None:
    leases = {0: Lease(0, "w0", NOW + 15_000, wanted_by="other", wanted_ms=NOW)}
    assert plan(round_for("w0", 0, {0}), leases).release == ()
