"""Data-quality guards: what keeps bad data from causing a shutoff on its own. They run in
the kernel before any rule sees a reading; their configuration is ``[data_quality]``.

A reading older than or as old as the newest one accepted (out of order, duplicate) is
ignored; a register that went backwards (meter replaced, counter reset) or a gap longer
than ``max_gap_intervals`` report intervals starts a new baseline (``breaks_continuity``);
a reading far ahead of the fleet is held back until a few agree (``held_back``). Flow
rules read ``backing_ratio``: the register must back a flow before it fires.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from safety.errors import ConfigError
from safety.jit import compiled
from safety.layout import NO_TS, Record
from safety.rule import Param
from safety.watermark import TOP_N, VALUE

SECTION = "data_quality"


@dataclass(frozen=True, slots=True)
class DataQualityConfig:
    """``register_backing_ratio``: a flow rule fires only when the volume register advanced
    at least this share of what the reported flow claims over the episode, so a single
    spiking sample cannot shut a valve. ``max_gap_intervals``: a silence longer than this
    many report intervals breaks a continuity episode (nobody knows what flowed meanwhile).
    ``max_ahead_s``: a reading further than this ahead of the fleet watermark is held back
    (it would make the meter's later, true readings look out of order), unless
    ``clock_shift_readings`` consecutive readings agree: then the meter's clock moved.
    """

    register_backing_ratio: float = 0.9
    max_gap_intervals: float = 3.0
    max_ahead_s: int = 900
    clock_shift_readings: int = 3

    def __post_init__(self) -> None:
        if not 1 <= self.clock_shift_readings <= 255:
            raise ConfigError(
                f"data_quality.clock_shift_readings: 1 to 255, got {self.clock_shift_readings}"
            )


PARAMS = (
    Param("backing_ratio", SECTION, lambda c: c.register_backing_ratio),
    Param("max_gap_intervals", SECTION, lambda c: c.max_gap_intervals),
    Param("max_ahead_ms", SECTION, lambda c: c.max_ahead_s * 1000),
    Param("clock_shift_readings", SECTION, lambda c: c.clock_shift_readings),
)


@compiled
def breaks_continuity(s: Record, ts: int, volume: float, p: Record) -> bool:
    if s.last_ts == NO_TS or np.isnan(s.last_vol) or volume < s.last_vol:
        return True
    return ts - s.last_ts > s.interval * 1000 * p.max_gap_intervals


@compiled
def held_back(s: Record, ts: int, meta: np.ndarray, quorum: int, p: Record) -> bool:
    """A reading far ahead of the fleet is held back, unless the meter's last few readings
    agree (its clock really moved): one bad timestamp must not blind it."""
    watermark = meta[VALUE]
    if meta[TOP_N] < quorum or watermark == NO_TS:
        return False
    if ts <= watermark + p.max_ahead_ms:
        s.streak_n = 0
        return False
    gap_ms = p.max_gap_intervals * s.interval * 1000
    if s.last_ts != NO_TS and 0 < ts - s.last_ts <= gap_ms:
        s.streak_n = 0  # continuous with the meter's own accepted timeline
        return False
    if s.streak_n > 0 and not 0 < ts - s.streak_ts <= gap_ms:
        s.streak_n = 0
    s.streak_n += 1
    s.streak_ts = ts
    if s.streak_n < p.clock_shift_readings:
        return True
    s.streak_n = 0
    return False
