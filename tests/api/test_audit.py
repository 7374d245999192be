"""The audit log and the assignable accounts, through the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from contract.decisions import Decision
from contract.profiles import MeterProfile
from meters.registry import Registry
from telemetry import SqliteTelemetryStore
from tests.api.conftest import add_user, api_context, bearer
from tests.conftest import sqlite_registry

NOW = 1_790_000_000_000


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("M1")], NOW)
    registry.alarms.record(Decision(NOW, "M1", "tamper", "alarm", {}), NOW)
    for name, role in (("vera", "viewer"), ("otto", "operator"), ("sue", "supervisor")):
        add_user(registry, name, role, NOW)
    add_user(registry, "gone", "operator", NOW)
    registry.accounts.set_disabled("gone", True)
    return registry


@pytest.fixture
def client(registry: Registry, tmp_path: Path) -> Iterator[TestClient]:
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    with TestClient(create_app(api_context(registry, store, lambda: NOW + 1))) as client:
        yield client
    store.close()


def test_supervisors_read_the_audit_log_newest_first_in_pages(client: TestClient) -> None:
    otto, sue = bearer(client, "otto"), bearer(client, "sue")  # sign-ins are audited too
    for text in ("first", "second", "third"):
        response = client.post("/api/v1/alarms/1/comments", json={"text": text}, headers=otto)
        assert response.status_code == 200
    assert client.get("/api/v1/audit", headers=otto).status_code == 403
    client.headers.update(sue)
    entries = client.get("/api/v1/audit", params={"limit": 2}).json()
    assert [(e["action"], e["reason"]) for e in entries] == [
        ("alarm.comment", "third"),
        ("alarm.comment", "second"),
    ]
    rest = client.get("/api/v1/audit", params={"offset": 2, "limit": 100}).json()
    assert [e["reason"] for e in rest if e["action"] == "alarm.comment"] == ["first"]
    assert client.get("/api/v1/audit", params={"limit": 0}).status_code == 422


def test_operators_see_who_can_take_an_alarm(client: TestClient) -> None:
    assert client.get("/api/v1/users").status_code == 401
    client.headers.update(bearer(client, "vera"))
    assert client.get("/api/v1/users").status_code == 403
    client.headers.update(bearer(client, "otto"))
    users = client.get("/api/v1/users").json()
    assert [(u["username"], u["role"]) for u in users] == [
        ("otto", "operator"),
        ("sue", "supervisor"),
    ]
