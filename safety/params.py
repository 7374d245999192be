"""``RulesConfig`` compiled into the numbers the kernel reads: one float array of scalar
thresholds (indexed by the constants below), action codes per rule, model limits per model
code, and prolonged-use bands per category."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from safety.codes import ACTION_CODE, CATEGORIES, RULE_CODE, RULE_IDS
from safety.config import RulesConfig, model_limits
from safety.layout import MAX_BANDS

# indexes into Params.scalars
OVER_HOLD_MS = 0
MICRO_FLOOR = 1
MICRO_CEILING = 2
MICRO_HOLD_MS = 3
SUDDEN_WINDOW_MS = 4
GAP_MS = 5
PERIOD_MS = 6
ZERO_BELOW = 7
PRESSURE_LOW_KPA = 8
PRESSURE_HIGH_KPA = 9
PRESSURE_HOLD_MS = 10
MIN_ADVANCE = 11
REOPEN_WATCH_MS = 12
REOPEN_MAX_FLOW = 13
BATTERY_BELOW = 14
BATTERY_REARM = 15
OFFLINE_INTERVALS = 16
BACKING_RATIO = 17
MAX_GAP_INTERVALS = 18
MAX_AHEAD_MS = 19
CLOCK_SHIFT_READINGS = 20
SCALARS = 21


@dataclass(frozen=True)
class Params:
    scalars: np.ndarray  # float64[SCALARS]
    actions: np.ndarray  # uint8[rule code]: the action of each rule
    micro_actions: np.ndarray  # uint8[category code]
    bands: np.ndarray  # float64[category, MAX_BANDS, 2]: edge m³/h, limit s
    band_counts: np.ndarray  # int64[category]
    quorum: int

    def tables(self, models: np.ndarray) -> Tables:
        return Tables(
            models, self.scalars, self.actions, self.micro_actions, self.bands, self.band_counts
        )


class Tables(NamedTuple):
    """Everything the kernel reads of the configuration, in one argument."""

    models: np.ndarray  # float64[model code, 2]: over-flow limit, sudden step (model_table)
    p: np.ndarray  # Params.scalars
    actions: np.ndarray
    micro_actions: np.ndarray
    bands: np.ndarray
    band_counts: np.ndarray


def scalars(config: RulesConfig) -> np.ndarray:
    values = {
        OVER_HOLD_MS: config.over_flow.hold_s * 1000,
        MICRO_FLOOR: config.micro_flow.floor_m3h,
        MICRO_CEILING: config.micro_flow.ceiling_m3h,
        MICRO_HOLD_MS: config.micro_flow.hold_s * 1000,
        SUDDEN_WINDOW_MS: config.sudden_increase.window_s * 1000,
        GAP_MS: config.no_flow_gap.gap_s * 1000,
        PERIOD_MS: config.no_flow_gap.period_s * 1000,
        ZERO_BELOW: config.no_flow_gap.zero_below_m3h,
        PRESSURE_LOW_KPA: config.pressure.low_kpa,
        PRESSURE_HIGH_KPA: config.pressure.high_kpa,
        PRESSURE_HOLD_MS: config.pressure.hold_s * 1000,
        MIN_ADVANCE: config.flow_while_closed.min_advance_m3,
        REOPEN_WATCH_MS: config.reopen_watch.watch_s * 1000,
        REOPEN_MAX_FLOW: config.reopen_watch.max_flow_m3h,
        BATTERY_BELOW: config.low_battery.below_pct,
        BATTERY_REARM: config.low_battery.rearm_at_pct,
        OFFLINE_INTERVALS: config.offline.intervals,
        BACKING_RATIO: config.data_quality.register_backing_ratio,
        MAX_GAP_INTERVALS: config.data_quality.max_gap_intervals,
        MAX_AHEAD_MS: config.data_quality.max_ahead_s * 1000,
        CLOCK_SHIFT_READINGS: config.data_quality.clock_shift_readings,
    }
    array = np.zeros(SCALARS, dtype=np.float64)
    for index, value in values.items():
        array[index] = value
    return array


def rule_actions(config: RulesConfig) -> np.ndarray:
    chosen = {
        "over_flow": config.over_flow.action,
        "micro_flow": "shutoff",  # per category: micro_actions
        "leak_detector": config.leak_detector.action,
        "sudden_increase": config.sudden_increase.action,
        "prolonged_use": config.prolonged_use.action,
        "no_flow_gap": config.no_flow_gap.action,
        "pressure_low": config.pressure.action,
        "pressure_high": config.pressure.action,
        "flow_while_closed": config.flow_while_closed.action,
        "seismic": config.events.seismic_action,
        "tamper": config.events.tamper_action,
        "low_battery": config.low_battery.action,
        "offline": config.offline.action,
        "reopen_flow": config.reopen_watch.action,
    }
    actions = np.zeros(len(RULE_IDS), dtype=np.uint8)
    for rule, action in chosen.items():
        actions[RULE_CODE[rule]] = ACTION_CODE[action]
    return actions


def compile_params(config: RulesConfig) -> Params:
    bands = np.zeros((len(CATEGORIES), MAX_BANDS, 2), dtype=np.float64)
    counts = np.zeros(len(CATEGORIES), dtype=np.int64)
    micro = np.zeros(len(CATEGORIES), dtype=np.uint8)
    for code, category in enumerate(CATEGORIES):
        table = getattr(config.prolonged_use, category)
        counts[code] = len(table)
        bands[code, : len(table)] = table
        micro[code] = ACTION_CODE[config.micro_flow.action.get(category, "shutoff")]
    return Params(
        scalars=scalars(config),
        actions=rule_actions(config),
        micro_actions=micro,
        bands=bands,
        band_counts=counts,
        quorum=max(1, config.offline.watermark_quorum),
    )


def model_table(config: RulesConfig, models: list[str]) -> np.ndarray:
    """float64[model code, 2]: over-flow limit and sudden step of each model seen so far."""
    table = np.zeros((max(1, len(models)), 2), dtype=np.float64)
    for code, model in enumerate(models):
        limits = model_limits(config, model)
        table[code] = (limits.over_flow_m3h, limits.sudden_step_m3h)
    return table
