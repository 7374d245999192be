"""What the API needs from the rest of gasguard, built once at start-up and passed in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry

from meters.clock import wall_clock_ms
from meters.registry import Registry
from meters.telemetry.base import TelemetryStore


@dataclass(frozen=True, slots=True)
class ApiContext:
    registry: Registry
    store: TelemetryStore
    metrics: CollectorRegistry = field(default_factory=CollectorRegistry)
    clock: Callable[[], int] = wall_clock_ms
    max_range_days: int = 31
    max_readings: int = 10_000
