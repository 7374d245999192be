"""Valve commands in the registry, on SQLite and PostgreSQL: counters, joining, signing,
replies checked against the meter's key, confirmation by telemetry."""

from __future__ import annotations

import pytest

from meters.command_store import NewCommand
from meters.errors import Conflict
from meters.protocol import CommandReply
from meters.registry import MeterSighting, Registry
from meters.signing import new_key, sign_reply, signature_ok
from meters.views import SAFETY_ACTOR, Actor
from safety.domain import MeterProfile

T0 = 1_790_000_000_000
HOUR_MS = 3_600_000
OTTO = Actor("otto", "operator", "10.0.0.7")


def close(meter_id: str = "M1", reason: str = "leak") -> NewCommand:
    return NewCommand(meter_id, "close", reason, "safety")


def test_a_command_gets_the_next_counter_an_expiry_and_an_audit_entry(registry: Registry) -> None:
    registry.provision([MeterProfile("M1")], T0)
    command, created = registry.commands.create(close(), SAFETY_ACTOR, T0, HOUR_MS)
    assert created and (command.state, command.counter, command.expires_ms) == (
        "queued",
        1,
        T0 + HOUR_MS,
    )
    joined, again = registry.commands.create(close(reason="over_flow"), OTTO, T0 + 1, HOUR_MS)
    assert not again and joined.id == command.id
    arm, _ = registry.commands.create(NewCommand("M1", "arm", "reopen"), OTTO, T0 + 2, HOUR_MS)
    assert arm.counter == 2
    entries = [(e.action, e.actor, e.reason) for e in registry.audit_entries()]
    assert entries[:2] == [
        ("command.arm", "otto", "reopen"),
        ("command.close", "gasguard-safety", "leak"),
    ]


def test_a_meter_never_provisioned_has_no_key_and_cannot_be_commanded(registry: Registry) -> None:
    registry.record_sightings({"SEEN": MeterSighting(T0)})  # registered on first sight
    with pytest.raises(Conflict, match="no key"):
        registry.commands.create(close("SEEN"), OTTO, T0, HOUR_MS)


def test_the_wire_command_is_signed_with_the_meters_key(registry: Registry) -> None:
    registry.provision([MeterProfile("M1")], T0)
    command, _ = registry.commands.create(close(), OTTO, T0, HOUR_MS)
    wire = registry.commands.signed(command)
    key = registry.commands.meter_keys(["M1"])["M1"]
    assert signature_ok(key, wire) and not signature_ok(new_key(), wire)
    assert (wire.counter, wire.expires_ms, wire.reason) == (1, T0 + HOUR_MS, "leak")


def test_replies_are_checked_and_telemetry_confirms_the_valve(registry: Registry) -> None:
    registry.provision([MeterProfile("M1"), MeterProfile("M2")], T0)
    store = registry.commands
    command, _ = store.create(close(), SAFETY_ACTOR, T0, HOUR_MS)
    store.mark_published(command.id, T0 + 1, T0 + 20_000)
    sent = store.get(command.id)
    assert (sent.state, sent.attempts, sent.sent_ms) == ("sent", 1, T0 + 1)
    key = store.meter_keys(["M1"])["M1"]
    reply = CommandReply(command.id, "M1", "done", T0 + 3, "closed")
    assert store.apply_reply(sign_reply(new_key(), reply), T0 + 4)[0] == "bad_signature"
    other = CommandReply(command.id, "M2", "done", T0 + 3, "closed")
    assert store.apply_reply(sign_reply(key, other), T0 + 4)[0] == "unknown_command"
    outcome, delivered = store.apply_reply(sign_reply(key, reply), T0 + 4)
    assert outcome == "applied" and delivered is not None and delivered.state == "delivered"
    assert store.apply_reply(sign_reply(key, reply), T0 + 5)[0] == "ignored"  # a resend's
    registry.record_sightings({"M1": MeterSighting(T0 + 5, T0 + 2, "closed")})
    assert store.confirm_from_telemetry(T0 + 6) == []  # a reading older than the reply
    registry.record_sightings({"M1": MeterSighting(T0 + 7, T0 + 4, "closed")})
    (done,) = store.confirm_from_telemetry(T0 + 8)
    assert (done.state, done.finished_ms) == ("succeeded", T0 + 8)
    assert store.closure("M1") == "safety"
    fresh, created = store.create(close(reason="again"), OTTO, T0 + 9, HOUR_MS)
    assert created and fresh.counter == 2
    assert [c.id for c in store.find("M1")] == [fresh.id, command.id]


def test_a_rejection_fails_the_command_and_expiry_ends_it(registry: Registry) -> None:
    registry.provision([MeterProfile("M1")], T0)
    store = registry.commands
    key = store.meter_keys(["M1"])["M1"]
    command, _ = store.create(close(), OTTO, T0, HOUR_MS)
    refused = sign_reply(key, CommandReply(command.id, "M1", "rejected", T0 + 1, error="expired"))
    outcome, failed = store.apply_reply(refused, T0 + 2)
    assert outcome == "applied" and failed is not None
    assert (failed.state, failed.error) == ("failed", "expired")
    second, _ = store.create(close(), OTTO, T0 + 3, HOUR_MS)
    ended = store.finish(second.id, "expired", T0 + HOUR_MS + 3, "no reply")
    assert (ended.state, ended.error) == ("expired", "no reply")
    with pytest.raises(Conflict):
        store.finish(second.id, "expired", T0 + HOUR_MS + 4, "again")
    assert store.due(T0 + 2 * HOUR_MS, T0 + 2 * HOUR_MS) == []  # nothing left in flight


def test_due_reads_what_may_be_due_and_nothing_else(registry: Registry) -> None:
    registry.provision([MeterProfile(f"M{i}") for i in range(5)], T0)
    store = registry.commands
    key = store.meter_keys([f"M{i}" for i in range(5)])
    commands = [store.create(close(f"M{i}"), OTTO, T0, HOUR_MS)[0] for i in range(5)]
    retry_soon, retry_later, unsent, confirmed_late, confirmed_soon = commands
    store.mark_published(retry_soon.id, T0, T0 + 20_000)
    store.mark_published(retry_later.id, T0, T0 + 80_000)
    for command, delivered_ms in ((confirmed_late, T0 + 1_000), (confirmed_soon, T0 + 30_000)):
        store.mark_published(command.id, T0, T0 + 20_000)
        reply = CommandReply(command.id, command.meter_id, "done", delivered_ms, "closed")
        store.apply_reply(sign_reply(key[command.meter_id], reply), delivered_ms)
    now = T0 + 40_000
    due = store.due(now, delivered_before_ms=now - 30_000)  # a 30 s confirmation time-out
    # most overdue first: the unsent one (due since T0), then two due since T0 + 20 s
    assert [c.id for c in due] == [unsent.id, *sorted([retry_soon.id, confirmed_late.id])]
    at_expiry = store.due(T0 + HOUR_MS, T0)  # every undelivered one expires now
    assert [c.id for c in at_expiry] == [unsent.id, retry_soon.id, retry_later.id]
