"""The meters' events (tamper, battery, valve faults ...) as received: one row each."""

from __future__ import annotations

from collections.abc import Sequence

from contract.events import MeterEvent
from meters.db import Transactions
from meters.models import MeterEventRow


class EventStore:
    def __init__(self, transactions: Transactions) -> None:
        self._run = transactions.run

    def add(self, events: Sequence[MeterEvent], received_ms: int) -> None:
        if not events:
            return
        self._run(
            lambda s: s.add_all(
                MeterEventRow(
                    meter_id=e.meter_id, ts_ms=e.ts_ms, event=e.event, received_ms=received_ms
                )
                for e in events
            )
        )
