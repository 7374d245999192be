"""The reading's field table is the one list of its fields: the dataclass, the decoder,
the stores, the spool, the wire form, the replay reader and the API schema agree with it.
Adding a field that one of them misses fails here."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

from api.schemas import ReadingOut
from contract.protocol import reading_to_json
from contract.readings import (
    FIELD_NAMES,
    MEASURED,
    NUMBER_FIELDS,
    READING_FIELDS,
    Reading,
    new_reading,
    reading_from,
)
from ingest import decode
from telemetry import influx, lineprotocol, sqlite


def test_the_dataclass_is_the_table_in_its_order() -> None:
    assert tuple(f.name for f in dataclasses.fields(Reading)) == FIELD_NAMES
    hints = typing.get_type_hints(Reading)
    for field in READING_FIELDS:
        if field.kind == "number":
            assert float in typing.get_args(hints[field.name]) or hints[field.name] is float
        assert field.required == (
            dataclasses.fields(Reading)[FIELD_NAMES.index(field.name)].default
            is dataclasses.MISSING
        ), field.name


def test_new_reading_sets_every_field_of_the_table() -> None:
    values = ("M1", 5, 1.0, 0.5, 2.0, 20.0, 90.0, "open")
    assert len(values) == len(FIELD_NAMES)
    by_name = dict(zip(FIELD_NAMES, values, strict=True))
    assert new_reading(*values) == Reading(*values) == reading_from(by_name)


def test_stores_wire_form_and_api_follow_the_table(tmp_path: Path) -> None:
    store = sqlite.SqliteTelemetryStore(tmp_path / "t.sqlite3")
    try:
        columns = [row[1] for row in store._db.execute("PRAGMA table_info(gas_reading)")]
    finally:
        store.close()
    assert tuple(columns) == FIELD_NAMES  # the SQLite schema is made from the table
    row = [5, 1.0, 0.5, 2.0, 20.0, 90.0, "open"]  # an InfluxDB SELECT: time, then measured
    assert influx._reading("M1", row) == Reading("M1", 5, 1.0, 0.5, 2.0, 20.0, 90.0, "open")
    point = lineprotocol.encode_point(Reading("M1", 5, 1.0, 0.5, 2.0, 20.0, 90.0, "open"))
    fields = [pair.split("=")[0] for pair in point.split(" ")[1].split(",")]
    assert fields == [*NUMBER_FIELDS, "valve"]  # every field of the table reaches InfluxDB
    full = Reading("M1", 5, 1.0, 0.5, 2.0, 20.0, 90.0, "open")
    assert list(reading_to_json(full)) == [f.wire for f in MEASURED]
    assert list(reading_to_json(Reading("M1", 5, 1.0))) == ["ts", "volume_m3"]  # required only
    assert list(ReadingOut.model_fields) == [f.wire for f in MEASURED]


def test_the_decoder_takes_every_field_of_the_table_from_a_payload() -> None:
    values = (5, 1.0, 0.5, 2.0, 20.0, 90.0, "open")
    payload = {f.wire: v for f, v in zip(MEASURED, values, strict=True)}
    reading = decode.parse_reading("M1", payload, None)
    assert reading == Reading("M1", 5, 1.0, 0.5, 2.0, 20.0, 90.0, "open")


def test_the_decoder_checks_every_bound_of_the_table() -> None:
    bounded = {f.wire for f in READING_FIELDS if f.minimum is not None or f.maximum is not None}
    checked = {key for _i, key, _low in decode.AT_LEAST} | {k for _i, k, _l, _h in decode.WITHIN}
    assert checked == bounded
