"""The HTTP API over a real (SQLite) registry and telemetry store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import STATIC_DIR, create_app
from connections.policies import Policies
from connections.workdays import WorkCalendar, YearSchedule
from contract.decisions import Decision
from contract.profiles import MeterProfile
from contract.readings import Reading
from meters.clock import wall_clock_ms
from meters.registry import MeterSighting
from meters.views import SAFETY_ACTOR, NewDeadLetter, WorkerHealth
from telemetry import SqliteTelemetryStore
from tests.api.conftest import add_user, api_context, bearer
from tests.conftest import sqlite_registry

NOW = 1_790_000_000_000


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    registry = sqlite_registry(tmp_path)
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    registry.meters.provision([MeterProfile("M1", "G4"), MeterProfile("M2")], NOW)
    store.write(
        [Reading("M1", NOW - i * 60_000, 100 - i / 10, 0.3, valve="open") for i in range(30)]
    )
    registry.meters.record_sightings({"M2": MeterSighting(NOW, NOW, "closed")})
    registry.alarms.record(
        Decision(NOW, "M2", "leak_detector", "shutoff", {"event": "detector_alarm"}), NOW
    )
    registry.dead_letters.add(
        [NewDeadLetter(NOW, "gas/v1/meters/M1/telemetry", "not_json", "not JSON", b"{oops")]
    )
    add_user(registry, "vera", "viewer", NOW)
    context = api_context(registry, store, lambda: NOW + 1)
    with TestClient(create_app(context)) as test_client:
        test_client.headers.update(bearer(test_client, "vera"))
        yield test_client
    store.close()


def test_health_and_overview(client: TestClient) -> None:
    assert client.get("/api/v1/health").json() == {
        "status": "ok",
        "registry": True,
        "telemetry": True,
        "calendar_missing_years": [],  # 21 September 2026: only 2026 is needed yet
    }
    overview = client.get("/api/v1/overview").json()
    assert {k: overview[k] for k in ("meters", "online", "offline", "never_seen")} == {
        "meters": 2,
        "online": 1,  # M2 reported; M1 has readings in the store but never reached ingest
        "offline": 0,
        "never_seen": 1,
    }
    assert (overview["valves_closed"], overview["alarms_active"], overview["alarms_open"]) == (
        1,
        1,
        1,
    )
    assert overview["alarms_by_severity"] == {"critical": 1, "warning": 0, "info": 0}
    assert overview["alarms_by_rule"] == [
        {
            "rule": "leak_detector",
            "action": "shutoff",
            "severity": "critical",
            "open": 1,
            "active": 1,
        }
    ]
    assert overview["dead_letters"] == 1
    assert overview["ingest"] == {
        "ok": False,  # no worker has reported: the control room must see that
        "messages_per_s": 0.0,
        "readings_per_s": 0.0,
        "spool_records": 0,
        "workers": [],
    }


def test_overview_counts_silent_meters_offline_and_shows_worker_health(
    tmp_path: Path,
) -> None:
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile(f"M{i}") for i in range(5)], NOW)
    registry.meters.record_sightings(
        {
            "M0": MeterSighting(NOW, NOW, "open", "online"),
            "M1": MeterSighting(NOW, NOW, "closed", "offline"),  # its last will
            "M2": MeterSighting(NOW, NOW, "open", "online"),
            "M3": MeterSighting(NOW, NOW, "open", "online"),
        }
    )
    registry.alarms.record(Decision(NOW, "M2", "offline", "alarm", {}), NOW)  # silent
    registry.alarms.record(Decision(NOW, "M3", "low_battery", "alarm", {}), NOW)
    acked, _ = registry.alarms.record(Decision(NOW, "M3", "tamper", "alarm", {}), NOW)
    add_user(registry, "vera", "viewer", NOW)
    registry.alarms.acknowledge(acked.id, SAFETY_ACTOR, "", NOW)
    for worker, updated_ms, spool in (
        ("ingest-p0of2", NOW - 5_000, 0),
        ("ingest-p1of2", NOW - 60_000, 3),
    ):
        registry.workers.record(
            WorkerHealth(worker, worker[-4:], updated_ms, 900, 9000, 2, spool, 4096, 150.0, 1500.0)
        )
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    context = api_context(registry, store, lambda: NOW, worker_stale_s=15)
    with TestClient(create_app(context)) as client:
        client.headers.update(bearer(client, "vera"))
        overview = client.get("/api/v1/overview").json()
    store.close()
    assert (overview["online"], overview["offline"], overview["never_seen"]) == (2, 2, 1)
    assert overview["valves_closed"] == 1
    assert overview["alarms_by_severity"] == {"critical": 0, "warning": 1, "info": 2}
    assert (overview["alarms_open"], overview["alarms_active"]) == (3, 2)
    assert [c["rule"] for c in overview["alarms_by_rule"]] == ["tamper", "low_battery", "offline"]
    ingest = overview["ingest"]
    assert [(w["worker"], w["stale"]) for w in ingest["workers"]] == [
        ("ingest-p0of2", False),
        ("ingest-p1of2", True),
    ]
    # Rates count fresh workers only; the stale one's spool backlog still counts.
    assert (ingest["ok"], ingest["messages_per_s"], ingest["spool_records"]) == (False, 150.0, 3)


def test_meters_list_filter_and_detail(client: TestClient) -> None:
    assert [m["id"] for m in client.get("/api/v1/meters").json()] == ["M1", "M2"]
    assert [m["id"] for m in client.get("/api/v1/meters", params={"valve": "closed"}).json()] == [
        "M2"
    ]
    assert [
        m["id"] for m in client.get("/api/v1/meters", params={"offset": 1, "limit": 1}).json()
    ] == ["M2"]
    by_valve = client.get("/api/v1/meters", params={"order": "valve", "limit": 1}).json()
    assert [m["id"] for m in by_valve] == ["M2"]  # the closed valve first, on the first page
    refused = client.get("/api/v1/meters", params={"order": "valve_desc"})
    assert refused.status_code == 422 and "order" in refused.text
    detail = client.get("/api/v1/meters/M1").json()
    assert (
        detail["model"] == "G4"
        and detail["device_profile"] == "gasguard-json"  # what it speaks (docs/protocols.md)
        and detail["latest"]["ts"] == NOW
        and detail["latest"]["flow_m3h"] == 0.3
    )


def test_readings_default_to_the_last_day_and_honour_the_range(client: TestClient) -> None:
    page = client.get("/api/v1/meters/M1/readings").json()
    assert len(page["readings"]) == 30 and not page["truncated"]
    ranged = client.get(
        "/api/v1/meters/M1/readings", params={"start": NOW - 5 * 60_000, "end": NOW}
    ).json()
    assert [r["ts"] for r in ranged["readings"]] == [NOW - i * 60_000 for i in range(5, 0, -1)]
    limited = client.get("/api/v1/meters/M1/readings", params={"limit": 3}).json()
    assert len(limited["readings"]) == 3 and limited["truncated"]


def test_readings_accept_rfc3339(client: TestClient) -> None:
    page = client.get(
        "/api/v1/meters/M1/readings",
        params={"start": "2026-09-21T14:00:00+08:00", "end": "2026-09-21T15:00:00+08:00"},
    )
    assert page.status_code == 200


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "yesterday"}, "start", "epoch milliseconds or an RFC 3339"),
        ({"end": "2026-01-01T00:00:00"}, "end", "time zone offset"),
        ({"start": NOW, "end": NOW - 1}, "start", "before end"),
        ({"start": 0, "end": NOW}, "start", "at most 31 days"),
        ({"limit": 0}, "limit", ""),
    ],
)
def test_bad_reading_queries_get_a_422_naming_the_field(
    client: TestClient, params: dict[str, object], field: str, message: str
) -> None:
    response = client.get("/api/v1/meters/M1/readings", params=params)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"][-1] == field and message in error["msg"]


def test_unknown_things_are_404_and_bad_ids_422(client: TestClient) -> None:
    assert client.get("/api/v1/meters/NOPE").status_code == 404
    assert client.get("/api/v1/meters/NOPE/readings").status_code == 404
    assert client.get("/api/v1/commands/no-such-command").status_code == 404
    bad = client.get("/api/v1/meters/" + "x" * 40)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["path", "meter_id"]
    newline = client.get("/api/v1/meters/M1%0A")
    assert newline.status_code == 422 and newline.json()["detail"][0]["loc"] == ["path", "meter_id"]
    assert client.get("/api/v1/alarms", params={"state": "opened"}).json()["detail"][0]["loc"] == [
        "query",
        "state",
    ]


def test_alarms_and_dead_letters(client: TestClient) -> None:
    (alarm,) = client.get("/api/v1/alarms", params={"state": "active"}).json()
    assert (alarm["meter_id"], alarm["rule"], alarm["action"], alarm["state"]) == (
        "M2",
        "leak_detector",
        "shutoff",
        "active",
    )
    assert client.get("/api/v1/alarms", params={"state": "cleared"}).json() == []
    assert client.get("/api/v1/alarms", params={"meter_id": "M1"}).json() == []
    (letter,) = client.get("/api/v1/dead-letters").json()
    assert letter["code"] == "not_json"
    assert client.get("/api/v1/dead-letters", params={"code": "too_large"}).json() == []
    assert (letter["reason"], letter["payload_preview"], letter["payload_size"]) == (
        "not JSON",
        "{oops",
        5,
    )


def test_openapi_lists_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/health",
        "/api/v1/meters",
        "/api/v1/meters/{meter_id}",
        "/api/v1/meters/{meter_id}/readings",
        "/api/v1/alarms",
        "/api/v1/commands/{command_id}",
        "/api/v1/dead-letters",
    ):
        assert path in paths


def test_dashboard_is_served_and_loads_nothing_from_outside(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "gasguard" in page.text
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/vendor/uplot/uPlot.iife.min.js").status_code == 200
    assets = [path for path in STATIC_DIR.rglob("*") if path.is_file()]
    assert any(path.name == "uPlot.iife.min.js" for path in assets)  # the vendored charts
    for asset in assets:
        assert not re.search(
            r"(src|href)=\"https?://|url\(https?://|fetch\(\"https?://", asset.read_text()
        ), asset.name


def test_telemetry_down_is_503_not_500(tmp_path: Path) -> None:
    registry = sqlite_registry(tmp_path)
    from gasguard.servers import free_port
    from telemetry import InfluxTelemetryStore

    store = InfluxTelemetryStore(f"http://127.0.0.1:{free_port()}", "gasguard", timeout_s=1)
    registry.meters.provision([MeterProfile("M1")], NOW)
    add_user(registry, "vera", "viewer", NOW)
    context = api_context(registry, store, wall_clock_ms)
    with TestClient(create_app(context)) as test_client:
        test_client.headers.update(bearer(test_client, "vera"))
        assert test_client.get("/api/v1/meters/M1/readings").status_code == 503
        health = test_client.get("/api/v1/health")
        assert health.status_code == 503 and health.json()["telemetry"] is False


def test_a_missing_holiday_schedule_is_reported_by_health_and_the_overview(
    tmp_path: Path,
) -> None:
    """In December next year's schedule is needed: reported (the dashboard's banner), but
    the service is not degraded by it."""
    registry = sqlite_registry(tmp_path)
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    add_user(registry, "vera", "viewer", NOW)
    december = 1_796_176_800_000  # 2026-12-02 10:00 UTC+8
    loaded = Policies(WorkCalendar({2027: YearSchedule(frozenset(), frozenset())}))
    for policies, missing in ((Policies(WorkCalendar()), [2027]), (loaded, [])):
        context = api_context(registry, store, lambda: december, policies=policies)
        with TestClient(create_app(context)) as test_client:
            test_client.headers.update(bearer(test_client, "vera"))
            health = test_client.get("/api/v1/health")
            assert health.status_code == 200 and health.json()["status"] == "ok"
            assert health.json()["calendar_missing_years"] == missing
            overview = test_client.get("/api/v1/overview").json()
            assert overview["calendar_missing_years"] == missing
    store.close()


def test_data_completeness_for_the_fleet_and_the_meters_below(tmp_path: Path) -> None:
    registry = sqlite_registry(tmp_path)
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    start = NOW - 3_600_000
    registry.meters.provision([MeterProfile("C1"), MeterProfile("C2")], start)
    registry.meters.record_sightings({m: MeterSighting(NOW, NOW) for m in ("C1", "C2")})
    store.write([Reading("C1", start + i * 60_000, 1.0 + i) for i in range(60)])
    store.write([Reading("C2", start + i * 120_000, 1.0 + i) for i in range(30)])
    add_user(registry, "vera", "viewer", NOW)
    with TestClient(create_app(api_context(registry, store, lambda: NOW))) as client:
        client.headers.update(bearer(client, "vera"))
        body = client.get("/api/v1/completeness", params={"start": start, "end": NOW}).json()
        assert (body["meters"], body["expected"], body["received"], body["complete"]) == (
            2,
            120,
            90,
            1,
        )
        assert body["share"] == 0.75 and body["below_total"] == 1
        assert body["below"] == [
            {"meter_id": "C2", "expected": 60, "received": 30, "share": 0.5, "missing_batches": 0}
        ]
        assert body["missing_batches"] == 0
        bad = client.get("/api/v1/completeness", params={"start": "yesterday"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "start"]
    store.close()


def test_a_registry_outage_is_a_plain_503_with_a_reference_never_the_sql(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: the 503 carried SQLAlchemy's text (SQL, parameters, database host) to
    unauthenticated callers of the public lookup and the sign-in."""
    from gasguard.servers import free_port
    from meters.db import make_engine
    from meters.registry import Registry

    port = free_port()
    registry = Registry(make_engine(f"postgresql://gasguard:hunter2@127.0.0.1:{port}/registry"))
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    with TestClient(create_app(api_context(registry, store, lambda: NOW))) as client:
        answers = [
            client.get(
                "/api/v1/public/progress",
                params={"number": "GU20260000001", "code": "0000-0000-0000"},
            ),
            client.post("/api/v1/auth/token", data={"username": "vera", "password": "x" * 12}),
        ]
    store.close()
    for answer in answers:
        assert answer.status_code == 503
        body = answer.json()
        assert body["detail"].startswith("registry unavailable; try again shortly (reference ")
        text = answer.text.lower()
        for leak in ("select", "127.0.0.1", str(port), "psycopg", "sqlalche", "hunter2"):
            assert leak not in text, f"{leak!r} leaked in {answer.text}"
        logged = [
            r.getMessage() for r in caplog.records if body["correlation_id"] in r.getMessage()
        ]
        assert logged and "127.0.0.1" in logged[0]  # the operator finds the cause in the log
