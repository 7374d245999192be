"""Mutable per-meter rule state: one slotted object per meter.

Issue 4's fleet-scale budget (at most 300 bytes of rule state per meter) will need a
packed layout (arrays indexed by meter); this object keeps the fields that layout needs.
"""

from __future__ import annotations


class MeterState:
    """What the engine remembers of one meter between readings.

    ``last_*``: the newest reading accepted in order. ``*_since_*``: where the current
    episode of a continuity rule started (event time and register). ``open_rules``: the
    rules whose episode has fired and not yet ended, so that one episode fires once.
    """

    __slots__ = (
        "closed_since_volume_m3",
        "first_ts_ms",
        "future_streak",
        "last_gap_ts_ms",
        "last_seen_ms",
        "last_ts_ms",
        "last_volume_m3",
        "micro_since_ts_ms",
        "micro_since_volume_m3",
        "open_rules",
        "over_since_ts_ms",
        "over_since_volume_m3",
        "pressure_high_since_ms",
        "pressure_low_since_ms",
        "prolonged_since",
        "recent_flows",
        "reopened_since",
        "sudden_candidate",
        "valve",
        "zero_run_start_ms",
    )

    def __init__(self) -> None:
        self.first_ts_ms: int | None = None
        self.future_streak: list[int] = []  # timestamps of consecutive readings far ahead
        self.last_ts_ms: int | None = None
        self.last_volume_m3: float | None = None
        self.last_seen_ms: int | None = None
        self.valve: str | None = None
        self.over_since_ts_ms: int | None = None
        self.over_since_volume_m3: float = 0.0
        self.micro_since_ts_ms: int | None = None
        self.micro_since_volume_m3: float = 0.0
        self.recent_flows: list[tuple[int, float]] = []
        self.sudden_candidate: tuple[int, float, float] | None = None  # ts, base flow, volume
        self.prolonged_since: list[tuple[int, float] | None] = []  # per band: ts, volume
        self.zero_run_start_ms: int | None = None
        self.last_gap_ts_ms: int | None = None
        self.pressure_low_since_ms: int | None = None
        self.pressure_high_since_ms: int | None = None
        self.closed_since_volume_m3: float | None = None
        self.reopened_since: tuple[int, float | None] | None = None  # ts, register then
        self.open_rules = 0  # bit mask, one bit per rule (safety.rules.episodes.RULE_BITS)

    def reset_continuity(self) -> None:
        """Forget every running episode start (after a gap or a register reset)."""
        self.over_since_ts_ms = None
        self.micro_since_ts_ms = None
        self.recent_flows = []
        self.sudden_candidate = None
        self.prolonged_since = []
        self.pressure_low_since_ms = None
        self.pressure_high_since_ms = None
        self.closed_since_volume_m3 = None
