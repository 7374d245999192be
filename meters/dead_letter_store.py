"""Dead letters: the messages ingest could not use, with the reason, kept for a retention
period (the payload up to a limit, and its full size). Each method is one transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from meters.db import Transactions, as_view
from meters.models import DeadLetter
from meters.views import DeadLetterView, NewDeadLetter

DEAD_LETTER_PAYLOAD_LIMIT = 262_144


class DeadLetterStore:
    def __init__(self, transactions: Transactions) -> None:
        self._run = transactions.run

    def add(self, letters: Sequence[NewDeadLetter]) -> None:
        if not letters:
            return

        def work(session: Session) -> None:
            session.add_all(
                DeadLetter(
                    received_ms=letter.received_ms,
                    topic=letter.topic,
                    code=letter.code,
                    reason=letter.reason,
                    payload=letter.payload[:DEAD_LETTER_PAYLOAD_LIMIT],
                    payload_size=len(letter.payload),
                )
                for letter in letters
            )

        self._run(work)

    def expire(self, before_ms: int, limit: int = 5_000) -> int:
        """Delete up to ``limit`` dead letters received before ``before_ms`` (the
        retention); how many went."""
        old = select(DeadLetter.id).where(DeadLetter.received_ms < before_ms).limit(limit)

        def work(session: Session) -> int:
            ids = list(session.scalars(old))
            if ids:
                session.execute(delete(DeadLetter).where(DeadLetter.id.in_(ids)))
            return len(ids)

        return self._run(work)

    def find(
        self, offset: int = 0, limit: int = 100, code: str | None = None
    ) -> list[DeadLetterView]:
        query = select(DeadLetter).order_by(DeadLetter.id.desc()).offset(offset).limit(limit)
        if code is not None:
            query = query.where(DeadLetter.code == code)
        return self._run(lambda s: [as_view(DeadLetterView, d) for d in s.scalars(query)])

    def count(self) -> int:
        return int(self._run(lambda s: s.scalar(select(func.count()).select_from(DeadLetter))) or 0)
