"""Mutable per-meter rule state, kept small: one slotted object per meter."""

from __future__ import annotations


class MeterState:
    """What the engine remembers of one meter between readings.

    ``last_*``: the newest reading accepted in order. ``*_since_*``: where the current
    episode of a continuity rule started (event time and register). ``open_rules``: the
    rules whose episode has fired and not yet ended, so that one episode fires once.
    """

    __slots__ = (
        "last_ts_ms",
        "last_volume_m3",
        "micro_since_ts_ms",
        "micro_since_volume_m3",
        "open_rules",
        "over_since_ts_ms",
        "over_since_volume_m3",
        "valve",
    )

    def __init__(self) -> None:
        self.last_ts_ms: int | None = None
        self.last_volume_m3: float | None = None
        self.valve: str | None = None
        self.over_since_ts_ms: int | None = None
        self.over_since_volume_m3: float = 0.0
        self.micro_since_ts_ms: int | None = None
        self.micro_since_volume_m3: float = 0.0
        self.open_rules: set[str] = set()

    def reset_continuity(self) -> None:
        """Forget every running episode start (after a gap or a register reset)."""
        self.over_since_ts_ms = None
        self.micro_since_ts_ms = None
