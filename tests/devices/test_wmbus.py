"""Wireless M-Bus gas meters through wmbusmeters: its drivers' own test outputs (the JSON
each prints for a published telegram) become contract readings. Pure: no fixtures."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices import wmbus
from devices.errors import CodecError

# The "json" of wmbusmeters' driver tests (drivers/src/*.xmq and src/driver_*.cc), as
# wmbusmeters prints them for the telegrams in those tests; "1111-11-11T11:11:11Z" is its
# test mode's placeholder for the time received.
GWFGAS = '{"_": "telegram","status":"OK","actuality_duration_s": 94,"id": "23115250","media": "gas","driver": "gwfgas","name": "mygas1","target_date": "1999-11-30","target_m3": 0,"timestamp": "1111-11-11T11:11:11Z","total_m3": 101.886}'  # noqa: E501
AERIUS = '{"media":"gas","meter":"aerius","name":"aerius_gas","id":"99657098","total_m3":6842.784,"flow_m3h":0,"temperature_c":15.9,"target_datetime":"2022-12-31 23:59","target_m3":6260.324,"timestamp":"1111-11-11T11:11:11Z"}'  # noqa: E501
UNISMART = '{"media":"gas","meter":"unismart","name":"GasMeter","id":"00043094","fabrication_no":"03162296","status":"STATUS_FLAGS_CF0","other":"OTHER_FLAGS_14","total_date_time":"2021-09-15 13:18","total_m3":917,"target_date_time":"2021-09-01 06:00","target_m3":911.32,"version":"  4GGU","supplier_info":"00","parameter_set":"02","meter_timestamp":"2021-09-15 13:18:30","timestamp":"1111-11-11T11:11:11Z"}'  # noqa: E501
ELSTERGAS = '{"_":"telegram","media":"gas","meter":"elstergas","name":"GasMeter","id":"11223344","status":"ALARM TEMPORARY_ERROR UNKNOWN_20","timestamp":"1111-11-11T11:11:11Z"}'  # noqa: E501


def test_the_drivers_outputs_become_readings() -> None:
    placeholder = "1111-11-11T11:11:11Z"
    assert wmbus.reading_fields("23115250", json.loads(GWFGAS)) == {
        "ts": placeholder,
        "volume_m3": 101.886,
    }
    assert wmbus.reading_fields("99657098", json.loads(AERIUS)) == {
        "ts": placeholder,
        "volume_m3": 6842.784,
        "flow_m3h": 0,
        "temperature_c": 15.9,
    }
    assert wmbus.reading_fields("00043094", json.loads(UNISMART))["volume_m3"] == 917
    assert wmbus.status_flags(json.loads(GWFGAS)) == ()
    assert wmbus.status_flags(json.loads(ELSTERGAS)) == ("ALARM", "TEMPORARY_ERROR", "UNKNOWN_20")


def test_a_telegram_of_another_meter_or_without_a_volume_is_refused_with_its_code() -> None:
    cases = [
        ("00000001", GWFGAS, "id_mismatch"),  # on another meter's topic
        ("11223344", ELSTERGAS, "no_volume"),  # its driver reports the status only
        ("23115250", GWFGAS.replace('"gas"', '"water"'), "not_gas"),
    ]
    for meter_id, text, code in cases:
        with pytest.raises(CodecError) as refused:
            wmbus.reading_fields(meter_id, json.loads(text))
        assert refused.value.code == code


@given(st.dictionaries(st.text(max_size=12), st.none() | st.text(max_size=12) | st.floats()))
def test_no_object_raises_anything_but_the_codecs_error(body: dict[str, object]) -> None:
    try:
        wmbus.reading_fields("23115250", body)
    except CodecError as exc:
        assert exc.code
    wmbus.status_flags(body)
