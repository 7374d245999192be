from __future__ import annotations

import pytest

from contract.thresholds import (
    ThresholdError,
    Thresholds,
    differences,
    parse_thresholds,
)


def test_thresholds_parse_to_their_units_and_canonical_form() -> None:
    parsed = parse_thresholds({"micro_flow_m3h": 0.02, "micro_flow_min": 240.0, "over_flow_m3h": 6})
    assert parsed == Thresholds(micro_flow_m3h=0.02, micro_flow_min=240, over_flow_m3h=6.0)
    assert parsed.canonical() == '{"micro_flow_m3h":0.02,"micro_flow_min":240,"over_flow_m3h":6.0}'
    assert parse_thresholds({"pressure_low_kpa": None}).empty


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"leak_m3h": 1}, "leak_m3h"),  # not a threshold
        ({"micro_flow_m3h": "0.02"}, "micro_flow_m3h"),  # a string
        ({"micro_flow_m3h": True}, "micro_flow_m3h"),
        ({"over_flow_m3h": float("nan")}, "over_flow_m3h"),
        ({"micro_flow_m3h": 5.0}, "micro_flow_m3h"),  # no micro-flow is 5 m³/h
        ({"prolonged_use_min": 90.5}, "prolonged_use_min"),  # whole minutes
        ({"pressure_low_kpa": 3.0, "pressure_high_kpa": 2.0}, "pressure_low_kpa"),
    ],
)
def test_a_threshold_that_cannot_be_a_meters_names_its_field(values: dict, field: str) -> None:
    with pytest.raises(ThresholdError) as raised:
        parse_thresholds(values)
    assert raised.value.field == field and field in str(raised.value)


def test_a_meters_own_threshold_overrides_its_profiles_and_differences_name_the_rest() -> None:
    profile = Thresholds(micro_flow_m3h=0.02, over_flow_m3h=6.0)
    configured = profile.over(Thresholds(over_flow_m3h=4.0, pressure_low_kpa=1.2))
    assert configured == Thresholds(micro_flow_m3h=0.02, over_flow_m3h=4.0, pressure_low_kpa=1.2)
    assert differences(configured, None) == ("micro_flow_m3h", "over_flow_m3h", "pressure_low_kpa")
    held = Thresholds(micro_flow_m3h=0.02, over_flow_m3h=6.0, prolonged_use_min=300)
    assert differences(configured, held) == ("over_flow_m3h", "pressure_low_kpa")
    assert differences(profile, held) == ()  # one the meter holds beyond them is no difference
