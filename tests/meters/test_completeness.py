"""Data completeness (抄表率), pure."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from meters.completeness import MeterExpectation, expected_readings, fleet_completeness

T0 = 1_772_409_600_000
HOUR = 3_600_000


def test_a_meter_is_expected_once_per_interval_from_when_it_joined() -> None:
    hourly = MeterExpectation("H", 3600, T0)
    assert expected_readings(hourly, T0, T0 + 24 * HOUR) == 24
    assert expected_readings(hourly, T0 - 5 * HOUR, T0 + 2 * HOUR) == 2  # joined at T0
    assert expected_readings(hourly, T0 + HOUR, T0 + HOUR) == 0
    assert expected_readings(MeterExpectation("L", 3600, T0 + 9 * HOUR), T0, T0 + HOUR) == 0


def test_the_fleet_share_and_the_meters_below_it() -> None:
    meters = [
        MeterExpectation("FULL", 3600, T0),
        MeterExpectation("HALF", 3600, T0),
        MeterExpectation("NONE", 3600, T0),
        MeterExpectation("MORE", 3600, T0),  # resends beyond expected do not lift the fleet
    ]
    received = {"FULL": 24, "HALF": 12, "MORE": 30}
    fleet = fleet_completeness(meters, received, T0, T0 + 24 * HOUR, 0.9)
    assert (fleet.meters, fleet.expected, fleet.received, fleet.complete) == (4, 96, 60, 2)
    assert fleet.share == 60 / 96
    assert [(r.meter_id, r.share) for r in fleet.below] == [("NONE", 0.0), ("HALF", 0.5)]


@given(
    st.lists(st.tuples(st.integers(60, 86_400), st.integers(0, 500)), min_size=1, max_size=20),
    st.floats(0.01, 1.0),
)
def test_shares_stay_between_zero_and_one(rows: list[tuple[int, int]], min_share: float) -> None:
    meters = [MeterExpectation(f"M{i}", interval, T0) for i, (interval, _n) in enumerate(rows)]
    received = {f"M{i}": n for i, (_interval, n) in enumerate(rows)}
    fleet = fleet_completeness(meters, received, T0, T0 + 24 * HOUR, min_share)
    assert 0.0 <= fleet.share <= 1.0
    assert fleet.complete + len(fleet.below) == fleet.meters
    assert all(r.share < min_share for r in fleet.below)
