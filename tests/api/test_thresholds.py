"""A meter's firmware thresholds through the API: what it should hold and what it
confirmed (viewer), its own thresholds and their download (supervisor), each audited; a
threshold that cannot be one is a 422 naming it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from contract.profiles import MeterProfile
from contract.protocol import CommandReply
from contract.signing import sign_reply
from contract.thresholds import Thresholds
from devices.profiles import BUILT_IN
from meters.registry import Registry
from meters.views import Actor
from telemetry import SqliteTelemetryStore
from tests.api.conftest import add_user, api_context, bearer
from tests.conftest import sqlite_registry

NOW = 1_790_000_000_000
PROFILE = Thresholds(micro_flow_m3h=0.02, micro_flow_min=240)
SAM = Actor("sam", "supervisor", "test")


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("M1")], NOW)
    for name, role in [("otto", "operator"), ("sam", "supervisor"), ("vera", "viewer")]:
        add_user(registry, name, role, NOW)
    return registry


@pytest.fixture
def client(registry: Registry, tmp_path: Path) -> Iterator[TestClient]:
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    json_profile = dataclasses.replace(BUILT_IN["gasguard-json"], thresholds=PROFILE)
    profiles = {**BUILT_IN, "gasguard-json": json_profile}
    context = api_context(registry, store, lambda: NOW, device_profiles=profiles)
    with TestClient(create_app(context)) as client:
        yield client
    store.close()


def test_a_supervisor_sets_and_sends_thresholds_and_the_meters_done_records_them(
    client: TestClient, registry: Registry
) -> None:
    vera, otto, sam = (bearer(client, name) for name in ("vera", "otto", "sam"))
    status = client.get("/api/v1/meters/M1/thresholds", headers=vera).json()
    assert status["configured"] == {"micro_flow_m3h": 0.02, "micro_flow_min": 240}
    assert status["held"] is None and status["differs"] == ["micro_flow_m3h", "micro_flow_min"]
    body = {"thresholds": {"over_flow_m3h": 4, "micro_flow_m3h": None}, "reason": "small flat"}
    assert client.put("/api/v1/meters/M1/thresholds", json=body, headers=otto).status_code == 403
    changed = client.put("/api/v1/meters/M1/thresholds", json=body, headers=sam)
    assert changed.status_code == 200, changed.text
    assert changed.json()["configured"] == {
        "micro_flow_m3h": 0.02,
        "micro_flow_min": 240,
        "over_flow_m3h": 4.0,
    }
    sent = client.post("/api/v1/meters/M1/thresholds/send", json={"reason": "fit"}, headers=sam)
    assert sent.status_code == 202, sent.text
    command = sent.json()
    assert command["action"] == "params" and command["state"] == "queued"
    assert command["params"] == '{"micro_flow_m3h":0.02,"micro_flow_min":240,"over_flow_m3h":4.0}'
    key = registry.commands.meter_keys(["M1"])["M1"]
    registry.commands.mark_published(command["id"], NOW + 1, NOW + 20_000, None, None)
    reply = sign_reply(key, CommandReply(command["id"], "M1", "done", NOW + 5, "open"))
    assert registry.commands.apply_reply(reply, NOW + 6)[0] == "applied"
    assert registry.commands.get(command["id"]).state == "succeeded"
    status = client.get("/api/v1/meters/M1/thresholds", headers=vera).json()
    assert status["held"] == status["configured"] and status["differs"] == []
    assert status["confirmed_ms"] == NOW + 5 and status["download"]["id"] == command["id"]
    audit = client.get("/api/v1/audit", headers=sam).json()
    actions = [entry["action"] for entry in audit]
    assert "meter.thresholds" in actions and "command.params" in actions


def test_a_bad_threshold_is_a_422_naming_it_and_changes_nothing(
    client: TestClient, registry: Registry
) -> None:
    sam = bearer(client, "sam")
    body = {"thresholds": {"prolonged_use_min": 90.5}, "reason": "typo"}
    refused = client.put("/api/v1/meters/M1/thresholds", json=body, headers=sam)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "thresholds.prolonged_use_min"]
    unknown = {"thresholds": {"leak": 1}, "reason": "typo"}
    refused = client.put("/api/v1/meters/M1/thresholds", json=unknown, headers=sam)
    assert refused.status_code == 422 and "leak" in refused.text
    assert registry.meters.get("M1").thresholds is None


def test_nothing_configured_or_a_different_download_in_flight_is_a_409(
    client: TestClient, registry: Registry, tmp_path: Path
) -> None:
    sam = bearer(client, "sam")
    body = {"thresholds": {"over_flow_m3h": 4}, "reason": "first"}
    client.put("/api/v1/meters/M1/thresholds", json=body, headers=sam)
    first = client.post(
        "/api/v1/meters/M1/thresholds/send", json={"reason": "first fit"}, headers=sam
    )
    again = client.post("/api/v1/meters/M1/thresholds/send", json={"reason": "again"}, headers=sam)
    assert again.status_code == 202, again.text
    assert again.json()["id"] == first.json()["id"]  # the same thresholds: it joins
    body = {"thresholds": {"over_flow_m3h": 5}, "reason": "second thoughts"}
    client.put("/api/v1/meters/M1/thresholds", json=body, headers=sam)
    other = client.post(
        "/api/v1/meters/M1/thresholds/send", json={"reason": "new fit"}, headers=sam
    )
    assert other.status_code == 409 and first.json()["id"] in other.text
    store = SqliteTelemetryStore(tmp_path / "bare.sqlite3")
    bare = api_context(registry, store, lambda: NOW)  # built-in profiles: none configured
    with TestClient(create_app(bare)) as plain:
        registry.meters.set_thresholds("M1", Thresholds(), SAM, "clear", NOW)
        sam = bearer(plain, "sam")
        empty = plain.post(
            "/api/v1/meters/M1/thresholds/send", json={"reason": "empty"}, headers=sam
        )
        assert empty.status_code == 409 and "nothing to send" in empty.text
    store.close()
