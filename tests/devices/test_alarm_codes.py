"""Meters' own alarm codes in gasguard's vocabulary: the profile's map over the codec's
standard codes, status bits and words as codes, and the split into contract events (for
the engine) and alarms of gasguard's rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import alarm_codes
from devices.alarm_codes import MeterAlarm
from devices.errors import CodecError, ProfileError


def test_a_profiles_codes_go_over_the_codecs_standard_ones() -> None:
    assert alarm_codes.alarm_map("cjt188", {}) == {"ST0.2": "low_battery"}
    options = {"alarm_codes": " ST1.0:micro_flow, ST1.1 : over_flow ,ST0.2:none"}
    assert alarm_codes.alarm_map("cjt188", options) == {
        "ST1.0": "micro_flow",
        "ST1.1": "over_flow",
    }
    assert alarm_codes.alarm_map("wmbus", {}) == {"POWER_LOW": "low_battery"}
    assert alarm_codes.alarm_map("onenet", {"alarm_codes": "2:micro_flow"}) == {"2": "micro_flow"}


@pytest.mark.parametrize("text", ["micro_flow", "ST1.0:", ":micro_flow", "a:b,c"])
def test_a_malformed_map_names_the_bad_part(text: str) -> None:
    with pytest.raises(ProfileError, match="is not CODE:target"):
        alarm_codes.parse(text)


def test_a_target_that_is_no_rule_or_event_is_refused() -> None:
    alarm_codes.check_targets({"1": "micro_flow", "2": "tamper"}, ["micro_flow", "tamper"])
    with pytest.raises(ProfileError, match="leaky, typo is no rule or event"):
        alarm_codes.check_targets({"1": "typo", "2": "leaky"}, ["micro_flow"])


def test_cjt188_status_bits_are_codes_but_the_valves() -> None:
    assert alarm_codes.cjt188_codes(0b01, False) == ()  # valve closed: no alarm
    assert alarm_codes.cjt188_codes(0b01, True) == ("ST0.2",)
    assert alarm_codes.cjt188_codes(0b1000_0011 | 1 << 9, False) == ("ST0.7", "ST1.1")


def test_a_status_words_set_bits_are_codes() -> None:
    assert alarm_codes.word_codes(0) == ()
    assert alarm_codes.word_codes(0b1001) == ("bit0", "bit3")
    with pytest.raises(CodecError):
        alarm_codes.word_codes(-1)


def test_codes_split_into_events_for_the_engine_and_alarms_of_rules() -> None:
    mapping = {"LEAK": "detector_alarm", "POWER_LOW": "low_battery", "OPEN": "cover_open"}
    events, alarms = alarm_codes.split("M1", 5, ["POWER_LOW", "LEAK", "ODD", "OPEN"], mapping)
    assert events == ("detector_alarm", "cover_open")
    assert alarms == (MeterAlarm("M1", 5, "low_battery", "POWER_LOW"),)


def test_a_meter_alarm_round_trips_and_a_bad_one_is_refused_with_its_code() -> None:
    alarm = MeterAlarm("M1", 1_790_000_000_000, "micro_flow", "2")
    assert alarm_codes.parse_alarm("M1", alarm.to_payload()) == alarm
    for payload, code in [
        (b"nope", "not_json"),
        (b"[]", "bad_alarm"),
        (b'{"ts": -1, "rule": "micro_flow", "code": "2"}', "bad_alarm"),
        (b'{"ts": 1, "rule": "", "code": "2"}', "bad_alarm"),
        (b'{"ts": true, "rule": "micro_flow", "code": "2"}', "bad_alarm"),
    ]:
        with pytest.raises(CodecError) as refused:
            alarm_codes.parse_alarm("M1", payload)
        assert refused.value.code == code


@given(st.binary(max_size=80))
def test_no_bytes_raise_anything_but_the_codecs_error(raw: bytes) -> None:
    try:
        alarm = alarm_codes.parse_alarm("M1", raw)
    except CodecError:
        return
    assert alarm.meter_id == "M1" and alarm.ts_ms >= 0


@given(st.text(max_size=40))
def test_no_map_text_raises_anything_but_the_profiles_error(text: str) -> None:
    try:
        mapping = alarm_codes.parse(text)
    except ProfileError:
        return
    assert all(code and target for code, target in mapping.items())
