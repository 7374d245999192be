"""Fixtures of the ingest tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from gasguard.servers import InfluxServer
from telemetry import InfluxTelemetryStore


@pytest.fixture
def influx_store(influxd: InfluxServer) -> Iterator[InfluxTelemetryStore]:
    """A fresh database on the session's InfluxDB."""
    store = InfluxTelemetryStore(influxd.url, f"ingest_{uuid.uuid4().hex[:8]}")
    store.ensure_database()
    yield store
    store.close()
