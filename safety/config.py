"""Rule thresholds. Defaults are DESIGN.md's table; every number can be overridden by TOML.

A TOML file mirrors the dataclass fields, for example::

    [over_flow]
    hold_s = 90

    [models.G4]
    over_flow_m3h = 7.3
    sudden_step_m3h = 5.6

    [micro_flow]
    action = { residential = "shutoff", commercial = "alarm", industrial = "shutoff" }
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.decisions import Action
from contract.profiles import DEFAULT_MODEL
from safety.errors import ConfigError

MAX_BANDS = 4  # prolonged-use bands per category (the packed state has room for four)
MAX_WINDOW_S = 86_400  # sudden-increase window (its flows' ages are kept in int32 ms)


@dataclass(frozen=True, slots=True)
class ModelLimits:
    """Flow limits of one nominal meter size (G-size), m³/h."""

    over_flow_m3h: float
    sudden_step_m3h: float


def _default_models() -> dict[str, ModelLimits]:
    table = {
        "G1.6": (2.9, 2.3),
        "G2.5": (4.5, 3.6),
        "G4": (7.3, 5.6),
        "G6": (10.9, 8.4),
        "G10": (18.0, 14.0),
        "G16": (29.0, 23.0),
        "G25": (45.0, 36.0),
    }
    return {name: ModelLimits(*limits) for name, limits in table.items()}


@dataclass(frozen=True, slots=True)
class OverFlowConfig:
    hold_s: int = 60
    action: Action = "shutoff"


@dataclass(frozen=True, slots=True)
class MicroFlowConfig:
    floor_m3h: float = 0.005
    ceiling_m3h: float = 0.03
    hold_s: int = 4 * 3600
    action: dict[str, Action] = field(
        default_factory=lambda: {
            "residential": "shutoff",
            "commercial": "alarm",
            "industrial": "shutoff",
        }
    )


@dataclass(frozen=True, slots=True)
class LeakDetectorConfig:
    action: Action = "shutoff"


@dataclass(frozen=True, slots=True)
class SuddenIncreaseConfig:
    """Flow rises by at least the model's step within ``window_s``; confirmed by the next
    reading and the register, so a single spiking sample never shuts a valve."""

    window_s: int = 60
    action: Action = "shutoff"

    def __post_init__(self) -> None:
        if not 0 < self.window_s <= MAX_WINDOW_S:
            raise ConfigError(
                f"sudden_increase.window_s: 1 to {MAX_WINDOW_S} s, got {self.window_s}"
            )


@dataclass(frozen=True, slots=True)
class ProlongedUseConfig:
    """Bands as [lower edge m³/h, limit s]; flow at or above an edge, without a break,
    for longer than its limit."""

    residential: list[list[float]] = field(
        default_factory=lambda: [[0.03, 12 * 3600], [0.4, 4 * 3600], [1.0, 90 * 60], [2.0, 60 * 60]]
    )
    commercial: list[list[float]] = field(
        default_factory=lambda: [
            [0.03, 16 * 3600],
            [0.4, 16 * 3600],
            [1.0, 16 * 3600],
            [2.0, 16 * 3600],
        ]
    )
    industrial: list[list[float]] = field(
        default_factory=lambda: [
            [0.03, 16 * 3600],
            [0.4, 16 * 3600],
            [1.0, 16 * 3600],
            [2.0, 16 * 3600],
        ]
    )
    action: Action = "shutoff"

    def __post_init__(self) -> None:
        for category in ("residential", "commercial", "industrial"):
            _check_bands(getattr(self, category), f"prolonged_use.{category}")


def _check_bands(bands: list[list[float]], where: str) -> None:
    """Bands are [edge m³/h, limit s] pairs of positive numbers, edges ascending (the
    rule relies on the first edge being the lowest)."""
    if len(bands) > MAX_BANDS:
        raise ConfigError(f"{where}: at most {MAX_BANDS} bands, got {len(bands)}")
    edges = []
    for band in bands:
        if (
            not isinstance(band, list)
            or len(band) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in band)
            or min(band) <= 0
        ):
            raise ConfigError(f"{where}: each band is [edge_m3h, limit_s] > 0, got {band!r}")
        edges.append(band[0])
    if not edges or edges != sorted(set(edges)):
        raise ConfigError(f"{where}: band edges must be strictly ascending, got {edges}")


@dataclass(frozen=True, slots=True)
class NoFlowGapConfig:
    """No window of at least ``gap_s`` without flow (below ``zero_below_m3h``) in ``period_s``."""

    gap_s: int = 3600
    period_s: int = 30 * 86_400
    zero_below_m3h: float = 0.005
    action: Action = "alarm"


@dataclass(frozen=True, slots=True)
class PressureConfig:
    low_kpa: float = 0.8
    high_kpa: float = 3.5
    hold_s: int = 60
    action: Action = "shutoff"


@dataclass(frozen=True, slots=True)
class FlowWhileClosedConfig:
    min_advance_m3: float = 0.005
    action: Action = "alarm"


@dataclass(frozen=True, slots=True)
class EventRulesConfig:
    seismic_action: Action = "shutoff"
    tamper_action: Action = "alarm"


@dataclass(frozen=True, slots=True)
class ReopenWatchConfig:
    """After a closed valve reopens: a flow of at least ``max_flow_m3h`` within
    ``watch_s`` (an appliance left open) closes it again."""

    watch_s: int = 120
    max_flow_m3h: float = 0.15
    action: Action = "shutoff"


@dataclass(frozen=True, slots=True)
class LowBatteryConfig:
    below_pct: float = 20.0
    rearm_at_pct: float = 25.0
    action: Action = "alarm"


@dataclass(frozen=True, slots=True)
class OfflineConfig:
    """Silence for ``intervals`` report intervals, against the fleet's event-time watermark:
    the ``watermark_quorum``-th newest meter clock, so a few meters with clocks running
    ahead cannot move it (and raise mass offline alarms)."""

    intervals: float = 10.0
    watermark_quorum: int = 3
    action: Action = "alarm"


@dataclass(frozen=True, slots=True)
class DataQualityConfig:
    """Guards that keep bad data from causing a shutoff on its own.

    ``register_backing_ratio``: a flow rule fires only when the volume register advanced
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


