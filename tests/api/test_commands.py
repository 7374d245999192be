"""Valve commands through the API: who may close, arm and open, and never an open after
a safety closure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from contract.profiles import MeterProfile
from contract.protocol import CommandReply
from contract.readings import Reading
from contract.signing import sign_reply
from meters.registry import MeterSighting, Registry
from telemetry import SqliteTelemetryStore
from tests.api.conftest import add_user, api_context, bearer
from tests.conftest import sqlite_registry

NOW = 1_790_000_000_000


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("M1"), MeterProfile("M2")], NOW)
    for name, role in [("otto", "operator"), ("sam", "supervisor"), ("vera", "viewer")]:
        add_user(registry, name, role, NOW)
    return registry


@pytest.fixture
def client(registry: Registry, tmp_path: Path) -> Iterator[TestClient]:
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    with TestClient(create_app(api_context(registry, store, lambda: NOW))) as client:
        yield client
    store.close()


def settle(registry: Registry, command_id: str, meter_id: str, valve: str) -> None:
    """The meter does it and says so, and its telemetry agrees."""
    key = registry.commands.meter_keys([meter_id])[meter_id]
    reply = sign_reply(key, CommandReply(command_id, meter_id, "done", NOW + 10, valve))
    registry.commands.apply_reply(reply, NOW + 11)
    registry.meters.record_sightings({meter_id: MeterSighting(NOW + 12, NOW + 12, valve)})
    registry.commands.confirm_from_telemetry(NOW + 13)


def test_an_operator_closes_with_a_reason_and_it_is_audited(
    client: TestClient, registry: Registry
) -> None:
    otto = bearer(client, "otto")
    response = client.post(
        "/api/v1/meters/M1/commands",
        json={"action": "close", "reason": "smell of gas"},
        headers=otto,
    )
    assert response.status_code == 202
    body = response.json()
    assert (body["state"], body["requested_by"], body["counter"]) == ("queued", "otto", 1)
    assert "secret" not in response.text and "sig" not in body
    entry = registry.audit.entries()[0]
    assert (entry.action, entry.actor, entry.reason, entry.source) == (
        "command.close",
        "otto",
        "smell of gas",
        "testclient",
    )
    followed = client.get(f"/api/v1/commands/{body['id']}", headers=otto).json()
    assert followed["id"] == body["id"]
    again = client.post(
        "/api/v1/meters/M1/commands", json={"action": "close", "reason": "again"}, headers=otto
    )
    assert again.json()["id"] == body["id"]  # joined, not duplicated


def test_a_reason_is_required_and_unknown_meters_are_404(client: TestClient) -> None:
    otto = bearer(client, "otto")
    missing = client.post("/api/v1/meters/M1/commands", json={"action": "close"}, headers=otto)
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "reason"]
    bad = client.post(
        "/api/v1/meters/M1/commands", json={"action": "explode", "reason": "x" * 5}, headers=otto
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "action"]
    nobody = client.post(
        "/api/v1/meters/NOPE/commands", json={"action": "close", "reason": "xyz"}, headers=otto
    )
    assert nobody.status_code == 404


def test_a_safety_closure_is_never_opened_remotely_only_armed(
    client: TestClient, registry: Registry
) -> None:
    otto, sam = bearer(client, "otto"), bearer(client, "sam")
    closed = client.post(
        "/api/v1/meters/M1/commands", json={"action": "close", "reason": "leak"}, headers=otto
    ).json()
    settle(registry, closed["id"], "M1", "closed")
    assert registry.meters.get("M1").closures == ("safety",)
    open_by_operator = {"action": "open", "reason": "customer asks"}
    refused = client.post("/api/v1/meters/M1/commands", json=open_by_operator, headers=otto)
    assert refused.status_code == 403
    refused = client.post("/api/v1/meters/M1/commands", json=open_by_operator, headers=sam)
    assert refused.status_code == 409 and "never opened remotely" in refused.json()["detail"]
    armed = client.post(
        "/api/v1/meters/M1/commands", json={"action": "arm", "reason": "checked"}, headers=otto
    )
    assert armed.status_code == 202 and armed.json()["action"] == "arm"


def test_a_billing_closure_may_be_opened_by_a_supervisor(
    client: TestClient, registry: Registry
) -> None:
    otto, sam = bearer(client, "otto"), bearer(client, "sam")
    closed = client.post(
        "/api/v1/meters/M2/commands",
        json={"action": "close", "reason": "unpaid", "closure": "billing"},
        headers=otto,
    ).json()
    settle(registry, closed["id"], "M2", "closed")
    opened = client.post(
        "/api/v1/meters/M2/commands", json={"action": "open", "reason": "paid"}, headers=sam
    )
    assert opened.status_code == 202
    settle(registry, opened.json()["id"], "M2", "open")
    assert registry.meters.get("M2").closures == ()


def test_a_billing_close_after_a_leak_shutoff_does_not_make_the_valve_openable(
    client: TestClient, registry: Registry
) -> None:
    """The issue's sequence through the API: the leak's safety close is confirmed, an
    operator sends a billing close (confirmed at once), a supervisor's open is refused."""
    from meters.command_store import NewCommand
    from meters.views import SAFETY_ACTOR

    otto, sam = bearer(client, "otto"), bearer(client, "sam")
    leak, _ = registry.commands.create(
        NewCommand("M1", "close", "leak_detector (alarm 1)"), SAFETY_ACTOR, NOW, 3_600_000
    )
    settle(registry, leak.id, "M1", "closed")
    billing = client.post(
        "/api/v1/meters/M1/commands",
        json={"action": "close", "reason": "unpaid", "closure": "billing"},
        headers=otto,
    ).json()
    settle(registry, billing["id"], "M1", "closed")
    meter = client.get("/api/v1/meters/M1", headers=otto).json()
    assert meter["closures"] == ["billing", "safety"]
    refused = client.post(
        "/api/v1/meters/M1/commands", json={"action": "open", "reason": "paid"}, headers=sam
    )
    assert refused.status_code == 409 and "closed for safety" in refused.json()["detail"]
    entry = registry.audit.entries()[0]
    assert (entry.action, entry.actor, entry.target) == ("command.open.refused", "sam", "meter:M1")
    by_role = client.post(
        "/api/v1/meters/M1/commands", json={"action": "open", "reason": "paid"}, headers=otto
    )
    assert by_role.status_code == 403
    assert registry.audit.entries()[0].detail["role"] == "operator"


