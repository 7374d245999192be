"""The registry on SQLite and PostgreSQL: migrations, meters, alarms, commands, dead letters."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from contract.decisions import Decision
from contract.events import MeterEvent
from contract.profiles import MeterProfile
from meters.models import Base
from meters.registry import MeterSighting, Registry
from meters.views import Actor, NewDeadLetter

T0 = 1_790_000_000_000
OTTO = Actor("otto", "operator", "10.0.0.7")


EXPRESSION_INDEXES = {"ix_meters_valve_rank"}  # autogenerate cannot compare these


def _comparable(item: object, name: str | None, kind: str, _reflected: bool, _to: object) -> bool:
    return not (kind == "index" and name in EXPRESSION_INDEXES)


@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_migrations_build_exactly_the_models(registry: Registry) -> None:
    with registry.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _comparable})
        differences = compare_metadata(context, Base.metadata)
        if connection.dialect.name == "sqlite":
            rows = connection.execute(text("SELECT name FROM sqlite_master WHERE type='index'"))
        else:
            rows = connection.execute(
                text("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")
            )
        indexes = {row[0] for row in rows}
    assert differences == []
    assert indexes >= EXPRESSION_INDEXES  # built by the migrations, by name


def test_meters_in_valve_order_closed_first_across_pages(registry: Registry) -> None:
    registry.meters.provision([MeterProfile(f"M{i}") for i in range(1, 7)], T0)
    valves = {"M1": "open", "M2": "closed", "M3": "fault", "M5": "closed", "M6": "open"}
    registry.meters.record_sightings({m: MeterSighting(T0, T0, v) for m, v in valves.items()})
    pages = [registry.meters.find(offset, 2, order="valve") for offset in (0, 2, 4)]
    assert [[m.id for m in page] for page in pages] == [["M2", "M5"], ["M3", "M1"], ["M6", "M4"]]
    assert [m.id for m in registry.meters.find(0, 3)] == ["M1", "M2", "M3"]  # by id


def test_provisioned_meters_and_their_profiles(registry: Registry) -> None:
    registry.meters.provision([MeterProfile("M2", "G4", "commercial", 300), MeterProfile("M1")], T0)
    registry.meters.provision([MeterProfile("M1", "G6", "industrial", 30, "cjt188")], T0 + 1)
    assert {c.profile for c in registry.meters.profile_changes(0)} == {
        MeterProfile("M1", "G6", "industrial", 30, "cjt188"),
        MeterProfile("M2", "G4", "commercial", 300),
    }
    (changed,) = registry.meters.profile_changes(T0 + 1)  # what changed since
    assert (changed.profile.meter_id, changed.changed_ms, changed.in_service) == (
        "M1",
        T0 + 1,
        True,
    )
    assert registry.meters.get("M1").device_profile == "cjt188"
    assert registry.meters.get("M2").device_profile == "gasguard-json"  # the default
    assert [m.id for m in registry.meters.find()] == ["M1", "M2"]
    assert registry.meters.count() == 2


def test_sightings_register_unknown_meters_and_keep_the_newest_reading(registry: Registry) -> None:
    assert registry.meters.record_sightings({"M1": MeterSighting(T0, T0 - 5, "open")}) == ["M1"]
    assert registry.meters.record_sightings({"M1": MeterSighting(T0 + 9, T0 - 50, "closed")}) == []
    meter = registry.meters.get("M1")  # an older reading's valve never replaces a newer one
    assert (meter.last_seen_ms, meter.last_reading_ms, meter.valve) == (T0 + 9, T0 - 5, "open")
    assert registry.meters.count(valve="closed") == 0
    registry.meters.record_sightings({"M1": MeterSighting(T0 + 10, T0 - 4, "closed")})
    meter = registry.meters.get("M1")
    assert (meter.valve, meter.valve_ms) == ("closed", T0 - 4)
    assert registry.meters.count(valve="closed") == 1
    registry.meters.record_sightings({"M1": MeterSighting(T0 + 11, status="offline")})
    meter = registry.meters.get("M1")
    assert (meter.status, meter.valve, meter.last_reading_ms) == ("offline", "closed", T0 - 4)


def test_one_alarm_per_meter_and_rule_while_open(registry: Registry) -> None:
    first, new = registry.alarms.record(
        Decision(T0, "M1", "over_flow", "shutoff", {"flow_m3h": 5.0}), T0
    )
    again, new_again = registry.alarms.record(
        Decision(T0 + 60_000, "M1", "over_flow", "shutoff", {"flow_m3h": 6.0}), T0
    )
    other, _ = registry.alarms.record(Decision(T0, "M1", "micro_flow", "shutoff"), T0)
    assert new and not new_again
    assert again.id == first.id and again.repeat_count == 2 and again.last_ts_ms == T0 + 60_000
    assert again.detail == {"flow_m3h": 6.0}
    assert other.id != first.id
    assert [a.id for a in registry.alarms.find(state="active")] == [other.id, first.id]
    assert registry.alarms.find(meter_id="M2") == []


def test_a_batch_of_decisions_opens_and_updates_alarms_in_one_go(registry: Registry) -> None:
    existing, _ = registry.alarms.record(Decision(T0, "M1", "offline", "alarm", {"n": 0}), T0)
    batch = [
        Decision(T0 + 1, "M1", "offline", "alarm", {"n": 1}),  # repeats the open one
        Decision(T0 + 2, "M2", "offline", "alarm", {"n": 2}),  # new
        Decision(T0 + 5, "M2", "offline", "alarm", {"n": 3}),  # repeats the new one
        Decision(T0 + 3, "M3", "micro_flow", "shutoff", {"n": 4}),
    ]
    results = registry.alarms.record_many(batch, T0 + 10)
    assert [created for _view, created in results] == [False, True, False, True]
    assert results[0][0].id == existing.id and results[0][0].repeat_count == 2
    m2 = results[1][0]
    assert results[2][0].id == m2.id
    assert (m2.repeat_count, m2.opened_ts_ms, m2.last_ts_ms, m2.detail) == (
        2,
        T0 + 2,
        T0 + 5,
        {"n": 3},
    )
    assert results[3][0].severity == "critical" and results[3][0].state == "active"
    stored = {a.meter_id: a for a in registry.alarms.find()}
    assert {m: (a.repeat_count, a.detail) for m, a in stored.items()} == {
        "M1": (2, {"n": 1}),
        "M2": (2, {"n": 3}),
        "M3": (1, {"n": 4}),
    }
    assert registry.alarms.record_many([], T0) == []


def test_offline_alarms_of_meters_heard_again_are_cleared_and_audited(registry: Registry) -> None:
    def offline(meter_id: str) -> int:
        return registry.alarms.record(Decision(T0, meter_id, "offline", "alarm"), T0)[0].id

    back, acknowledged, stale = offline("M1"), offline("M2"), offline("M3")
    registry.alarms.acknowledge(acknowledged, OTTO, "calling the customer", T0 + 1)
    tamper, _ = registry.alarms.record(Decision(T0, "M1", "tamper", "alarm"), T0)
    heard = {"M1": T0 + 5, "M2": T0 + 6, "M3": T0 - 1, "M9": T0 + 7}  # M3: before its alarm
    cleared = registry.alarms.clear_offline_heard_again(heard, T0 + 10)
    assert sorted((a.id, a.cleared_by, a.cleared_ms) for a in cleared) == [
        (back, "gasguard-safety", T0 + 10),
        (acknowledged, "gasguard-safety", T0 + 10),
    ]
    changed = {a.id for a in registry.alarms.changed_since(T0 + 9)}  # the dashboards' feed
    assert changed == {back, acknowledged}
    assert registry.alarms.get(stale).state == "active"
    assert registry.alarms.get(tamper.id).state == "active"  # only offline alarms
    assert registry.alarms.get(back).note.endswith("gasguard-safety: meter heard again")
    audit = [(e.action, e.actor, e.target, e.reason) for e in registry.audit.entries()]
    assert ("alarm.clear", "gasguard-safety", f"alarm:{back}", "meter heard again") in audit
    assert registry.alarms.clear_offline_heard_again(heard, T0 + 11) == []  # once
    again, new = registry.alarms.record(Decision(T0 + 9, "M1", "offline", "alarm"), T0 + 9)
    assert new and again.id != back  # the next silence is a new alarm


def test_dead_letters_keep_reason_and_payload(registry: Registry) -> None:
    big = b"x" * 300_000
    registry.dead_letters.add(
        [
            NewDeadLetter(T0, "gas/v1/meters/M1/telemetry", "bad_utf8", "not UTF-8", b"\xff"),
            NewDeadLetter(T0, "t", "too_large", "too big", big),
        ]
    )
    letters = registry.dead_letters.find()
    assert [(d.reason, d.payload_size) for d in letters] == [("too big", 300_000), ("not UTF-8", 1)]
    assert letters[1].payload == b"\xff"
    assert registry.dead_letters.count() == 2
    assert [d.code for d in registry.dead_letters.find(code="too_large")] == ["too_large"]


def test_events_and_audit_entries_are_kept(registry: Registry) -> None:
    registry.events.add([MeterEvent("M1", T0, "detector_alarm")], T0 + 1)
    alice = Actor("alice", "operator", "10.0.0.7")
    registry.audit.record(alice, "command.close", "meter:M1", "smell of gas", {"command": "c1"}, T0)
    [entry] = registry.audit.entries()
    assert (entry.at_ms, entry.actor, entry.action, entry.target) == (
        T0,
        "alice",
        "command.close",
        "meter:M1",
    )
    assert (entry.source, entry.reason) == ("10.0.0.7", "smell of gas")
    assert entry.detail == {"role": "operator", "command": "c1"}


def test_batches_a_meter_numbered_but_never_sent_are_counted_missing(registry: Registry) -> None:
    def seen(first: int, last: int, skipped: int = 0) -> None:
        registry.meters.record_sightings(
            {"M1": MeterSighting(T0, T0, None, None, None, first, last, skipped)}
        )

    seen(1, 5)
    assert (registry.meters.get("M1").last_seq, registry.meters.get("M1").missing_batches) == (5, 0)
    seen(8, 12, skipped=1)  # 6 and 7 between the writes, one more inside the second
    assert (registry.meters.get("M1").last_seq, registry.meters.get("M1").missing_batches) == (
        12,
        3,
    )
    seen(10, 10)  # a late, redelivered batch: nothing missing, the newest seq stays
    assert (registry.meters.get("M1").last_seq, registry.meters.get("M1").missing_batches) == (
        12,
        3,
    )
    seen(13, 13)
    assert registry.meters.get("M1").missing_batches == 3
    registry.meters.record_sightings({"M1": MeterSighting(T0, T0)})  # no batch: nothing changes
    assert (registry.meters.get("M1").last_seq, registry.meters.get("M1").missing_batches) == (
        13,
        3,
    )


def test_dead_letters_past_their_retention_are_deleted(registry: Registry) -> None:
    from meters.views import NewDeadLetter

    registry.dead_letters.add(
        [
            NewDeadLetter(T0 + i, "gas/v1/meters/M1/telemetry", "not_json", "x", b"{")
            for i in range(5)
        ]
    )
    assert registry.dead_letters.expire(T0 + 3, limit=2) == 2
    assert registry.dead_letters.expire(T0 + 3) == 1
    assert registry.dead_letters.expire(T0 + 3) == 0
    assert sorted(d.received_ms for d in registry.dead_letters.find()) == [T0 + 3, T0 + 4]
