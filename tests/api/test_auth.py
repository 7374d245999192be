"""Sign-in, sessions and roles: who may read, who may change the world."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import COOKIE
from contract.decisions import Decision
from contract.profiles import MeterProfile
from meters.clock import wall_clock_ms
from meters.registry import Registry
from meters.views import Actor
from telemetry import SqliteTelemetryStore
from tests.api.conftest import PASSWORD, Clock, add_user, api_context, bearer
from tests.conftest import sqlite_registry

NOW = 1_790_000_000_000
PUBLIC = {
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/logout"),
    # the applicant's one-form application: no account, limited per address and phone
    # (tests/api/test_applicant_pages.py)
    ("POST", "/api/v1/public/applications"),
}


@dataclass
class Api:
    client: TestClient
    registry: Registry
    clock: Clock


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    registry = sqlite_registry(tmp_path)
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    registry.meters.provision([MeterProfile("M1")], NOW)
    registry.alarms.record(Decision(NOW, "M1", "micro_flow", "shutoff", {}), NOW)
    for name, role in [("vera", "viewer"), ("otto", "operator"), ("sam", "supervisor")]:
        add_user(registry, name, role, NOW)
    clock = Clock(NOW)
    with TestClient(create_app(api_context(registry, store, clock))) as client:
        yield Api(client, registry, clock)
    store.close()


def changing_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every state-changing route in the OpenAPI document (with sample ids in the path)."""
    routes = []
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        for method in operations:
            method = method.upper()
            if method in ("GET", "HEAD", "OPTIONS") or (method, path) in PUBLIC:
                continue
            sample = path.replace("{alarm_id}", "1").replace("{meter_id}", "M1")
            routes.append((method, sample.replace("{command_id}", "c1")))
    return routes


def test_a_right_password_gets_a_token_and_a_wrong_one_is_refused_and_audited(api: Api) -> None:
    client = api.client
    good = client.post("/api/v1/auth/token", data={"username": "otto", "password": PASSWORD})
    assert good.status_code == 200
    assert (good.json()["token_type"], good.json()["role"]) == ("bearer", "operator")
    assert COOKIE in good.cookies
    bad = client.post("/api/v1/auth/token", data={"username": "otto", "password": "nope"})
    nobody = client.post("/api/v1/auth/token", data={"username": "eve", "password": "x"})
    assert bad.status_code == nobody.status_code == 401
    actions = [(e.action, e.actor) for e in api.registry.audit.entries()]
    assert actions[:3] == [
        ("auth.refused", "eve"),
        ("auth.refused", "otto"),
        ("auth.sign_in", "otto"),
    ]