def test_a_command_to_a_sleeping_meter_waits_for_its_wake_up_and_says_when(
    registry: Registry, tmp_path: Path
) -> None:
    """A meter of the built-in gasguard-json-wakes profile last heard an hour ago: the
    close lives 48 h (the profile's), waits for its uplink (not due before it expires)
    and gives the expected wake-up, a day after the last one. An NB-IoT meter of a
    platform's profile is handed over at once (due now) with its wake-up."""
    registry.meters.provision(
        [
            MeterProfile("SL1", device_profile="gasguard-json-wakes"),
            MeterProfile("868000000000009", device_profile="onenet"),
        ],
        NOW,
    )
    seen = NOW - 3_600_000
    registry.meters.record_sightings({"SL1": MeterSighting(seen, seen, "open")})
    store = SqliteTelemetryStore(tmp_path / "t.sqlite3")
    with TestClient(create_app(api_context(registry, store, lambda: NOW))) as client:
        otto = bearer(client, "otto")
        held = client.post(
            "/api/v1/meters/SL1/commands", json={"action": "close", "reason": "leak"}, headers=otto
        ).json()
        handed = client.post(
            "/api/v1/meters/868000000000009/commands",
            json={"action": "close", "reason": "leak"},
            headers=otto,
        ).json()
    store.close()
    day = 86_400_000
    assert (held["state"], held["wake_expected_ms"]) == ("queued", seen + day)
    assert held["expires_ms"] == NOW + 2 * day
    assert held["next_attempt_ms"] == held["expires_ms"]  # the uplink sends it, not a timer
    assert handed["next_attempt_ms"] == NOW and handed["wake_expected_ms"] == NOW + day
    due = {c.meter_id for c in registry.commands.due(NOW, NOW)}
    assert due == {"868000000000009"}


def test_a_supervisor_imports_a_delivery_file_and_an_operator_may_not(
    client: TestClient, registry: Registry
) -> None:
    delivery = b"meter_id,model,profile,imei\nNB0001,G2.5,onenet,868000000000001\n"
    files = {"file": ("delivery.csv", delivery, "text/csv")}
    otto, sam = bearer(client, "otto"), bearer(client, "sam")
    assert client.post("/api/v1/meters/import", files=files, headers=otto).status_code == 403
    dry = client.post("/api/v1/meters/import?dry_run=true", files=files, headers=sam)
    assert (dry.status_code, dry.json()["created"], dry.json()["dry_run"]) == (
        200,
        ["NB0001"],
        True,
    )
    done = client.post("/api/v1/meters/import", files=files, headers=sam).json()
    assert done["created"] == ["NB0001"] and registry.meters.get("NB0001").imei == "868000000000001"
    twice = client.post("/api/v1/meters/import", files=files, headers=sam).json()
    assert (twice["created"], twice["unchanged"]) == ([], ["NB0001"])
    bad = {"file": ("d.csv", b"meter_id,model,profile,imei\nNB0002,G9,onenet,868000000000019\n")}
    refused = client.post("/api/v1/meters/import", files=bad, headers=sam)
    assert refused.status_code == 422
    assert refused.json()["detail"]["errors"] == [
        "line 2, model: 'G9' is not a model of the rules (G1.6, G10, G16, G2.5, G25, G4, G6)"
    ]
    broken = {"file": ("d.xlsx", b"not a workbook")}
    assert client.post("/api/v1/meters/import", files=broken, headers=sam).status_code == 422
    (entry,) = [e for e in registry.audit.entries() if e.action == "meter.import"]
    assert (entry.actor, entry.target) == ("sam", "meter:NB0001")


