"""The durable writer: store, or spool while the store is down, then drain; its gauges
are its lane's."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from prometheus_client import CollectorRegistry

from contract.readings import Reading
from ingest.durable import DurableWriter
from ingest.metrics import IngestMetrics
from ingest.spool import Spool
from telemetry import SqliteTelemetryStore
from telemetry.errors import StoreUnavailable


class SwitchableStore(SqliteTelemetryStore):
    """A real SQLite store that can be switched off, like a database outage."""

    up = True

    def write(self, readings: Sequence[Reading]) -> None:
        if not self.up:
            raise StoreUnavailable("switched off")
        super().write(readings)


def test_spooled_batches_show_on_the_lanes_gauges_until_drained(tmp_path: Path) -> None:
    prometheus = CollectorRegistry()
    metrics = IngestMetrics(prometheus)
    store = SwitchableStore(tmp_path / "telemetry.sqlite3")
    now = [0.0]
    writer = DurableWriter(
        store, Spool(tmp_path / "spool", 1 << 20), metrics, 1.0, 2.0, lambda: now[0], "1/2"
    )

    def records(partition: str) -> float | None:
        return prometheus.get_sample_value(
            "gasguard_ingest_spool_records", {"partition": partition}
        )

    store.up = False
    writer.write([Reading("M1", 1_000, 1.0)])
    writer.write([Reading("M1", 2_000, 1.1)])  # straight to the spool: the store is down
    assert records("1/2") == 2 and records("0/2") is None
    assert store.count() == 0
    store.up, now[0] = True, 5.0
    assert writer.drain(10) == []
    assert records("1/2") == 0
    assert store.count() == 2
