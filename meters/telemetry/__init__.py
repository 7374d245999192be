"""Telemetry stores: where readings live. One interface, one implementation per backend."""

from meters.telemetry.base import TelemetryStore
from meters.telemetry.factory import open_store
from meters.telemetry.influx import InfluxTelemetryStore
from meters.telemetry.sqlite import SqliteTelemetryStore

__all__ = ["InfluxTelemetryStore", "SqliteTelemetryStore", "TelemetryStore", "open_store"]
