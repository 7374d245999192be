"""The wall clock, for the adapters that stamp arrival or command times (never the safety
core, which runs in event time). Passed in as a callable so tests can replace it."""

from __future__ import annotations

import time


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000
