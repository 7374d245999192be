"""The InfluxDB telemetry store, over the v1 HTTP API (``/write``, ``/query``), which
InfluxDB 1.x, 2.4+ (v1 compatibility, token auth) and 3.x all serve."""

from __future__ import annotations

import email.utils
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from contract.protocol import is_meter_id
from contract.readings import MEASURED, Reading, reading_from
from telemetry import lineprotocol
from telemetry.base import MEASUREMENT
from telemetry.errors import StoreRejected, StoreUnavailable

# what a SELECT returns: the point's time, then every measured field of the field table
COLUMNS = ("time", *(f.name for f in MEASURED if f.kind != "time"))


@dataclass(frozen=True, slots=True)
class InfluxFacts:
    version: str
    server_ms: int | None  # the server's clock (its Date header, to the second)
    database_exists: bool
    retention: tuple[tuple[str, str, bool], ...]  # (name, duration, is the default)


class InfluxTelemetryStore:
    def __init__(
        self, url: str, database: str, token: str | None = None, timeout_s: float = 10.0
    ) -> None:
        headers = {"Authorization": f"Token {token}"} if token else {}
        self.database = database
        self.timeout_s = timeout_s  # every request, connect and read alike
        self._http = httpx.Client(base_url=url, headers=headers, timeout=timeout_s)

    def ensure_database(self) -> None:
        self._request("POST", "/query", params={"q": f'CREATE DATABASE "{self.database}"'})

    def write(self, readings: Sequence[Reading]) -> None:
        if not readings:
            return
        body = lineprotocol.encode(readings)
        self._request(
            "POST", "/write", params={"db": self.database, "precision": "ms"}, content=body
        )

    def readings(self, meter_id: str, start_ms: int, end_ms: int, limit: int) -> list[Reading]:
        where = _where_meter(meter_id) + f" AND time >= {start_ms}ms AND time < {end_ms}ms"
        query = (
            f"SELECT {', '.join(COLUMNS[1:])} FROM {MEASUREMENT} "
            f"WHERE {where} ORDER BY time ASC LIMIT {int(limit)}"
        )
        return [_reading(meter_id, row) for row in self._select(query)]

    def latest(self, meter_id: str) -> Reading | None:
        query = (
            f"SELECT {', '.join(COLUMNS[1:])} FROM {MEASUREMENT} "
            f"WHERE {_where_meter(meter_id)} ORDER BY time DESC LIMIT 1"
        )
        rows = self._select(query)
        return _reading(meter_id, rows[0]) if rows else None

    def count(self, meter_id: str | None = None) -> int:
        where = f" WHERE {_where_meter(meter_id)}" if meter_id is not None else ""
        rows = self._select(f"SELECT count(volume_m3) FROM {MEASUREMENT}{where}")
        return int(rows[0][1]) if rows else 0

    def counts(self, start_ms: int, end_ms: int) -> dict[str, int]:
        query = (
            f"SELECT count(volume_m3) FROM {MEASUREMENT} "
            f"WHERE time >= {int(start_ms)}ms AND time < {int(end_ms)}ms GROUP BY meter_id"
        )
        series = self._series(query, {"db": self.database, "epoch": "ms"})
        try:
            return {s["tags"]["meter_id"]: int(s["values"][0][1]) for s in series}
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise StoreRejected(f"InfluxDB answered {query!r} with {series!r:.200}") from exc

    def server_facts(self) -> InfluxFacts:
        """What ``gasguard doctor`` checks: version, clock, whether the database exists,
        and its retention policies."""
        ping = self._request("GET", "/ping")
        date = ping.headers.get("Date")
        server_ms = (
            int(email.utils.parsedate_to_datetime(date).timestamp() * 1000) if date else None
        )
        databases = {row[0] for row in self._show("SHOW DATABASES")}
        policies: list[tuple[str, str, bool]] = []
        if self.database in databases:
            rows = self._show(f'SHOW RETENTION POLICIES ON "{self.database}"')
            policies = [(str(r[0]), str(r[1]), bool(r[-1])) for r in rows]
        return InfluxFacts(
            ping.headers.get("X-Influxdb-Version", "unknown"),
            server_ms,
            self.database in databases,
            tuple(policies),
        )

    def _show(self, query: str) -> list[list[Any]]:
        return _rows(self._series(query, {}))

    def ping(self) -> bool:
        try:
            return self._http.get("/ping").status_code == 204
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        self._http.close()

    def _select(self, query: str) -> list[list[Any]]:
        return _rows(self._series(query, {"db": self.database, "epoch": "ms"}))

    def _series(self, query: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """The series of one query's answer; every malformed answer is ``StoreRejected``
        (never a ``KeyError`` or ``json`` error out of this adapter)."""
        response = self._request("GET", "/query", params={**params, "q": query})
        try:
            result = response.json()["results"][0]
            error = result.get("error")
            series = result.get("series") or []
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise StoreRejected(f"InfluxDB answered {query!r} with {response.text[:200]}") from exc
        if error:
            raise StoreRejected(f"InfluxDB query failed: {error}")
        if not isinstance(series, list) or not all(isinstance(s, dict) for s in series):
            raise StoreRejected(f"InfluxDB answered {query!r} with {response.text[:200]}")
        return series

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise StoreUnavailable(f"InfluxDB unreachable: {exc}") from exc
        if response.status_code >= 500:
            raise StoreUnavailable(
                f"InfluxDB {path} answered {response.status_code}: {response.text[:200]}"
            )
        if response.status_code >= 400:
            raise StoreRejected(
                f"InfluxDB {path} answered {response.status_code}: {response.text[:200]}"
            )
        return response


def _rows(series: list[dict[str, Any]]) -> list[list[Any]]:
    # a series without rows has no "values" (SHOW DATABASES on a fresh server)
    return list(series[0].get("values") or []) if series else []


def _where_meter(meter_id: str) -> str:
    if not is_meter_id(meter_id):
        raise StoreRejected(f"invalid meter id {meter_id!r}")
    return f"meter_id = '{meter_id}'"


def _reading(meter_id: str, row: list[Any]) -> Reading:
    try:
        values = dict(zip(COLUMNS, row, strict=True))
    except (TypeError, ValueError) as exc:
        raise StoreRejected(f"InfluxDB answered a row of another shape: {row!r:.200}") from exc
    return reading_from({**values, "meter_id": meter_id, "ts_ms": int(values["time"])})
