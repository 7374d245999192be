"""Connection applications through the API: the board, the changes, the public lookup."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from connections.policies import Policies, build_policies
from connections.query_codes import normalise
from connections.timelimits import LOCAL, Policy
from connections.workdays import WorkCalendar
from contract.profiles import MeterProfile
from contract.readings import Reading
from ingest.connection_watch import ConnectionWatch
from meters.registry import Registry
from telemetry import SqliteTelemetryStore
from tests.api.conftest import Clock, add_user, api_context, bearer
from tests.conftest import sqlite_registry
from tests.helpers import gas_on

DAY = 86_400_000
HOUR = 3_600_000
T0 = int(dt.datetime(2026, 3, 2, 9, 0, tzinfo=LOCAL).timestamp() * 1000)  # Monday 09:00
APPLICATION = {
    "policy": "guangzhou",
    "category": "none",
    "channel": "online",
    "applicant": "陈小姐",
    "phone": "13800138000",
    "address": "天河区 体育西路 1 号 1201",
    "district": "天河",
}


@dataclass
class Api:
    """Signed in afresh on every use: the tests move the clock by days (tokens live 30 min)."""

    client: TestClient
    registry: Registry
    clock: Clock
    store: SqliteTelemetryStore

    @property
    def operator(self) -> dict[str, str]:
        return bearer(self.client, "otto")

    @property
    def viewer(self) -> dict[str, str]:
        return bearer(self.client, "vera")


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("GZ1")], T0)
    add_user(registry, "otto", "operator", T0)
    add_user(registry, "vera", "viewer", T0)
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    clock = Clock(T0)
    with TestClient(create_app(api_context(registry, store, clock))) as client:
        yield Api(client, registry, clock, store)
    store.close()


def create(api: Api, **changes: object) -> dict[str, object]:
    response = api.client.post(
        "/api/v1/connections", json={**APPLICATION, **changes}, headers=api.operator
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_an_application_is_created_audited_and_watched_against_its_limit(api: Api) -> None:
    created = create(api)
    assert str(created["number"]).startswith("GU2026")
    deadline = int(dt.datetime(2026, 3, 6, tzinfo=LOCAL).timestamp() * 1000)
    assert created["time"] == {
        "used_days": 0.0,  # accepted Monday: counting starts on Tuesday
        "budget_days": 3,
        "left_days": 3.0,
        "share": 0.0,
        "state": "on_time",
        "unit": "natural",
        "deadline": "2026-03-05T24:00:00+08:00",
        "deadline_ms": deadline,
        "counted_from": "2026-03-03",
        "missing_year": None,
        "pauses_over_limit": [],
    }
    assert "connection.create" in [e.action for e in api.registry.audit.entries()]
    path = f"/api/v1/connections/{created['id']}"

    def state_at(now_ms: int) -> str:
        api.clock.now_ms = now_ms
        return str(api.client.get(path, headers=api.viewer).json()["time"]["state"])

    assert state_at(T0 + 3 * DAY) == "on_time"  # Thursday 09:00: 2.375 of 3 days used
    assert state_at(T0 + 3 * DAY + 3 * HOUR) == "warning"  # Thursday 12:00: 83 %
    assert state_at(deadline) == "warning"  # 24:00 is still the last day
    assert state_at(deadline + 1) == "overdue"


def test_the_board_lists_the_least_time_left_first(api: Api) -> None:
    b = create(api, category="B", pipe_length_m=350.0)
    none = create(api)
    api.clock.now_ms = T0 + DAY
    board = api.client.get("/api/v1/connections", headers=api.viewer).json()
    assert [a["id"] for a in board] == [none["id"], b["id"]]


def test_a_viewer_cannot_change_records_and_bad_fields_are_named(api: Api) -> None:
    refused = api.client.post("/api/v1/connections", json=APPLICATION, headers=api.viewer)
    assert refused.status_code == 403
    bad = api.client.post(
        "/api/v1/connections", json={**APPLICATION, "category": "C"}, headers=api.operator
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "category"]
    city = api.client.post(
        "/api/v1/connections", json={**APPLICATION, "policy": "atlantis"}, headers=api.operator
    )
    assert city.status_code == 422 and city.json()["detail"][0]["loc"] == ["body", "policy"]


def test_class_a_is_at_most_200_m_of_pipe_affecting_no_one_or_it_is_refused(api: Api) -> None:
    def refused(**changes: object) -> list[tuple[object, str]]:
        answer = api.client.post(
            "/api/v1/connections", json={**APPLICATION, **changes}, headers=api.operator
        )
        assert answer.status_code == 422, answer.text
        return [(d["loc"][-1], d["msg"]) for d in answer.json()["detail"]]

    ((field, why),) = refused(category="A", pipe_length_m=250, affects_others=False)
    assert field == "pipe_length_m" and "class B" in why and "200 m" in why
    assert [f for f, _ in refused(category="A", pipe_length_m=120, affects_others=True)] == [
        "affects_others"
    ]
    assert [f for f, _ in refused(category="A")] == ["pipe_length_m", "affects_others"]
    assert [f for f, _ in refused(category="B")] == ["pipe_length_m"]
    assert [f for f, _ in refused(category="none", pipe_length_m=30)] == ["pipe_length_m"]
    both = refused(category="A", pipe_length_m=300, affects_others=False, policy="atlantis")
    assert [f for f, _ in both] == ["policy", "pipe_length_m"]  # every field at fault named
    kept = create(api, category="A", pipe_length_m=200, affects_others=False)
    assert (kept["pipe_length_m"], kept["affects_others"]) == (200.0, False)
    assert api.registry.connections.get(int(str(kept["id"]))).pipe_length_m == 200.0


def test_lingbao_pauses_stop_the_clock_and_stages_are_recorded(api: Api) -> None:
    created = create(api, policy="lingbao", category="A", pipe_length_m=80.0, affects_others=False)
    path = f"/api/v1/connections/{created['id']}"
    api.clock.now_ms = T0 + DAY // 2  # Monday 21:00; counted from Monday 00:00
    design = {"reason": "design", "evidence": "设计委托单 D-2026-031"}
    paused = api.client.post(f"{path}/pause", json=design, headers=api.operator)
    assert paused.status_code == 200
    assert paused.json()["pauses"][0]["evidence"] == "设计委托单 D-2026-031"
    free_text = api.client.post(
        f"{path}/pause", json={"reason": "because", "evidence": "x" * 5}, headers=api.operator
    )
    assert free_text.status_code == 422 and free_text.json()["detail"][0]["loc"][-1] == "reason"
    bare = api.client.post(f"{path}/pause", json={"reason": "design"}, headers=api.operator)
    assert bare.status_code == 422 and bare.json()["detail"][0]["loc"][-1] == "evidence"
    again = api.client.post(f"{path}/pause", json=design, headers=api.operator)
    assert again.status_code == 409
    api.clock.now_ms = T0 + DAY + DAY // 2
    resumed = api.client.post(f"{path}/resume", headers=api.operator).json()
    assert resumed["time"]["used_days"] == 0.875  # the working day in design does not count
    assert resumed["time"]["deadline"] == "2026-03-04T24:00:00+08:00"  # moved by that day
    surveyed = api.client.post(f"{path}/surveyed", headers=api.operator).json()
    assert surveyed["surveyed_ms"] == T0 + DAY + DAY // 2
    unknown = api.client.post(f"{path}/commission", json={"meter_id": "NOPE"}, headers=api.operator)
    assert unknown.status_code == 404
    linked = api.client.post(f"{path}/commission", json={"meter_id": "GZ1"}, headers=api.operator)
    assert linked.json()["meter_id"] == "GZ1"
    meter = api.client.get("/api/v1/meters/GZ1", headers=api.viewer).json()
    assert meter["installed_ms"] == api.clock.now_ms  # installed when commissioned
    assert api.registry.connections.awaiting_gas_on() == {"GZ1"}
    late = api.registry.connections.first_flow({"GZ1": T0}, T0 + 2 * DAY)  # before commissioning
    assert late == [] and api.registry.connections.awaiting_gas_on() == {"GZ1"}
    flowed = api.registry.connections.first_flow({"GZ1": T0 + 2 * DAY}, T0 + 2 * DAY)
    assert flowed == []  # the meter's flow alone does not end the clock
    waiting = api.client.get(path, headers=api.viewer).json()
    assert (waiting["state"], waiting["first_flow_ms"], waiting["gas_on_ms"]) == (
        "open",
        T0 + 2 * DAY,
        None,
    )
    api.clock.now_ms = T0 + 2 * DAY + HOUR
    future = {"at_ms": T0 + 3 * DAY}
    refused = api.client.post(f"{path}/gas-on", json=future, headers=api.operator)
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "at_ms"]
    recorded = {"at_ms": T0 + 2 * DAY}
    assert api.client.post(f"{path}/gas-on", json=recorded, headers=api.viewer).status_code == 403
    assert api.client.post(f"{path}/gas-on", json=recorded, headers=api.operator).status_code == 200
    again = api.client.post(f"{path}/gas-on", json=recorded, headers=api.operator)
    assert again.status_code == 409
    done = api.client.get(path, headers=api.viewer).json()
    assert (done["state"], done["gas_on_ms"], done["time"]["state"]) == (
        "done",
        T0 + 2 * DAY,
        "done_in_time",
    )


def test_applicants_look_up_progress_with_the_number_and_the_receipts_code(api: Api) -> None:
    created = create(api)
    code = str(created["query_code"])
    assert normalise(code) is not None and len(code) == 14  # XXXX-XXXX-XXXX
    listed = api.client.get("/api/v1/connections", headers=api.viewer).json()
    assert listed[0]["query_code"] is None  # shown once, on the receipt; only a hash kept
    api.client.cookies.clear()
    query = {"number": created["number"], "code": code.lower().replace("-", " ")}
    found = api.client.get("/api/v1/public/progress", params=query)
    assert found.status_code == 200
    assert (found.json()["stage"], found.json()["state"]) == ("application", "on_time")
    assert found.json()["deadline"] == "2026-03-05T24:00:00+08:00"
    assert "phone" not in found.json() and "applicant" not in found.json()
    wrong = api.client.get("/api/v1/public/progress", params={**query, "code": "0" * 12})
    assert wrong.status_code == 404
    old_way = {"number": created["number"], "phone_last4": "8000"}
    refused = api.client.get("/api/v1/public/progress", params=old_way)
    assert refused.status_code == 422 and "code" in refused.text  # 10^4 guesses no more


def test_guesses_spread_over_many_addresses_stop_at_the_application(
    api: Api, tmp_path: Path
) -> None:
    """The number is sequential and was guarded by 4 phone digits and a per-process,
    per-address limiter: now each application and each address is limited in the
    registry, so a second API process (or a restart) knows the lock."""
    created = create(api)
    number, code = str(created["number"]), str(created["query_code"])
    app = api.client.app
    answers = []
    for n in range(6):
        with TestClient(app, client=(f"198.51.100.{n}", 40000)) as guesser:
            guess = {"number": number, "code": f"{n:012d}"}
            answers.append(guesser.get("/api/v1/public/progress", params=guess).status_code)
    assert answers == [404] * 6
    store = SqliteTelemetryStore(tmp_path / "second.sqlite3")
    restarted = create_app(api_context(api.registry, store, api.clock))
    with TestClient(restarted, client=("192.0.2.77", 40000)) as applicant:
        locked = applicant.get("/api/v1/public/progress", params={"number": number, "code": code})
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
        api.clock.now_ms += 31_000  # the first lock lasts 30 s
        opened = applicant.get("/api/v1/public/progress", params={"number": number, "code": code})
        assert opened.status_code == 200


def test_staff_issue_a_new_code_and_the_old_one_stops_working(api: Api) -> None:
    created = create(api)
    path = f"/api/v1/connections/{created['id']}/query-code"
    missing_reason = api.client.post(path, json={}, headers=api.operator)
    assert missing_reason.status_code == 422 and "reason" in missing_reason.text
    assert api.client.post(path, json={"reason": "lost"}, headers=api.viewer).status_code == 403
    issued = api.client.post(path, json={"reason": "receipt lost"}, headers=api.operator).json()
    assert issued["query_code"] != created["query_code"]
    lookup = "/api/v1/public/progress"
    old = {"number": created["number"], "code": created["query_code"]}
    assert api.client.get(lookup, params=old).status_code == 404
    new = {**old, "code": issued["query_code"]}
    assert api.client.get(lookup, params=new).status_code == 200
    audit = api.registry.audit.entries(0, 10)
    assert any(e.action == "connection.query_code" and e.reason == "receipt lost" for e in audit)


def test_flow_before_commissioning_is_flagged_and_raises_an_alarm(api: Api) -> None:
    """Gas through a meter before it is linked to its application: the utility let gas in
    outside the process. Commissioning records it; the watch raises it once."""
    created = create(api)
    api.store.write([Reading("GZ1", T0 + HOUR, 1.5, 0.4), Reading("GZ1", T0 + 2 * HOUR, 1.6)])
    api.clock.now_ms = T0 + DAY
    path = f"/api/v1/connections/{created['id']}"
    linked = api.client.post(f"{path}/commission", json={"meter_id": "GZ1"}, headers=api.operator)
    assert linked.json()["flow_before_commission_ms"] == T0 + HOUR
    assert linked.json()["commissioned_ms"] == T0 + DAY
    watch = ConnectionWatch(api.registry, Policies(WorkCalendar()), lambda: T0 + DAY)
    (alarm,) = watch.run(T0 + DAY)
    assert (alarm.rule, alarm.detail["flow_ms"]) == ("connection_early_flow", T0 + HOUR)
    assert watch.run(T0 + DAY + HOUR) == []


def test_fees_off_the_published_list_raise_an_alarm_at_once(api: Api, tmp_path: Path) -> None:
    """明码标价, 清单之外无收费: the city's list allows indoor installation up to 300 yuan;
    the application and gas-on are free."""
    listed = Policy("guangzhou", "natural", {"none": 3, "A": 5, "B": 8}, fee_list={"indoor": 300})
    policies = build_policies(WorkCalendar(), {"guangzhou": listed}, 0.8)
    context = api_context(api.registry, api.store, api.clock, policies=policies)
    with TestClient(create_app(context)) as client:
        operator = bearer(client, "otto")
        created = client.post("/api/v1/connections", json=APPLICATION, headers=operator).json()
        path = f"/api/v1/connections/{created['id']}/fees"
        fine = client.post(path, json={"item": "indoor", "amount": 300}, headers=operator)
        assert fine.status_code == 200 and fine.json()["fees"] == [
            {"item": "indoor", "amount": 300.0}
        ]
        assert api.registry.alarms.find(meter_id=str(created["number"])) == []  # on the list
        above = client.post(path, json={"item": "indoor", "amount": 350}, headers=operator)
        assert above.status_code == 200
        (alarm,) = api.registry.alarms.find(meter_id=str(created["number"]))
        assert alarm.rule == "connection_fee" and "published price of 300" in str(alarm.detail)
        off = client.post(path, json={"item": "survey", "amount": 80}, headers=operator)
        assert off.status_code == 200
        (alarm,) = api.registry.alarms.find(meter_id=str(created["number"]))
        assert [f["item"] for f in alarm.detail["fees"]] == ["indoor", "survey"]
        assert alarm.repeat_count == 2
        bad = client.post(path, json={"item": "Survey Fee", "amount": 80}, headers=operator)
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "item"]
        viewer = bearer(client, "vera")
        assert (
            client.post(path, json={"item": "indoor", "amount": 1}, headers=viewer).status_code
            == 403
        )
        charged = client.post(
            "/api/v1/connections", json={**APPLICATION, "fee_gas_on": 20}, headers=operator
        ).json()
        (free,) = api.registry.alarms.find(meter_id=str(charged["number"]))
        assert "gas_on is free" in str(free.detail)
    actions = [e.action for e in api.registry.audit.entries()]
    assert actions.count("connection.fee") == 3


def test_an_application_accepted_with_documents_missing_tracks_them(api: Api) -> None:
    """容缺受理: accepted with the property certificate missing, due in three days; the
    reminder comes a day before, the alarm once they are late, and handing them in
    completes the record."""
    missing = {"missing_documents": ["房产证 property certificate"]}
    no_date = api.client.post(
        "/api/v1/connections", json={**APPLICATION, **missing}, headers=api.operator
    )
    assert no_date.status_code == 422
    assert no_date.json()["detail"][0]["loc"] == ["body", "documents_due_ms"]
    due = T0 + 3 * DAY
    created = create(api, **missing, documents_due_ms=due, category="B", pipe_length_m=300)
    assert (created["documents"], created["missing_documents"]) == (
        "due",
        ["房产证 property certificate"],
    )
    watch = ConnectionWatch(api.registry, Policies(WorkCalendar()), lambda: T0)

    def documents_alarms(now_ms: int) -> list:  # the stages' own alarms come too
        return [d for d in watch.run(now_ms) if d.rule.startswith("connection_docs")]

    assert documents_alarms(T0 + DAY) == []
    (reminder,) = documents_alarms(due - DAY // 2)
    assert reminder.rule == "connection_docs_due" and reminder.detail["due_ms"] == due
    assert [d.rule for d in documents_alarms(due + 1)] == ["connection_docs_overdue"]
    api.clock.now_ms = due + 1
    path = f"/api/v1/connections/{created['id']}"
    assert api.client.get(path, headers=api.viewer).json()["documents"] == "overdue"
    wrong = api.client.post(
        f"{path}/documents", json={"received": ["身份证 ID card"]}, headers=api.operator
    )
    assert wrong.status_code == 409
    handed = api.client.post(
        f"{path}/documents",
        json={"received": ["房产证 property certificate"]},
        headers=api.operator,
    )
    assert (handed.json()["documents"], handed.json()["missing_documents"]) == ("complete", [])
    assert handed.json()["documents_complete_ms"] == due + 1  # Lingbao's approval clock
    assert documents_alarms(due + DAY) == []
    assert "connection.documents" in [e.action for e in api.registry.audit.entries()]


def test_the_indicator_report_as_json_and_csv(api: Api) -> None:
    created = create(api, fee_application=50.0)
    app_id = int(str(created["id"]))
    api.client.post(
        f"/api/v1/connections/{app_id}/commission", json={"meter_id": "GZ1"}, headers=api.operator
    )
    gas_on(api.registry, app_id, "GZ1", T0 + 2 * DAY)
    window = {"start": T0, "end": T0 + 30 * DAY}
    rows = api.client.get("/api/v1/connections/report", params=window, headers=api.viewer)
    assert rows.status_code == 200
    (everything, no_works) = rows.json()  # the policy's total row, then the category's
    assert (everything["group"], everything["completed"], everything["within_limit"]) == (
        "all",
        1,
        1,
    )
    assert (no_works["group"], no_works["natural_days_max"]) == ("none", 2.0)
    assert no_works["fees_charged"] == [created["number"]]  # an application fee: flagged
    as_csv = api.client.get(
        "/api/v1/connections/report", params={**window, "format": "csv"}, headers=api.viewer
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text.count("\n") == 3
    backwards = api.client.get(
        "/api/v1/connections/report", params={"start": T0, "end": T0}, headers=api.viewer
    )
    assert backwards.status_code == 422 and backwards.json()["detail"][0]["loc"] == ["query", "end"]
