"""The alarm lifecycle through the API: active -> acknowledged -> cleared, with who,
when, from where and why; and the live feed that carries each change."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from contract.decisions import Decision
from contract.profiles import MeterProfile
from meters.clock import wall_clock_ms
from meters.registry import Registry
from meters.views import Actor
from telemetry import SqliteTelemetryStore
from tests.api.conftest import PASSWORD, LiveApi, add_user, api_context, bearer
from tests.conftest import sqlite_registry

NOW = 1_790_000_000_000


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("M1"), MeterProfile("M2")], NOW)
    registry.alarms.record(Decision(NOW, "M1", "micro_flow", "shutoff", {}), NOW)
    add_user(registry, "otto", "operator", NOW)
    add_user(registry, "vera", "viewer", NOW)
    return registry


@pytest.fixture
def client(registry: Registry, tmp_path: Path) -> Iterator[TestClient]:
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    with TestClient(create_app(api_context(registry, store, lambda: NOW + 5_000))) as client:
        client.headers.update(bearer(client, "otto"))
        yield client
    store.close()


def test_acknowledge_then_clear_records_who_when_and_why(
    client: TestClient, registry: Registry
) -> None:
    acked = client.post("/api/v1/alarms/1/ack", json={"note": "crew dispatched"})
    assert acked.status_code == 200
    body = acked.json()
    assert (body["state"], body["acknowledged_by"], body["acknowledged_ms"]) == (
        "acknowledged",
        "otto",
        NOW + 5_000,
    )
    assert body["note"].endswith("otto: crew dispatched")
    cleared = client.post("/api/v1/alarms/1/clear", json={"reason": "meter checked, no leak"})
    assert cleared.status_code == 200
    assert (cleared.json()["state"], cleared.json()["cleared_by"]) == ("cleared", "otto")
    entries = registry.audit.entries()
    assert [(e.action, e.actor, e.target, e.reason) for e in entries[:2]] == [
        ("alarm.clear", "otto", "alarm:1", "meter checked, no leak"),
        ("alarm.acknowledge", "otto", "alarm:1", "crew dispatched"),
    ]
    assert entries[0].source == "testclient" and entries[0].detail["role"] == "operator"


def test_clearing_needs_a_reason_and_a_cleared_alarm_cannot_change(
    client: TestClient, registry: Registry
) -> None:
    missing = client.post("/api/v1/alarms/1/clear", json={})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["loc"] == ["body", "reason"]
    assert client.post("/api/v1/alarms/1/clear", json={"reason": "ok now"}).status_code == 200
    again = client.post("/api/v1/alarms/1/clear", json={"reason": "ok now"})
    assert again.status_code == 409
    assert client.post("/api/v1/alarms/1/ack", json={}).status_code == 409
    refused = [(e.action, e.target) for e in registry.audit.entries()[:2]]
    assert refused == [("alarm.acknowledge.refused", "alarm:1"), ("alarm.clear.refused", "alarm:1")]
    assert "already cleared" in registry.audit.entries()[1].detail["refused"]
    assert client.post("/api/v1/alarms/99/ack", json={}).status_code == 404
    assert client.post("/api/v1/alarms/0/ack", json={}).status_code == 422


def test_a_repeat_after_acknowledgement_updates_the_same_alarm(
    client: TestClient, registry: Registry
) -> None:
    client.post("/api/v1/alarms/1/ack", json={})
    alarm, created = registry.alarms.record(
        Decision(NOW + 60_000, "M1", "micro_flow", "shutoff", {}), NOW + 60_000
    )
    assert (created, alarm.id, alarm.state, alarm.repeat_count) == (False, 1, "acknowledged", 2)


def test_assign_and_comment_are_recorded_and_audited(
    client: TestClient, registry: Registry
) -> None:
    add_user(registry, "ada", "supervisor", NOW)
    assigned = client.post("/api/v1/alarms/1/assign", json={"username": "ada", "note": "call him"})
    assert assigned.status_code == 200, assigned.text
    body = assigned.json()
    assert (body["assigned_to"], body["assigned_ms"], body["state"]) == (
        "ada",
        NOW + 5_000,
        "active",
    )
    assert body["note"].endswith("otto: assigned to ada: call him")
    commented = client.post("/api/v1/alarms/1/comments", json={"text": "customer not home"})
    assert commented.json()["note"].endswith("otto: customer not home")
    mine = client.get("/api/v1/alarms", params={"assigned_to": "ada"}).json()
    assert [a["id"] for a in mine] == [1]
    assert client.get("/api/v1/alarms", params={"assigned_to": "otto"}).json() == []
    entries = registry.audit.entries()
    assert [(e.action, e.actor, e.target, e.reason) for e in entries[:2]] == [
        ("alarm.comment", "otto", "alarm:1", "customer not home"),
        ("alarm.assign", "otto", "alarm:1", "assigned to ada: call him"),
    ]


def test_assignment_needs_an_operator_and_an_open_alarm(
    client: TestClient, registry: Registry
) -> None:
    assert client.post("/api/v1/alarms/1/assign", json={"username": "vera"}).status_code == 409
    assert client.post("/api/v1/alarms/1/assign", json={"username": "nobody"}).status_code == 404
    empty = client.post("/api/v1/alarms/1/assign", json={"username": ""})
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "username"]
    blank = client.post("/api/v1/alarms/1/comments", json={"text": ""})
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"] == ["body", "text"]
    client.post("/api/v1/alarms/1/clear", json={"reason": "all fine"})
    assert client.post("/api/v1/alarms/1/assign", json={"username": "otto"}).status_code == 409
    # A comment after the clear is still welcome (what was found on site).
    assert (
        client.post("/api/v1/alarms/1/comments", json={"text": "valve replaced"}).status_code == 200
    )
    assert registry.alarms.get(1).assigned_to is None


def test_critical_first_order_and_filters(client: TestClient, registry: Registry) -> None:
    for ts, meter, rule, action in (
        (NOW + 1, "M2", "low_battery", "alarm"),
        (NOW + 2, "M2", "tamper", "alarm"),
        (NOW + 3, "M2", "command_expired", "alarm"),
    ):
        registry.alarms.record(Decision(ts, meter, rule, action, {}), ts)
    newest = client.get("/api/v1/alarms").json()
    assert [a["rule"] for a in newest] == ["command_expired", "tamper", "low_battery", "micro_flow"]
    critical = client.get("/api/v1/alarms", params={"order": "critical"}).json()
    assert [(a["rule"], a["severity"]) for a in critical] == [
        ("command_expired", "critical"),
        ("micro_flow", "critical"),
        ("tamper", "warning"),
        ("low_battery", "info"),
    ]
    page = client.get("/api/v1/alarms", params={"order": "critical", "offset": 1, "limit": 2})
    assert [a["rule"] for a in page.json()] == ["micro_flow", "tamper"]
    assert [a["rule"] for a in client.get("/api/v1/alarms", params={"rule": "tamper"}).json()] == [
        "tamper"
    ]
    bad = client.get("/api/v1/alarms", params={"order": "loudest"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "order"]


def test_a_clear_reaches_the_engine_only_when_no_newer_alarm_is_open(registry: Registry) -> None:
    otto = Actor("otto", "operator", "10.0.0.9")
    registry.alarms.clear(1, otto, "fixed", NOW + 1_000)
    assert [(c.meter_id, c.rule) for c in registry.alarms.cleared_since(NOW)] == [
        ("M1", "micro_flow")
    ]
    assert registry.alarms.cleared_since(NOW + 2_000) == []
    registry.alarms.record(Decision(NOW + 5_000, "M1", "micro_flow", "shutoff", {}), NOW + 5_000)
    assert registry.alarms.cleared_since(NOW) == []  # a new episode is open: do not end it


def test_the_live_feed_carries_new_and_changed_alarms(registry: Registry, tmp_path: Path) -> None:
    live = LiveApi(registry, tmp_path)
    events: list[tuple[str, dict[str, object]]] = []
    try:
        token = httpx.post(
            f"{live.url}/auth/token", data={"username": "vera", "password": PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{live.url}/feed", timeout=2).status_code == 401

        def listen() -> None:
            with httpx.stream("GET", f"{live.url}/feed", headers=headers, timeout=10) as stream:
                kind = None
                for line in stream.iter_lines():
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: ") and kind:
                        events.append((kind, json.loads(line[6:])))
                        if len(events) >= 2:
                            return

        listener = threading.Thread(target=listen, daemon=True)
        listener.start()
        time.sleep(0.5)  # the feed starts from now: these changes come after
        now = wall_clock_ms()
        registry.alarms.record(Decision(now, "M2", "over_flow", "shutoff", {}), now)
        registry.alarms.acknowledge(1, Actor("otto", "operator", "x"), "on it", now + 1)
        listener.join(10)
    finally:
        live.stop()
    assert [(kind, e["meter_id"], e["state"]) for kind, e in events] == [
        ("alarm", "M2", "active"),
        ("alarm", "M1", "acknowledged"),
    ]


def test_an_alarms_notifications_show_where_each_stands(
    client: TestClient, registry: Registry
) -> None:
    (alarm,) = registry.alarms.find()
    registry.notifications.enqueue(alarm.id, ["soc", "pager"], NOW)
    soc, pager = registry.notifications.for_alarm(alarm.id)
    registry.notifications.record(soc.id, True, "HTTP 204: ", NOW + 100, None)
    registry.notifications.record(pager.id, False, "HTTP 503: maintenance", NOW + 100, NOW + 2100)
    registry.notifications.enqueue(alarm.id, ["soc"], NOW + 200)  # once per channel
    answer = client.get(f"/api/v1/alarms/{alarm.id}/notifications")
    assert answer.status_code == 200
    assert [(n["channel"], n["state"], n["attempts"]) for n in answer.json()] == [
        ("soc", "sent", 1),
        ("pager", "queued", 1),
    ]
    assert answer.json()[1]["next_attempt_ms"] == NOW + 2100
    assert client.get("/api/v1/alarms/999/notifications").status_code == 404
