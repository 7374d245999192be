"""The worker's health report, over a real (SQLite) registry."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry

from ingest.health import HealthReporter
from ingest.metrics import IngestMetrics
from tests.conftest import sqlite_registry


def test_reports_totals_and_rates_between_two_reports(tmp_path: Path) -> None:
    registry = sqlite_registry(tmp_path)
    metrics = IngestMetrics(CollectorRegistry())
    now = [1_000_000]
    reporter = HealthReporter(
        registry.workers, metrics, "ingest-p1of2", lambda: "1/2", 5.0, lambda: now[0]
    )
    metrics.messages.labels(kind="telemetry").inc(100)
    metrics.messages.labels(kind="events").inc(20)
    metrics.readings_stored.inc(1000)
    metrics.dead_letters.labels(reason="not_json").inc(3)
    metrics.lane("1/2").spool_records.set(2)
    metrics.lane("1/2").spool_bytes.set(512)
    metrics.lane("0/2").spool_records.set(3)  # a partition taken over: its spool counts too
    metrics.lane("0/2").spool_bytes.set(256)
    reporter.report()
    (first,) = registry.workers.list()
    assert (first.worker, first.partition, first.updated_ms) == ("ingest-p1of2", "1/2", 1_000_000)
    assert (first.messages, first.readings, first.dead_letters) == (120, 1000, 3)
    assert (first.spool_records, first.spool_bytes, first.messages_per_s) == (5, 768, 0.0)
    now[0] += 4_000
    metrics.messages.labels(kind="telemetry").inc(200)
    metrics.readings_stored.inc(2000)
    reporter.report()
    (second,) = registry.workers.list()  # replaced, not added
    assert (second.messages_per_s, second.readings_per_s) == (50.0, 500.0)
    assert second.updated_ms == 1_004_000
    metrics.forget_lane("0/2")  # handed back: the next runner of 0/2 reports its spool
    reporter.report()
    (third,) = registry.workers.list()
    assert (third.spool_records, third.spool_bytes) == (2, 512)
