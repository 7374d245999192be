"""The fleet state's memory budget: a city of 1,000,000 meters in at most 300 MB of rule
state (issue 4). The benchmark measures it on a real fleet; this guards the layout."""

from __future__ import annotations

import numpy as np

from safety.engine import SafetyEngine
from safety.layout import NO_TS
from safety.rulebook import STATE, blank_states

BUDGET_BYTES_PER_METER = 300


def test_a_reserved_fleet_of_a_million_fits_the_budget() -> None:
    engine = SafetyEngine()
    engine.reserve(1_000_000)
    assert engine.state_bytes() / 1_000_000 <= BUDGET_BYTES_PER_METER
    assert STATE.itemsize + 32 < BUDGET_BYTES_PER_METER  # record + id, before the table


def test_a_blank_record_has_nothing_set() -> None:
    record = blank_states(1)[0]
    assert record["last_ts"] == NO_TS and record["band_ts"].tolist() == [NO_TS] * 4
    assert np.isnan(record["last_vol"]) and np.isnan(record["closed_vol"])
    assert record["open_rules"] == 0 and record["interval"] == 60
