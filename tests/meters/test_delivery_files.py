"""A factory's delivery file into the registry, on SQLite and PostgreSQL: CSV and Excel,
all or nothing, twice is once, a dry run changes nothing, each meter audited."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from devices.profiles import BUILT_IN
from meters.delivery_files import DeliveryFileError, import_delivery, read_rows
from meters.lifecycle import LifecycleStep
from meters.registry import Registry
from meters.views import Actor, ImportReport
from safety.models import default_models

T0 = 1_790_000_000_000
SAM = Actor("sam", "supervisor", "test")
MODELS = tuple(default_models())
CSV = (
    "meter_id,model,profile,imei,address,location\n"
    "NB0001,G2.5,onenet,868000000000001,,天河区 1 号\n"
    "CJ0001,G4,cjt188,,20260000000001,天河区 2 号\n"
).encode()


def run(
    registry: Registry, content: bytes, name: str = "delivery.csv", dry_run: bool = False
) -> ImportReport:
    return import_delivery(registry.meters, content, name, MODELS, BUILT_IN, SAM, T0, dry_run)


def test_a_file_imports_its_meters_in_stock_once_and_twice_changes_nothing(
    registry: Registry,
) -> None:
    dry = run(registry, CSV, dry_run=True)
    assert (dry.created, dry.errors, dry.dry_run) == (("NB0001", "CJ0001"), (), True)
    assert registry.meters.find() == []  # a dry run writes nothing
    first = run(registry, CSV)
    assert first.created == ("NB0001", "CJ0001") and first.unchanged == ()
    nb = registry.meters.get("NB0001")
    assert (nb.device_profile, nb.imei, nb.location, nb.report_interval_s) == (
        "onenet",
        "868000000000001",
        "天河区 1 号",
        3600,
    )
    assert registry.meters.get("CJ0001").network_address == "20260000000001"
    assert registry.commands.meter_keys(["NB0001"])["NB0001"]  # a key made for it
    again = run(registry, CSV)
    assert (again.created, again.unchanged) == ((), ("NB0001", "CJ0001"))
    imports = [e for e in registry.audit.entries() if e.action == "meter.import"]
    assert sorted(e.target for e in imports) == ["meter:CJ0001", "meter:NB0001"]  # once each


def test_a_row_that_contradicts_the_registry_refuses_the_whole_file(registry: Registry) -> None:
    run(registry, CSV)
    changed = CSV.replace(b"G4,cjt188", b"G6,cjt188") + b"NB0002,G2.5,onenet,868000000000019,,\n"
    report = run(registry, changed)
    assert report.errors == (
        "line 3, model: meter CJ0001 is registered with 'G4', the file says 'G6'",
    )
    assert report.created == () and [m.id for m in registry.meters.find()] == ["CJ0001", "NB0001"]
    taken = b"meter_id,model,profile,imei\nNB0009,G2.5,onenet,868000000000001\n"
    assert run(registry, taken).errors == (
        "line 2, imei: 868000000000001 is meter NB0001's already",
    )


def test_bad_rows_name_their_line_and_field_and_nothing_is_imported(registry: Registry) -> None:
    bad = CSV + b"NB0003,G2.5,onenet,12345,,\n"
    report = run(registry, bad)
    assert report.errors == ("line 4, imei: '12345' is not 15 digits with a valid check digit",)
    assert registry.meters.find() == []


def test_excel_with_numbers_where_text_was_meant_and_semicolon_csv() -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["meter_id", "model", "profile", "imei"])
    sheet.append(["NB0001", "G2.5", "onenet", 868000000000001])  # typed as a number
    sheet.append([None, None, None, None])  # an empty row is skipped
    out = io.BytesIO()
    book.save(out)
    header, rows = read_rows(out.getvalue(), "delivery.xlsx")
    assert header == ["meter_id", "model", "profile", "imei"]
    assert rows == [
        (2, {"meter_id": "NB0001", "model": "G2.5", "profile": "onenet", "imei": "868000000000001"})
    ]
    _header, semi = read_rows(b"\xef\xbb\xbfmeter_id;model;profile;imei\nA;G4;onenet;1\n", "x.csv")
    assert semi == [(2, {"meter_id": "A", "model": "G4", "profile": "onenet", "imei": "1"})]
    for content, name in ((b"", "x.csv"), (b"not a zip", "x.xlsx"), (b"\xff\xfe", "x.csv")):
        with pytest.raises(DeliveryFileError):
            read_rows(content, name)


def test_a_meters_place_is_imported_compared_on_the_second_import_and_kept_by_its_successor(
    registry: Registry,
) -> None:
    placed = (
        b"meter_id,model,profile,imei,district,street,building,latitude,longitude,pressure_zone\n"
        b"NB0001,G2.5,onenet,868000000000001,Tianhe,Tiyu Xi Lu,1,23.1372,113.3214,RS-07\n"
        b"NB0002,G2.5,onenet,868000000000019,,,,,,\n"
    )
    assert run(registry, placed).created == ("NB0001", "NB0002")
    nb = registry.meters.get("NB0001")
    assert (nb.district, nb.street, nb.building, nb.pressure_zone) == (
        "Tianhe",
        "Tiyu Xi Lu",
        "1",
        "RS-07",
    )
    assert (nb.latitude, nb.longitude) == (23.1372, 113.3214)
    moved = run(registry, placed.replace(b"RS-07", b"RS-08"))
    assert moved.created == () and "pressure_zone" in moved.errors[0]  # twice: the same, or refused
    step = registry.meters.lifecycle_step
    step("NB0001", LifecycleStep("install", "wo", installer="li"), SAM, T0)
    step("NB0001", LifecycleStep("commission", "by hand"), SAM, T0)
    swap = LifecycleStep(
        "replace", "broken", register_m3=1.0, new_meter_id="NB0002", new_register_m3=0.0
    )
    step("NB0001", swap, SAM, T0)
    successor = registry.meters.get("NB0002")
    assert (successor.district, successor.pressure_zone, successor.latitude) == (
        "Tianhe",
        "RS-07",
        23.1372,
    )
