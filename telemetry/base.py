"""The telemetry store interface, shared by every backend and its contract tests.

Semantics every backend keeps (InfluxDB's): a point is identified by (meter_id, ts_ms);
writing the same point again overwrites the fields it carries and keeps the others, so a
replayed write is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from contract.readings import Reading

MEASUREMENT = "gas_reading"


class TelemetryStore(Protocol):
    def write(self, readings: Sequence[Reading]) -> None:
        """Store ``readings`` durably, all or none. Raises ``StoreUnavailable`` (retry later)
        or ``StoreRejected`` (the data itself was refused)."""

    def readings(self, meter_id: str, start_ms: int, end_ms: int, limit: int) -> list[Reading]:
        """Readings of one meter with ``start_ms <= ts < end_ms``, oldest first, at most
        ``limit``."""

    def latest(self, meter_id: str) -> Reading | None:
        """The newest reading of one meter."""

    def count(self, meter_id: str | None = None) -> int:
        """How many points are stored (for one meter, or for all)."""

    def counts(self, start_ms: int, end_ms: int) -> dict[str, int]:
        """How many readings each meter has with ``start_ms <= ts < end_ms`` (meters with
        none are absent): the received side of data completeness."""

    def ping(self) -> bool:
        """True when the backend answers."""

    def close(self) -> None: ...
