"""The factory's delivery file, row by row: what each row must hold to become a meter in
stock, and every reason a row is refused (its line and field). Pure: rows of text in
(from CSV or Excel: gasguard.meter_files), validated meters or the errors out.

Columns (a header row; case and surrounding spaces do not matter):

* ``meter_id`` (required): the id it will have on the network, 1-32 of A-Z a-z 0-9 _ -;
* ``model`` (required): one of the rules' models (G1.6, G2.5, G4, ...);
* ``profile`` (required): a device profile in force (``gasguard profiles list``);
* ``imei`` (NB-IoT modules: 15 digits with a valid check digit) or ``address`` (the meter's
  own bus or radio address: CJ/T 188 14 hex digits, wM-Bus 8 digits): one at least;
* optional: ``category`` (residential, commercial, industrial), ``report_interval_s`` (how
  often it reads), ``iccid`` (19-20 digits), ``key`` (the meter's 64-hex-digit command key
  from the factory: otherwise gasguard makes one), ``location`` (free text, at most 200),
  and where it is (meters.places): ``district``, ``street``, ``building``, ``latitude`` and
  ``longitude`` (degrees, both or neither), ``pressure_zone``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field

from contract.profiles import CATEGORIES, MeterProfile
from contract.protocol import is_meter_id
from devices.profiles import DeviceProfile
from meters.places import PLACE_FIELDS, Place, parse_place

REQUIRED = ("meter_id", "model", "profile")
KNOWN = frozenset(
    {
        *REQUIRED,
        "imei",
        "address",
        "category",
        "report_interval_s",
        "iccid",
        "key",
        "location",
        *PLACE_FIELDS,
    }
)
ADDRESS_OF_CODEC = {
    "cjt188": (re.compile(r"[0-9A-F]{14}"), "14 hex digits (a CJ/T 188 address)"),
    "wmbus": (re.compile(r"[0-9]{8}"), "8 digits (a wireless M-Bus id)"),
}
KEY = re.compile(r"[0-9a-f]{64}")
ICCID = re.compile(r"[0-9]{19,20}")


@dataclass(frozen=True, slots=True)
class ImportedMeter:
    """A valid row: the meter's profile (for the engine) and what identifies it."""

    line: int
    profile: MeterProfile
    imei: str | None = None
    address: str | None = None
    iccid: str | None = None
    key: str | None = None
    location: str | None = None
    place: Place = field(default_factory=Place)


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def validate(
    rows: Iterable[tuple[int, Mapping[str, str]]],
    models: Collection[str],
    profiles: Mapping[str, DeviceProfile],
) -> tuple[list[ImportedMeter], list[RowError]]:
    """Every row checked (``rows``: line number and its cells by header); the meters, or
    every error found. Two rows for one meter, IMEI or address refuse the later one."""
    meters: list[ImportedMeter] = []
    errors: list[RowError] = []
    first_line: dict[tuple[str, str], int] = {}
    for line, raw in rows:
        cells = {key.strip().lower(): (value or "").strip() for key, value in raw.items() if key}
        meter, row_errors = _row(line, cells, models, profiles)
        for key in ("meter_id", "imei", "address"):
            value = cells.get(key)
            if value and (key, value) in first_line:
                row_errors.append(
                    RowError(line, key, f"{value} is on line {first_line[key, value]} already")
                )
            elif value:
                first_line[key, value] = line
        errors.extend(row_errors)
        if meter is not None and not row_errors:
            meters.append(meter)
    return meters, errors


def check_header(header: Iterable[str]) -> list[RowError]:
    names = {name.strip().lower() for name in header if name}
    errors = [RowError(1, name, "the column is missing") for name in REQUIRED if name not in names]
    if not names & {"imei", "address"}:
        errors.append(RowError(1, "imei", "an imei or an address column is needed"))
    errors.extend(
        RowError(1, name, f"unknown column (known: {', '.join(sorted(KNOWN))})")
        for name in sorted(names - KNOWN)
    )
    return errors


def _row(
    line: int,
    cells: Mapping[str, str],
    models: Collection[str],
    profiles: Mapping[str, DeviceProfile],
) -> tuple[ImportedMeter | None, list[RowError]]:
    errors: list[RowError] = []

    def bad(field: str, message: str) -> None:
        errors.append(RowError(line, field, message))

    meter_id, model, profile_name = (cells.get(key, "") for key in REQUIRED)
    if not is_meter_id(meter_id):
        bad("meter_id", f"{meter_id!r} is not 1-32 of A-Z a-z 0-9 _ -")
    if model not in models:
        bad("model", f"{model!r} is not a model of the rules ({', '.join(sorted(models))})")
    profile = profiles.get(profile_name)
    if profile is None:
        bad("profile", f"{profile_name!r} is not a device profile in force")
    imei, address = cells.get("imei") or None, cells.get("address") or None
    if imei is None and address is None:
        bad("imei", "an imei or an address is needed")
    if imei is not None and not (len(imei) == 15 and imei.isdigit() and luhn_ok(imei)):
        bad("imei", f"{imei!r} is not 15 digits with a valid check digit")
    if address is not None and profile is not None and profile.codec in ADDRESS_OF_CODEC:
        pattern, what = ADDRESS_OF_CODEC[profile.codec]
        if not pattern.fullmatch(address):
            bad("address", f"{address!r} is not {what}")
    category = cells.get("category") or "residential"
    if category not in CATEGORIES:
        bad("category", f"{category!r} is not one of {', '.join(sorted(CATEGORIES))}")
    interval = _interval(cells.get("report_interval_s") or "", profile, bad)
    iccid, key = cells.get("iccid") or None, (cells.get("key") or "").lower() or None
    if iccid is not None and not ICCID.fullmatch(iccid):
        bad("iccid", f"{iccid!r} is not 19-20 digits")
    if key is not None and not KEY.fullmatch(key):
        bad("key", "the key must be 64 hex digits (32 bytes)")
    location = cells.get("location") or None
    if location is not None and len(location) > 200:
        bad("location", "at most 200 characters")
    place = parse_place(cells, bad)
    if errors:
        return None, errors
    meter_profile = MeterProfile(meter_id, model, category, interval, profile_name)  # type: ignore[arg-type]
    return ImportedMeter(line, meter_profile, imei, address, iccid, key, location, place), []


def _interval(text: str, profile: DeviceProfile | None, bad: Callable[[str, str], None]) -> int:
    """How often the meter reads; by default a minute, an hour for a meter that sleeps
    (it reads hourly and uploads the day: the rules judge the readings, not the uploads)."""
    if not text:
        return 60 if profile is None or not profile.sleeps else 3600
    try:
        interval = int(text)
    except ValueError:
        interval = 0
    if not 1 <= interval <= 31 * 86_400:
        bad("report_interval_s", f"{text!r} is not a whole number of seconds, 1 to 31 days")
        return 60
    return interval
