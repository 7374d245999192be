"""Partition leases on both registry backends: one winner per lease, renewals, expiry,
release and hand-back requests."""

from __future__ import annotations

from meters.leases import Lease
from meters.partition import Partition
from meters.registry import Registry

TTL = 20_000


def test_the_first_claim_wins_and_the_holder_renews(registry: Registry) -> None:
    leases = registry.leases
    assert leases.claim(Partition(1, 2), "w1", 1_000, TTL)
    assert not leases.claim(Partition(1, 2), "w0", 1_500, TTL)
    assert leases.claim(Partition(1, 2), "w1", 6_000, TTL)  # renewal
    assert leases.leases(2) == {1: Lease(1, "w1", 6_000 + TTL)}


def test_an_expired_lease_goes_to_the_next_claimant(registry: Registry) -> None:
    leases = registry.leases
    assert leases.claim(Partition(1, 2), "w1", 1_000, TTL)
    assert not leases.claim(Partition(1, 2), "w0", 1_000 + TTL - 1, TTL)
    assert leases.claim(Partition(1, 2), "w0", 1_000 + TTL, TTL)
    assert not leases.claim(Partition(1, 2), "w1", 1_000 + TTL + 1, TTL)  # the old holder lost it


def test_release_frees_it_at_once_and_only_for_its_holder(registry: Registry) -> None:
    leases = registry.leases
    assert leases.claim(Partition(0, 2), "w0", 1_000, TTL)
    leases.release(Partition(0, 2), "w1")  # not its lease: nothing happens
    assert not leases.claim(Partition(0, 2), "w1", 2_000, TTL)
    leases.release(Partition(0, 2), "w0")
    assert leases.claim(Partition(0, 2), "w1", 2_000, TTL)


def test_a_request_to_hand_back_is_recorded_and_cleared_by_the_requesters_claim(
    registry: Registry,
) -> None:
    leases = registry.leases
    assert leases.claim(Partition(1, 2), "w0", 1_000, TTL)
    leases.want(Partition(1, 2), "w1", 2_000)
    assert leases.leases(2)[1] == Lease(1, "w0", 1_000 + TTL, "w1", 2_000)
    leases.release(Partition(1, 2), "w0")
    assert leases.claim(Partition(1, 2), "w1", 3_000, TTL)
    assert leases.leases(2)[1] == Lease(1, "w1", 3_000 + TTL, None, 0)


def test_leases_of_another_partitioning_are_not_mixed_in(registry: Registry) -> None:
    assert registry.leases.claim(Partition(0, 2), "a", 1_000, TTL)
    assert registry.leases.claim(Partition(0, 3), "b", 1_000, TTL)
    assert registry.leases.leases(3) == {0: Lease(0, "b", 1_000 + TTL)}