def test_reads_need_a_signed_in_user_and_health_does_not(api: Api) -> None:
    client = api.client
    client.cookies.clear()
    assert client.get("/api/v1/health").status_code == 200
    for path in ("/api/v1/meters", "/api/v1/alarms", "/api/v1/overview", "/api/v1/dead-letters"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
        assert client.get(path, headers=bearer(client, "vera")).status_code == 200, path


def test_every_state_changing_route_refuses_anonymous_callers_and_viewers(api: Api) -> None:
    client = api.client
    routes = changing_routes(client)
    assert ("POST", "/api/v1/alarms/1/ack") in routes  # the walk found the routes
    viewer = bearer(client, "vera")
    for method, path in routes:
        assert client.request(method, path, json={}).status_code == 401, (method, path)
        refused = client.request(method, path, json={}, headers=viewer)
        assert refused.status_code == 403, (method, path)
    assert api.registry.alarms.get(1).state == "active"


def test_an_expired_token_or_a_disabled_account_is_refused(api: Api) -> None:
    client = api.client
    headers = bearer(client, "otto")
    assert client.get("/api/v1/alarms", headers=headers).status_code == 200
    api.clock.now_ms += 1801 * 1000
    assert client.get("/api/v1/alarms", headers=headers).status_code == 401
    fresh = bearer(client, "otto")
    api.registry.accounts.set_disabled("otto", True)
    assert client.get("/api/v1/alarms", headers=fresh).status_code == 401
    assert (
        client.post(
            "/api/v1/auth/token", data={"username": "otto", "password": PASSWORD}
        ).status_code
        == 401
    )


def test_a_forged_token_is_refused(api: Api) -> None:
    import jwt

    forged = jwt.encode({"sub": "sam", "iat": NOW // 1000, "exp": NOW // 1000 + 60}, "guess" * 8)
    response = api.client.get("/api/v1/alarms", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


def test_the_dashboard_cookie_signs_in_and_is_renewed_past_half_its_life(api: Api) -> None:
    client = api.client
    client.post("/api/v1/auth/token", data={"username": "vera", "password": PASSWORD})
    first = client.cookies[COOKIE]
    assert client.get("/api/v1/alarms").status_code == 200
    api.clock.now_ms += 1000 * 1000  # past half of 1800 s
    renewed = client.get("/api/v1/alarms")
    assert renewed.status_code == 200
    assert COOKIE in renewed.cookies and client.cookies[COOKIE] != first
    api.clock.now_ms += 1000 * 1000  # the old token has expired; the renewed one has not
    assert client.get("/api/v1/alarms").status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 403  # no Origin: refused
    client.post("/api/v1/auth/logout", headers={"Origin": "http://testserver"})
    assert client.get("/api/v1/alarms").status_code == 401


def csrf_client(api: Api) -> tuple[TestClient, int]:
    """Signed in by cookie, as the dashboard is, with an open alarm to act on."""
    alarm, _ = api.registry.alarms.record(Decision(NOW, "CS1", "tamper", "alarm", {}), NOW)
    api.registry.accounts.add("opal", PASSWORD, "operator", NOW)
    api.client.post("/api/v1/auth/token", data={"username": "opal", "password": PASSWORD})
    return api.client, alarm.id


@pytest.mark.parametrize(
    "origin",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://testserver:8081"},  # another port of the same host: same site
        {"Origin": "http://sub.testserver"},  # a sibling subdomain
        {"Referer": "http://evil.example/page"},
        {},  # no origin at all
        {"Origin": "null"},
    ],
)
def test_a_cookie_authenticated_change_from_another_origin_is_refused_before_the_route(
    api: Api, origin: dict[str, str]
) -> None:
    """Before: the cookie was accepted from any origin; a cross-site POST reached the
    route (a 422 only because its body was not JSON)."""
    client, alarm_id = csrf_client(api)
    answer = client.post(f"/api/v1/alarms/{alarm_id}/ack", json={"note": "x"}, headers=origin)
    assert answer.status_code == 403 and "cross-site" in answer.json()["detail"]
    assert api.registry.alarms.get(alarm_id).state == "active"
    own = {"Origin": "http://testserver"}
    same = client.post(f"/api/v1/alarms/{alarm_id}/ack", json={"note": "x"}, headers=own)
    assert same.status_code == 200 and api.registry.alarms.get(alarm_id).state == "acknowledged"


def test_a_bearer_token_needs_no_origin_and_a_body_must_be_json(api: Api) -> None:
    alarm, _ = api.registry.alarms.record(Decision(NOW, "M1", "tamper", "alarm", {}), NOW)
    headers = bearer(api.client, "otto")
    api.client.cookies.clear()
    form = api.client.post(
        f"/api/v1/alarms/{alarm.id}/ack",
        content=b"note=x",
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 415 and api.registry.alarms.get(alarm.id).state == "active"
    text = api.client.post(
        f"/api/v1/alarms/{alarm.id}/ack",
        content=b'{"note": "x"}',
        headers={**headers, "Content-Type": "text/plain"},
    )
    assert text.status_code == 415
    ok = api.client.post(f"/api/v1/alarms/{alarm.id}/ack", json={"note": "x"}, headers=headers)
    assert ok.status_code == 200


def test_role_changes_apply_at_once_and_me_says_who(api: Api) -> None:
    headers = bearer(api.client, "sam")
    me = api.client.get("/api/v1/auth/me", headers=headers).json()
    assert (me["username"], me["role"]) == ("sam", "supervisor")


def test_sign_out_a_password_change_disable_and_an_admins_order_revoke_tokens_at_once(
    api: Api,
) -> None:
    """Before: sign-out only deleted the cookie, a password change left old tokens valid,
    and a stolen token lived until it expired."""
    client, accounts = api.client, api.registry.accounts

    def works(headers: dict[str, str]) -> bool:
        return client.get("/api/v1/alarms", headers=headers).status_code == 200

    stolen = bearer(client, "otto")
    assert works(stolen)
    assert client.post("/api/v1/auth/logout", headers=stolen).status_code == 204
    assert not works(stolen)  # the same token, replayed after sign-out
    assert api.registry.audit.entries()[0].action == "auth.sign_out"

    before = bearer(client, "otto")
    accounts.set_password("otto", "a new password 2026")
    assert not works(before)

    add_user(api.registry, "ada", "admin", NOW)
    admin = bearer(client, "ada")
    victim = bearer(client, "vera")
    answer = client.post("/api/v1/users/vera/sign-out", headers=victim)
    assert answer.status_code == 403  # a viewer may not
    assert client.post("/api/v1/users/vera/sign-out", headers=admin).status_code == 204
    assert not works(victim)
    entry = api.registry.audit.entries()[0]
    assert (entry.action, entry.actor, entry.target) == (
        "user.sign_out_everywhere",
        "ada",
        "user:vera",
    )
    assert client.post("/api/v1/users/nobody/sign-out", headers=admin).status_code == 404

    fresh = bearer(client, "vera")
    assert works(fresh)
    accounts.set_disabled("vera", True)
    accounts.set_disabled("vera", False)
    assert not works(fresh)  # re-enabling does not bring old sessions back


def test_the_live_feed_closes_when_its_session_is_revoked(tmp_path: Path) -> None:
    import threading

    import httpx

    from tests.api.conftest import LiveApi

    registry = sqlite_registry(tmp_path)
    add_user(registry, "vera", "viewer", NOW)
    live = LiveApi(registry, tmp_path)
    try:
        with httpx.Client(base_url=live.url, timeout=10) as client:
            token = client.post(
                "/auth/token", data={"username": "vera", "password": PASSWORD}
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            lines: list[str] = []
            done = threading.Event()

            def read() -> None:
                with client.stream("GET", "/feed", headers=headers) as stream:
                    for line in stream.iter_lines():
                        lines.append(line)
                done.set()

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
            time_waited = 0.0
            while not lines and time_waited < 5:
                done.wait(0.1)
                time_waited += 0.1
            registry.accounts.sign_out("vera", Actor("ada", "admin", "test"), wall_clock_ms())
            assert done.wait(5), "the feed stayed open after its session was revoked"
            assert "event: signed_out" in lines
    finally:
        live.stop()


def test_password_guessing_is_locked_out_across_api_processes_and_an_admin_unlocks(
    api: Api, tmp_path: Path
) -> None:
    """Before: unlimited guesses, each costing 64 MiB and ~50 ms of argon2 and writing an
    audit row."""
    client = api.client

    def sign_in(password: str, username: str = "otto") -> int:
        form = {"username": username, "password": password}
        return client.post("/api/v1/auth/token", data=form).status_code

    audit_before = len(api.registry.audit.entries(limit=1000))
    assert [sign_in(f"guess {i}") for i in range(5)] == [401] * 5
    assert sign_in("guess 5") == 401  # the sixth failure locks the account
    locked = client.post("/api/v1/auth/token", data={"username": "otto", "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 1
    assert "try again in" in locked.json()["detail"]
    rows = api.registry.audit.entries(limit=1000)[
        : len(api.registry.audit.entries(limit=1000)) - audit_before
    ]
    assert [r.action for r in rows] == ["auth.locked", "auth.refused"]  # not one per guess
    # another API process on the same registry knows the lock
    other = TestClient(
        create_app(
            api_context(api.registry, SqliteTelemetryStore(tmp_path / "other.sqlite3"), api.clock)
        )
    )
    assert (
        other.post(
            "/api/v1/auth/token", data={"username": "otto", "password": PASSWORD}
        ).status_code
        == 429
    )
    add_user(api.registry, "ada", "admin", NOW)
    admin = bearer(client, "ada")
    assert client.post("/api/v1/users/otto/unlock", headers=admin).status_code == 204
    assert api.registry.audit.entries()[0].action == "user.unlock"
    assert sign_in(PASSWORD) == 200
    api.clock.now_ms += 16 * 60_000  # and a lock ends by itself
    assert [sign_in(f"again {i}") for i in range(6)] == [401] * 6
    api.clock.now_ms += 31_000
    assert sign_in(PASSWORD) == 200


def test_one_address_guessing_many_accounts_is_locked(api: Api) -> None:
    codes = [
        api.client.post(
            "/api/v1/auth/token", data={"username": f"user{i}", "password": "x" * 12}
        ).status_code
        for i in range(22)
    ]
    assert codes[:21] == [401] * 21 and codes[21] == 429  # 20 free for an address


def test_password_hashing_is_capped_so_a_burst_cannot_stall_the_api(tmp_path: Path) -> None:
    import threading

    registry = sqlite_registry(tmp_path)
    add_user(registry, "otto", "operator", NOW)
    slots = threading.BoundedSemaphore(1)
    store = SqliteTelemetryStore(tmp_path / "t.sqlite3")
    context = api_context(registry, store, lambda: NOW, hashing=slots, hashing_wait_s=0.1)
    with TestClient(create_app(context)) as client:
        form = {"username": "otto", "password": PASSWORD}
        assert slots.acquire(timeout=1)  # every slot busy hashing
        try:
            busy = client.post("/api/v1/auth/token", data=form)
        finally:
            slots.release()
        assert busy.status_code == 503 and "busy" in busy.json()["detail"]
        assert client.post("/api/v1/auth/token", data=form).status_code == 200
    store.close()
