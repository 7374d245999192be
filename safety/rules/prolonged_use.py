"""``prolonged_use``: flow has stayed at or above a band's lower edge, without a break,
for longer than that band's limit (an appliance left on). The register must back it.

Band edges ascend (the configuration checks it), so a flow below the first edge ends
every band."""

from __future__ import annotations

import numpy as np

from safety.codes import PROLONGED_USE
from safety.jit import compiled
from safety.layout import MAX_BANDS, NO_TS, Record
from safety.params import BACKING_RATIO
from safety.rules.episodes import end_episode, fire, register_flow


@compiled
def evaluate(
    s: Record,
    ts: int,
    volume: float,
    flow: float,
    bands: np.ndarray,
    band_count: int,
    p: np.ndarray,
    action: int,
    out: np.ndarray,
    count: np.ndarray,
) -> None:
    if flow < bands[0, 0]:
        for k in range(MAX_BANDS):
            s.band_ts[k] = NO_TS
        end_episode(s, PROLONGED_USE)
        return
    fired = False
    running = False
    for k in range(band_count):
        edge = bands[k, 0]
        if flow < edge:
            s.band_ts[k] = NO_TS
            continue
        running = True
        since = s.band_ts[k]
        if since == NO_TS:
            s.band_ts[k] = ts
            s.band_vol[k] = volume
            continue
        if not fired and ts - since > bands[k, 1] * 1000:
            backed = register_flow(s.band_vol[k], volume, since, ts)
            if backed >= edge * p[BACKING_RATIO]:
                held_s = (ts - since) / 1000
                fired = fire(s, PROLONGED_USE, ts, action, k, held_s, flow, 0.0, out, count)
    if not running:
        end_episode(s, PROLONGED_USE)
