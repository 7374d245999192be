"""Acknowledgement by the link in a notification, through the API: opening it changes
nothing; its button acknowledges once, as the person it names, audited; a second use,
an expired or forged link, or an account that may not acknowledge are refused. On
SQLite and PostgreSQL, with eight requests racing to use one link."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from contract.decisions import Decision
from contract.profiles import MeterProfile
from meters.registry import Registry
from notify.links import AckClaim, sign_link
from telemetry import SqliteTelemetryStore
from tests.api.conftest import add_user, api_context

NOW = 1_790_000_000_000
SECRET = "link-secret"


def client_for(registry: Registry, folder: Path, secret: str = SECRET) -> TestClient:
    store = SqliteTelemetryStore(folder / "telemetry.sqlite3")
    return TestClient(create_app(api_context(registry, store, lambda: NOW, ack_link_secret=secret)))


def setup(registry: Registry) -> int:
    registry.meters.provision([MeterProfile("M1")], NOW)
    add_user(registry, "li", "operator", NOW)
    add_user(registry, "vera", "viewer", NOW)
    alarm, _ = registry.alarms.record(Decision(NOW, "M1", "leak_detector", "shutoff"), NOW)
    return alarm.id


def link(
    alarm_id: int, user: str = "li", expires_ms: int = NOW + 60_000, nonce: str = "a" * 32
) -> str:
    return "/api/v1/ack-links/" + sign_link(SECRET, AckClaim(alarm_id, user, expires_ms, nonce))


def test_a_link_shows_then_acknowledges_once_as_its_person(
    registry: Registry, tmp_path: Path
) -> None:
    alarm_id = setup(registry)
    with client_for(registry, tmp_path) as client:
        url = link(alarm_id)
        shown = client.get(url)
        assert shown.status_code == 200 and "leak_detector" in shown.text and "<form" in shown.text
        assert registry.alarms.get(alarm_id).state == "active"  # opening it changed nothing
        used = client.post(url)
        assert used.status_code == 200 and "acknowledged by li" in used.text
        alarm = registry.alarms.get(alarm_id)
        assert (alarm.state, alarm.acknowledged_by) == ("acknowledged", "li")
        again = client.post(url)
        assert again.status_code == 409 and "used already" in again.text
        assert client.post(link(alarm_id, expires_ms=NOW - 1, nonce="b" * 32)).status_code == 410
        forged = url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB")
        assert client.post(forged).status_code == 400
        assert client.post(link(alarm_id, user="vera", nonce="c" * 32)).status_code == 403
        assert client.post(link(alarm_id, user="nobody", nonce="d" * 32)).status_code == 403
    actions = [(e.action, e.actor, e.source) for e in registry.audit.entries(limit=20)]
    assert ("alarm.acknowledge", "li", "link testclient") in actions
    assert ("alarm.acknowledge.refused", "li", "link testclient") in actions


def test_eight_requests_racing_to_use_one_link_acknowledge_once(
    registry: Registry, tmp_path: Path
) -> None:
    alarm_id = setup(registry)
    url = link(alarm_id, nonce="e" * 32)
    start = threading.Barrier(8)
    with client_for(registry, tmp_path) as client:

        def use() -> int:
            start.wait()
            return client.post(url).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = sorted(pool.map(lambda _i: use(), range(8)))
    assert statuses == [200] + [409] * 7
    acknowledged = [e for e in registry.audit.entries(limit=50) if e.action == "alarm.acknowledge"]
    assert len(acknowledged) == 1


def test_no_link_secret_no_links(tmp_path: Path, registry: Registry) -> None:
    alarm_id = setup(registry)
    with client_for(registry, tmp_path, secret="") as client:
        assert client.get(link(alarm_id)).status_code == 404
        assert client.post(link(alarm_id)).status_code == 404
    assert registry.alarms.get(alarm_id).state == "active"
