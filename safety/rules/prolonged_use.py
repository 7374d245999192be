"""``prolonged_use``: flow has stayed at or above a band's lower edge, without a break,
for longer than that band's limit (an appliance left on). The register must back it.

Band edges ascend (the configuration checks it), so a flow below the first edge ends
every band. The bands are per category (``Tables.bands``, ``Tables.band_counts``).

State: ``band_ts``/``band_vol``, where the current run at or above each band's edge
started (time, register), one per band.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from contract.decisions import Action
from contract.profiles import CATEGORIES
from safety.errors import ConfigError
from safety.jit import compiled
from safety.layout import NO_TS, Record, time_field, volume_field
from safety.rule import Rule, RuleUnit
from safety.rules.episodes import end_episode, fire, register_flow

PROLONGED_USE = 4
MAX_BANDS = 4  # bands per category: the packed state has room for four


def _bands(limit_s: float) -> list[list[float]]:
    return [[0.03, limit_s], [0.4, limit_s], [1.0, limit_s], [2.0, limit_s]]


@dataclass(frozen=True, slots=True)
class ProlongedUseConfig:
    """Bands as [lower edge m³/h, limit s]; flow at or above an edge, without a break,
    for longer than its limit."""

    residential: list[list[float]] = field(
        default_factory=lambda: [[0.03, 12 * 3600], [0.4, 4 * 3600], [1.0, 90 * 60], [2.0, 60 * 60]]
    )
    commercial: list[list[float]] = field(default_factory=lambda: _bands(16 * 3600))
    industrial: list[list[float]] = field(default_factory=lambda: _bands(16 * 3600))
    action: Action = "shutoff"

    def __post_init__(self) -> None:
        for category in ("residential", "commercial", "industrial"):
            check_bands(getattr(self, category), f"prolonged_use.{category}")


def check_bands(bands: list[list[float]], where: str) -> None:
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


@compiled
def step(s: Record, r: Record, t: Any, out: np.ndarray, count: np.ndarray) -> None:
    bands = t.bands[s.category]
    if r.flow < bands[0, 0]:
        for k in range(MAX_BANDS):
            s.band_ts[k] = NO_TS
        end_episode(s, PROLONGED_USE)
        return
    fired = False
    running = False
    for k in range(t.band_counts[s.category]):
        edge = bands[k, 0]
        if r.flow < edge:
            s.band_ts[k] = NO_TS
            continue
        running = True
        since = s.band_ts[k]
        if since == NO_TS:
            s.band_ts[k] = r.ts
            s.band_vol[k] = r.volume
            continue
        if not fired and r.ts - since > bands[k, 1] * 1000:
            backed = register_flow(s.band_vol[k], r.volume, since, r.ts)
            if backed >= edge * t.p.backing_ratio:
                held_s = (r.ts - since) / 1000
                action = t.actions[s.category, PROLONGED_USE]
                numbers = (float(k), held_s, r.flow)
                fired = fire(s, PROLONGED_USE, r.ts, action, numbers, out, count)
    if not running:
        end_episode(s, PROLONGED_USE)


@compiled
def on_new_baseline(s: Record, r: Record, t: Any) -> None:
    for k in range(MAX_BANDS):
        s.band_ts[k] = NO_TS


def band_tables(config: ProlongedUseConfig) -> tuple[np.ndarray, np.ndarray]:
    """The bands as the kernel reads them (``Tables.bands``, ``Tables.band_counts``):
    float64[category code, MAX_BANDS, (edge m³/h, limit s)] and how many each has."""
    bands = np.zeros((len(CATEGORIES), MAX_BANDS, 2), dtype=np.float64)
    counts = np.zeros(len(CATEGORIES), dtype=np.int64)
    for code, category in enumerate(CATEGORIES):
        table = getattr(config, category)
        counts[code] = len(table)
        bands[code, : len(table)] = table
    return bands, counts


def _detail(x: Sequence[float], config: ProlongedUseConfig, category: str) -> dict[str, Any]:
    edge, limit_s = getattr(config, category)[int(x[0])]
    return {"band_m3h": edge, "limit_s": limit_s, "held_s": x[1], "flow_m3h": x[2]}


SECTION = "prolonged_use"
UNIT = RuleUnit(
    name="prolonged_use",
    rules=(Rule("prolonged_use", PROLONGED_USE, SECTION, lambda c: c.action, 3, _detail),),
    sections={SECTION: ProlongedUseConfig},
    state=(
        time_field("band_ts", (MAX_BANDS,), per_category=True),
        volume_field("band_vol", (MAX_BANDS,)),
    ),
    step=step,
    on_new_baseline=on_new_baseline,
)