@dataclass(frozen=True, slots=True)
class RulesConfig:
    models: dict[str, ModelLimits] = field(default_factory=_default_models)
    over_flow: OverFlowConfig = field(default_factory=OverFlowConfig)
    micro_flow: MicroFlowConfig = field(default_factory=MicroFlowConfig)
    leak_detector: LeakDetectorConfig = field(default_factory=LeakDetectorConfig)
    sudden_increase: SuddenIncreaseConfig = field(default_factory=SuddenIncreaseConfig)
    prolonged_use: ProlongedUseConfig = field(default_factory=ProlongedUseConfig)
    no_flow_gap: NoFlowGapConfig = field(default_factory=NoFlowGapConfig)
    pressure: PressureConfig = field(default_factory=PressureConfig)
    flow_while_closed: FlowWhileClosedConfig = field(default_factory=FlowWhileClosedConfig)
    events: EventRulesConfig = field(default_factory=EventRulesConfig)
    low_battery: LowBatteryConfig = field(default_factory=LowBatteryConfig)
    reopen_watch: ReopenWatchConfig = field(default_factory=ReopenWatchConfig)
    offline: OfflineConfig = field(default_factory=OfflineConfig)
    data_quality: DataQualityConfig = field(default_factory=DataQualityConfig)

    @classmethod
    def from_toml(cls, path: Path) -> RulesConfig:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read rules config {path}: {exc}") from exc
        return cls.from_mapping(raw)

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> RulesConfig:
        base = cls()
        models = dict(base.models)
        for name, limits in raw.pop("models", {}).items():
            models[name] = _merge(models.get(name, models[DEFAULT_MODEL]), limits, f"models.{name}")
        sections = {
            f.name: _merge(getattr(base, f.name), raw.pop(f.name, {}), f.name)
            for f in dataclasses.fields(cls)
            if f.name != "models"
        }
        if raw:
            raise ConfigError(f"unknown rules config section(s): {', '.join(sorted(raw))}")
        return cls(models=models, **sections)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _merge(current: Any, overrides: Any, where: str) -> Any:
    if not isinstance(overrides, dict):
        raise ConfigError(f"{where}: expected a table, got {overrides!r}")
    known = {f.name: f for f in dataclasses.fields(current)}
    for key, value in overrides.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown key {key!r}")
        expected = type(getattr(current, key))
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            overrides[key] = float(value)
        elif not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise ConfigError(f"{where}.{key}: expected {expected.__name__}, got {value!r}")
    return dataclasses.replace(current, **overrides)


def model_limits(config: RulesConfig, model: str) -> ModelLimits:
    """The limits of ``model``; an unknown model gets the G2.5 limits (DESIGN.md)."""
    return config.models.get(model, config.models[DEFAULT_MODEL])
