"""The retention statements of docs/operations.md, run against a real InfluxDB: they are
accepted, the continuous query exists, and its backfill SELECT builds the hourly series."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import pytest

from contract.readings import Reading
from gasguard.servers import InfluxServer
from telemetry import InfluxTelemetryStore

pytestmark = pytest.mark.integration

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
HOUR = 3_600_000


def sql_blocks() -> list[str]:
    blocks = re.findall(r"```sql\n(.*?)```", DOC.read_text(), re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_the_documented_retention_and_rollup_work(influxd: InfluxServer) -> None:
    database = f"retention_{uuid.uuid4().hex[:8]}"
    store = InfluxTelemetryStore(influxd.url, database)
    store.ensure_database()
    try:
        hour0 = (time.time_ns() // 1_000_000 // HOUR - 5) * HOUR
        store.write(
            [
                Reading("M1", hour0 + minute * 60_000, 100 + minute / 100, 0.2 + minute / 100, 2.0)
                for minute in range(120)
            ]
        )
        statements = [s.replace('"gasguard"', f'"{database}"') for s in sql_blocks()]
        assert len(statements) == 4, statements
        for statement in statements:
            store._request("POST", "/query", params={"q": statement, "db": database})
        queries = store._request("GET", "/query", params={"q": "SHOW CONTINUOUS QUERIES"}).json()
        names = [
            row[0]
            for series in queries["results"][0]["series"]
            if series["name"] == database
            for row in series.get("values", [])
        ]
        assert names == ["gas_reading_hourly"]
        policies = store._request(
            "GET", "/query", params={"q": f'SHOW RETENTION POLICIES ON "{database}"'}
        ).json()["results"][0]["series"][0]["values"]
        by_name = {row[0]: row for row in policies}
        assert by_name["autogen"][1] == "9600h0m0s" and by_name["autogen"][-1] is True
        assert by_name["forever"][1] == "0s"
        hourly = store._request(
            "GET",
            "/query",
            params={
                "db": database,
                "epoch": "ms",
                "q": 'SELECT "volume_m3", "flow_max_m3h" FROM "forever"."gas_reading_hourly" '
                "WHERE meter_id = 'M1'",
            },
        ).json()["results"][0]["series"][0]["values"]
        assert [row[0] for row in hourly] == [hour0, hour0 + HOUR]
        assert hourly[0][1] == pytest.approx(100.59) and hourly[1][2] == pytest.approx(1.39)
    finally:
        store._request("POST", "/query", params={"q": f'DROP DATABASE "{database}"'})
        store.close()


def test_server_facts_of_a_fresh_server_with_no_database(tmp_path: Path) -> None:
    """SHOW DATABASES on a new influxd answers a series without "values": gasguard doctor
    crashed with a KeyError there when it was the first to ask."""
    fresh = InfluxServer(tmp_path / "influxd")
    store = InfluxTelemetryStore(fresh.url, "gasguard")
    try:
        facts = store.server_facts()
        assert not facts.database_exists and facts.version.startswith("1.")
    finally:
        store.close()
        fresh.stop()
