"""Pick the telemetry backend: InfluxDB when a URL is given, else the embedded SQLite file."""

from __future__ import annotations

from pathlib import Path

from telemetry.base import TelemetryStore
from telemetry.influx import InfluxTelemetryStore
from telemetry.sqlite import SqliteTelemetryStore


def open_store(
    influx_url: str | None,
    influx_db: str,
    influx_token: str | None,
    data_dir: Path,
    timeout_s: float = 5.0,
) -> TelemetryStore:
    if influx_url:
        store = InfluxTelemetryStore(influx_url, influx_db, influx_token, timeout_s)
        store.ensure_database()
        return store
    return SqliteTelemetryStore(data_dir / "telemetry.sqlite3")
