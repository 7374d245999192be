"""Which partitions an ingest worker should run, from the partition leases. Pure: the
leases, the time and what the worker runs go in, the moves come out (ingest.supervisor
carries them out; docs/scaling.md, "Takeover").

A worker prefers its own partition (``--partition K/N``) and runs it whenever its lease is
free, expired or already the worker's. A partition whose lease expired (its worker died or
lost the registry) is taken over by any worker; the race is settled by the registry's
conditional claim (meters.leases), so exactly one worker wins. A partition nobody has ever
claimed is taken over only after the worker has been up for one lease time, so that a
cluster starting worker by worker does not shuffle partitions. When a partition's own
worker comes back, it asks for it (``want``) and the worker running it hands it back
(``release``): stop, snapshot, release, and the owner claims it at its next round.
A partition whose lane died in this worker rests here for one lease time (``resting``):
a live worker takes it over meanwhile, and only if none does does this one restart it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from meters.leases import Lease


@dataclass(frozen=True, slots=True)
class Round:
    """What one worker knows at one moment."""

    me: str
    preferred: int
    count: int
    now_ms: int
    started_ms: int
    ttl_ms: int
    running: frozenset[int] = frozenset()
    resting: frozenset[int] = frozenset()  # lanes that died here lately: leave them to others


@dataclass(frozen=True, slots=True)
class Moves:
    hold: tuple[int, ...] = ()  # claim or renew, and run
    release: tuple[int, ...] = ()  # stop and hand back to the worker that wants it
    want: int | None = None  # ask for the preferred partition back


def plan(state: Round, leases: Mapping[int, Lease]) -> Moves:
    hold: list[int] = []
    release: list[int] = []
    want: int | None = None
    for partition in range(state.count):
        if partition in state.resting:
            continue
        lease = leases.get(partition)
        if partition == state.preferred:
            if lease is None or _mine(state, lease) or _expired(state, lease):
                hold.append(partition)
            else:
                want = partition
        elif lease is None:
            if state.now_ms - state.started_ms >= state.ttl_ms:
                hold.append(partition)
        elif _mine(state, lease):
            (release if _wanted_back(state, lease) else hold).append(partition)
        elif _expired(state, lease):
            hold.append(partition)
    return Moves(tuple(hold), tuple(release), want)


def _mine(state: Round, lease: Lease) -> bool:
    return lease.holder == state.me


def _expired(state: Round, lease: Lease) -> bool:
    return lease.expires_ms <= state.now_ms


def _wanted_back(state: Round, lease: Lease) -> bool:
    """Another live worker asked for it within the last lease time."""
    return (
        lease.wanted_by is not None
        and lease.wanted_by != state.me
        and state.now_ms - lease.wanted_ms < state.ttl_ms
    )
