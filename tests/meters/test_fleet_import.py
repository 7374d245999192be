"""The factory's delivery file, row by row (pure): what a row must hold, and every reason
a row is refused, by its line and field."""

from __future__ import annotations

from devices.profiles import BUILT_IN
from meters.fleet_import import check_header, luhn_ok, validate
from meters.places import Place
from safety.models import default_models

MODELS = tuple(default_models())
GOOD = {
    "meter_id": "NB0001",
    "model": "G2.5",
    "profile": "onenet",
    "imei": "868000000000001",
    "iccid": "89860000000000000001",
    "location": "天河区 体育西路 1 号",
}


def errors_of(**changes: str) -> list[str]:
    _meters, errors = validate([(2, {**GOOD, **changes})], MODELS, BUILT_IN)
    return [f"{e.field}: {e.message}" for e in errors]


def test_a_good_row_is_a_meter_with_its_identity() -> None:
    (meter,), errors = validate([(2, GOOD)], MODELS, BUILT_IN)
    assert errors == []
    assert (meter.line, meter.profile.meter_id, meter.profile.device_profile) == (
        2,
        "NB0001",
        "onenet",
    )
    assert meter.profile.report_interval_s == 3600  # it sleeps: it reads hourly
    assert (meter.imei, meter.iccid, meter.key) == ("868000000000001", "89860000000000000001", None)
    (plain,), _ = validate(
        [(3, {"meter_id": "M1", "model": "G4", "profile": "cjt188", "address": "20260000000001"})],
        MODELS,
        BUILT_IN,
    )
    assert (plain.profile.report_interval_s, plain.address) == (60, "20260000000001")


def test_each_bad_field_is_named() -> None:
    assert errors_of(meter_id="NB/1") == ["meter_id: 'NB/1' is not 1-32 of A-Z a-z 0-9 _ -"]
    assert errors_of(model="G9")[0].startswith("model: 'G9' is not a model of the rules")
    assert errors_of(profile="modbus") == ["profile: 'modbus' is not a device profile in force"]
    assert errors_of(imei="868000000000002") == [
        "imei: '868000000000002' is not 15 digits with a valid check digit"
    ]
    assert errors_of(imei="", address="") == ["imei: an imei or an address is needed"]
    assert errors_of(profile="cjt188", imei="", address="2026") == [
        "address: '2026' is not 14 hex digits (a CJ/T 188 address)"
    ]
    assert errors_of(category="farm")[0].startswith("category: 'farm' is not one of")
    assert errors_of(report_interval_s="0")[0].startswith("report_interval_s: '0' is not")
    assert errors_of(iccid="123") == ["iccid: '123' is not 19-20 digits"]
    assert errors_of(key="abc") == ["key: the key must be 64 hex digits (32 bytes)"]
    assert errors_of(location="x" * 201) == ["location: at most 200 characters"]
    assert len(errors_of(model="G9", imei="1")) == 2  # every problem of the row, not the first


def test_a_meter_imei_or_address_twice_in_the_file_refuses_the_later_row() -> None:
    rows = [
        (2, GOOD),
        (3, {**GOOD, "meter_id": "NB0002"}),  # the same IMEI
        (4, {**GOOD, "imei": "868000000000019"}),  # the same meter id
    ]
    meters, errors = validate(rows, MODELS, BUILT_IN)
    assert [m.line for m in meters] == [2]
    assert [str(e) for e in errors] == [
        "line 3, imei: 868000000000001 is on line 2 already",
        "line 4, meter_id: NB0001 is on line 2 already",
    ]


def test_the_header_needs_the_required_columns_and_no_unknown_ones() -> None:
    assert check_header([" Meter_ID ", "model", "profile", "IMEI"]) == []
    problems = [str(e) for e in check_header(["meter_id", "modell", "profile"])]
    assert problems == [
        "line 1, model: the column is missing",
        "line 1, imei: an imei or an address column is needed",
        "line 1, modell: unknown column (known: address, building, category, district, "
        "iccid, imei, key, latitude, location, longitude, meter_id, model, pressure_zone, "
        "profile, report_interval_s, street)",
    ]


def test_the_imei_check_digit_is_luhns() -> None:
    assert luhn_ok("868000000000001") and luhn_ok("490154203237518")
    assert not luhn_ok("490154203237519")


def test_where_a_meter_is_comes_with_it_and_bad_places_are_named() -> None:
    where = {
        "district": "天河区",
        "street": "体育西路",
        "building": "1 号楼",
        "latitude": "23.1372",
        "longitude": "113.3214",
        "pressure_zone": "RS-07",
    }
    (meter,), errors = validate([(2, {**GOOD, **where})], MODELS, BUILT_IN)
    assert errors == []
    assert meter.place == Place("天河区", "体育西路", "1 号楼", 23.1372, 113.3214, "RS-07")
    assert errors_of(latitude="95") == ["latitude: '95' is not a number of degrees from -90 to 90"]
    assert errors_of(latitude="23.1") == ["latitude: latitude and longitude come together"]
    assert errors_of(district="区" * 65) == ["district: at most 64 characters"]
    assert errors_of(longitude="east", latitude="23") == [
        "longitude: 'east' is not a number of degrees from -180 to 180",
        "latitude: latitude and longitude come together",
    ]
    assert check_header([*GOOD, *where]) == []  # the place's columns are known
