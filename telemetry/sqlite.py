"""The embedded telemetry store: one SQLite file, WAL mode, synchronous=FULL (durable on
return from ``write``)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from contract.protocol import is_meter_id
from contract.readings import FIELD_NAMES, READING_FIELDS, Reading
from telemetry.errors import StoreRejected, StoreUnavailable

COLUMNS = FIELD_NAMES  # the table's columns are the field table, in its order

SQL_TYPES = {
    "meter": "TEXT NOT NULL",
    "time": "INTEGER NOT NULL",
    "number": "REAL",
    "valve": "TEXT",
}
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS gas_reading ("
    + "".join(f"{f.name} {SQL_TYPES[f.kind]}, " for f in READING_FIELDS)
    + "PRIMARY KEY (meter_id, ts_ms)) WITHOUT ROWID"
)
MEASURED_COLUMNS = tuple(f.name for f in READING_FIELDS if f.kind in ("number", "valve"))

# Same point again: fields it carries overwrite, fields it lacks are kept (InfluxDB semantics).
UPSERT = (
    f"INSERT INTO gas_reading ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    "ON CONFLICT (meter_id, ts_ms) DO UPDATE SET "
    + ", ".join(f"{c} = coalesce(excluded.{c}, {c})" for c in MEASURED_COLUMNS)
)


def _add_new_columns(db: sqlite3.Connection) -> None:
    """A file made before a field was added to the field table gets its column (NULL in
    the rows it already holds)."""
    present = {row[1] for row in db.execute("PRAGMA table_info(gas_reading)")}
    for column in MEASURED_COLUMNS:
        if column not in present:
            kind = next(f.kind for f in READING_FIELDS if f.name == column)
            db.execute(f"ALTER TABLE gas_reading ADD COLUMN {column} {SQL_TYPES[kind]}")


class SqliteTelemetryStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(SCHEMA)
            _add_new_columns(self._db)
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(f"cannot open telemetry database {path}: {exc}") from exc

    def write(self, readings: Sequence[Reading]) -> None:
        for reading in readings:
            if not is_meter_id(reading.meter_id):
                raise StoreRejected(f"invalid meter id {reading.meter_id!r}")
        rows = [tuple(getattr(r, c) for c in COLUMNS) for r in readings]
        if not rows:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN")
                self._db.executemany(UPSERT, rows)
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                self._rollback()
                raise StoreUnavailable(f"sqlite write failed: {exc}") from exc
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreRejected(f"sqlite refused the write: {exc}") from exc

    def readings(self, meter_id: str, start_ms: int, end_ms: int, limit: int) -> list[Reading]:
        sql = (
            f"SELECT {', '.join(COLUMNS)} FROM gas_reading "
            "WHERE meter_id = ? AND ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms LIMIT ?"
        )
        return [Reading(*row) for row in self._query(sql, (meter_id, start_ms, end_ms, limit))]

    def latest(self, meter_id: str) -> Reading | None:
        sql = (
            f"SELECT {', '.join(COLUMNS)} FROM gas_reading "
            "WHERE meter_id = ? ORDER BY ts_ms DESC LIMIT 1"
        )
        rows = self._query(sql, (meter_id,))
        return Reading(*rows[0]) if rows else None

    def count(self, meter_id: str | None = None) -> int:
        if meter_id is None:
            return int(self._query("SELECT count(*) FROM gas_reading", ())[0][0])
        sql = "SELECT count(*) FROM gas_reading WHERE meter_id = ?"
        return int(self._query(sql, (meter_id,))[0][0])

    def counts(self, start_ms: int, end_ms: int) -> dict[str, int]:
        sql = (
            "SELECT meter_id, count(*) FROM gas_reading WHERE ts_ms >= ? AND ts_ms < ? "
            "GROUP BY meter_id"
        )
        return {meter: int(n) for meter, n in self._query(sql, (start_ms, end_ms))}

    def ping(self) -> bool:
        try:
            self._query("SELECT 1", ())
        except StoreUnavailable:
            return False
        return True

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _query(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"sqlite query failed: {exc}") from exc

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("ROLLBACK")