def test_a_meters_consumption_by_day_as_json_and_csv_for_billing(
    registry: Registry, tmp_path: Path
) -> None:
    store = SqliteTelemetryStore(tmp_path / "c.sqlite3")
    hour = 3_600_000
    store.write([Reading("M1", NOW - 30 * hour + i * hour, 10 + i * 0.2) for i in range(30)])
    with TestClient(create_app(api_context(registry, store, lambda: NOW))) as client:
        vera = bearer(client, "vera")  # a viewer may read it
        days = client.get("/api/v1/meters/M1/consumption", headers=vera).json()
        assert sum(d["volume_m3"] for d in days) == pytest.approx(29 * 0.2)
        assert all(d["left_out"] == 0 for d in days) and len(days) == 2
        csv = client.get("/api/v1/meters/M1/consumption?format=csv", headers=vera)
        assert csv.headers["content-type"].startswith("text/csv")
        assert csv.text.splitlines()[0] == "meter_id,period,volume_m3,readings,left_out"
        months = client.get("/api/v1/meters/M1/consumption?by=month", headers=vera).json()
        assert [m["period"] for m in months] == ["2026-09"]
        wide = client.get(
            "/api/v1/meters/M1/consumption",
            params={"start": NOW - 40 * 86_400_000, "end": NOW},
            headers=vera,
        )
        assert wide.status_code == 422 and "31 days" in wide.text
    store.close()


def test_a_meters_life_through_the_api_and_its_consumption_across_a_replacement(
    registry: Registry, tmp_path: Path
) -> None:
    """M1 (active) is replaced by NB9 from stock: an operator may not, a supervisor may;
    NB9's register starts at 0.5 where M1's ended at 12.0, and NB9's consumption counts
    M1's days before the swap and none for the swap itself."""
    hour = 3_600_000
    store = SqliteTelemetryStore(tmp_path / "c.sqlite3")
    store.write([Reading("M1", NOW - 48 * hour + i * hour, 10 + i * 0.05) for i in range(40)])
    delivery = b"meter_id,model,profile,imei\nNB9,G2.5,onenet,868000000000019\n"
    with TestClient(create_app(api_context(registry, store, lambda: NOW - 8 * hour))) as client:
        sam, otto = bearer(client, "sam"), bearer(client, "otto")
        files = {"file": ("d.csv", delivery)}
        assert client.post("/api/v1/meters/import", files=files, headers=sam).status_code == 200
        swap = {
            "step": "replace",
            "reason": "display broken",
            "register_m3": 11.95,
            "new_meter_id": "NB9",
            "new_register_m3": 0.5,
        }
        assert (
            client.post("/api/v1/meters/M1/lifecycle", json=swap, headers=otto).status_code == 403
        )
        done = client.post("/api/v1/meters/M1/lifecycle", json=swap, headers=sam)
        assert (done.status_code, done.json()["lifecycle"]) == (200, "replaced")
        again = client.post("/api/v1/meters/M1/lifecycle", json=swap, headers=sam)
        assert again.status_code == 409 and "cannot be replaced" in again.text
        nb9 = client.get("/api/v1/meters/NB9", headers=otto).json()
        assert (nb9["lifecycle"], nb9["replaces"], nb9["register_start_m3"]) == (
            "installed",
            "M1",
            0.5,
        )
    store.write([Reading("NB9", NOW - 7 * hour + i * hour, 0.5 + 0.05 * (i + 1)) for i in range(6)])
    with TestClient(create_app(api_context(registry, store, lambda: NOW))) as client:
        days = client.get("/api/v1/meters/NB9/consumption", headers=bearer(client, "otto")).json()
    used = sum(d["volume_m3"] for d in days)
    assert used == pytest.approx(39 * 0.05 + 0.05 * 6 + (11.95 - (10 + 39 * 0.05)))
    assert all(d["left_out"] == 0 for d in days)
    store.close()
