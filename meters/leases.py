"""Partition leases in the registry: which ingest worker runs which partition, until when.

``claim`` is one conditional UPDATE (or an INSERT that does nothing on conflict; both
report through RETURNING, which SQLite and PostgreSQL have), so when
two workers race for an expired lease the database lets exactly one win. A worker renews
its leases well within their time; one that cannot (it died, or lost the registry) loses
them when they expire, and another worker takes its partitions over (ingest.lease_plan).
Times are the workers' wall clocks: the servers' clocks must agree to well within the
lease time (NTP), which is why the lease time is seconds, not milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from meters.db import Transactions
from meters.models import PartitionLease
from meters.partition import Partition


@dataclass(frozen=True, slots=True)
class Lease:
    partition: int
    holder: str
    expires_ms: int
    wanted_by: str | None = None
    wanted_ms: int = 0


class LeaseStore:
    def __init__(self, transactions: Transactions) -> None:
        self._run = transactions.run

    def leases(self, count: int) -> dict[int, Lease]:
        """The leases of the ``count`` partitions of one partitioning, by index."""

        def work(session: Session) -> dict[int, Lease]:
            found = {}
            for row in session.scalars(select(PartitionLease)):
                partition = Partition.parse(row.partition)
                if partition.count == count:
                    found[partition.index] = Lease(
                        partition.index, row.holder, row.expires_ms, row.wanted_by, row.wanted_ms
                    )
            return found

        return self._run(work)

    def claim(self, partition: Partition, holder: str, now_ms: int, ttl_ms: int) -> bool:
        """Take or renew the lease until ``now_ms + ttl_ms`` if it is free, expired or
        already ``holder``'s. True when ``holder`` has it now."""
        key = partition.text
        expires_ms = now_ms + ttl_ms

        def work(session: Session) -> bool:
            renewed = session.execute(
                update(PartitionLease)
                .where(PartitionLease.partition == key)
                .where((PartitionLease.holder == holder) | (PartitionLease.expires_ms <= now_ms))
                .values(holder=holder, expires_ms=expires_ms)
                .returning(PartitionLease.partition)
            ).first()
            if renewed is not None:
                session.execute(
                    update(PartitionLease)
                    .where(PartitionLease.partition == key, PartitionLease.wanted_by == holder)
                    .values(wanted_by=None, wanted_ms=0)
                )
                return True
            insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
            created = session.execute(
                insert(PartitionLease)
                .values(partition=key, holder=holder, expires_ms=expires_ms, wanted_ms=0)
                .on_conflict_do_nothing(index_elements=["partition"])
                .returning(PartitionLease.partition)
            ).first()
            return created is not None

        return self._run(work)

    def release(self, partition: Partition, holder: str) -> None:
        """Give the lease up now, if ``holder`` has it."""
        key = partition.text
        self._run(
            lambda session: session.execute(
                update(PartitionLease)
                .where(PartitionLease.partition == key, PartitionLease.holder == holder)
                .values(expires_ms=0)
            )
        )

    def want(self, partition: Partition, wanted_by: str, now_ms: int) -> None:
        """Ask whoever holds the lease to hand it back to ``wanted_by``."""
        key = partition.text
        self._run(
            lambda session: session.execute(
                update(PartitionLease)
                .where(PartitionLease.partition == key)
                .values(wanted_by=wanted_by, wanted_ms=now_ms)
            )
        )


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name
