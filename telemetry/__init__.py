"""Telemetry stores: where readings live. One interface, one implementation per backend."""

from telemetry.base import TelemetryStore
from telemetry.factory import open_store
from telemetry.influx import InfluxTelemetryStore
from telemetry.sqlite import SqliteTelemetryStore

__all__ = ["InfluxTelemetryStore", "SqliteTelemetryStore", "TelemetryStore", "open_store"]
