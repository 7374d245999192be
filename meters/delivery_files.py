"""The factory's delivery file as rows (CSV or Excel, a header row), validated and imported
into the registry in one step: ``gasguard meters import`` and ``POST /meters/import``.

CSV: UTF-8 (a byte-order mark is fine), comma, semicolon or tab separated. Excel (.xlsx):
the first sheet. Numbers Excel holds as numbers (an IMEI typed without quotes) are read as
whole numbers; an ICCID (19-20 digits) is longer than Excel keeps exactly: format that
column as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Mapping
from zipfile import BadZipFile

from devices.profiles import DeviceProfile
from meters.errors import MetersError
from meters.fleet_import import RowError, check_header, validate
from meters.meter_store import MeterStore
from meters.views import Actor, ImportReport

MAX_ROWS = 200_000
Rows = list[tuple[int, dict[str, str]]]


class DeliveryFileError(MetersError, ValueError):
    """A file that is not a readable CSV or Excel sheet."""


def read_rows(content: bytes, name: str) -> tuple[list[str], Rows]:
    """The header and the rows (line numbers as a spreadsheet shows them: the header is 1)."""
    excel = name.lower().endswith((".xlsx", ".xlsm"))
    table = _excel(content) if excel else _csv(content)
    if not table:
        raise DeliveryFileError("the file is empty: a header row is needed")
    header = [cell.strip() for cell in table[0]]
    rows = [
        (line, dict(zip(header, cells, strict=False)))
        for line, cells in enumerate(table[1:], start=2)
        if any(cell.strip() for cell in cells)
    ]
    if len(rows) > MAX_ROWS:
        raise DeliveryFileError(f"{len(rows)} rows: at most {MAX_ROWS} a file")
    return header, rows


def _csv(content: bytes) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DeliveryFileError(f"the CSV file is not UTF-8: {exc}") from exc
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect)]


def _excel(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # only for Excel files

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DeliveryFileError(f"not an Excel (.xlsx) file: {exc}") from exc
    sheet = book.worksheets[0]
    return [[_cell(value) for value in row] for row in sheet.iter_rows(values_only=True)]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def import_delivery(
    store: MeterStore,
    content: bytes,
    name: str,
    models: Collection[str],
    profiles: Mapping[str, DeviceProfile],
    actor: Actor,
    now_ms: int,
    dry_run: bool = False,
) -> ImportReport:
    """Read, check every row, import the whole file or nothing. A report with ``errors``
    (each naming its line and field) when anything is wrong; ``DeliveryFileError`` when
    the file cannot be read at all."""
    header, rows = read_rows(content, name)
    problems: list[RowError] = check_header(header)
    if problems:
        return ImportReport(errors=tuple(str(p) for p in problems), dry_run=dry_run)
    meters, problems = validate(rows, models, profiles)
    if problems:
        return ImportReport(errors=tuple(str(p) for p in problems), dry_run=dry_run)
    return store.import_meters(meters, actor, now_ms, dry_run)
