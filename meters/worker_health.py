"""Ingest workers' own reports (rates, dead letters, spool), for the API's overview: the
API runs in another process and cannot read the workers' Prometheus counters."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from meters.db import Transactions
from meters.models import IngestWorker
from meters.views import WorkerHealth


class WorkerHealthStore:
    def __init__(self, transactions: Transactions) -> None:
        self._run = transactions.run

    def record(self, health: WorkerHealth) -> None:
        """Replace what ``health.worker`` last reported."""

        def work(session: Session) -> None:
            session.merge(IngestWorker(**asdict(health)))

        self._run(work)

    def list(self) -> list[WorkerHealth]:
        query = select(IngestWorker).order_by(IngestWorker.worker)

        def work(session: Session) -> list[WorkerHealth]:
            return [
                WorkerHealth(**{k: getattr(row, k) for k in WorkerHealth.__dataclass_fields__})
                for row in session.scalars(query)
            ]

        return self._run(work)
