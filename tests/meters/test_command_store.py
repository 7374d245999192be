"""Valve commands in the registry, on SQLite and PostgreSQL: counters, joining, signing,
replies checked against the meter's key, confirmation by telemetry."""

from __future__ import annotations

import pytest

from contract.profiles import MeterProfile
from contract.protocol import Command as WireCommand
from contract.protocol import CommandReply
from contract.signing import new_key, sign_command, sign_reply, signature_ok
from meters.command_store import NewCommand
from meters.errors import Conflict
from meters.registry import MeterSighting, Registry
from meters.views import SAFETY_ACTOR, Actor
from simulators.meter import SimMeter

T0 = 1_790_000_000_000
HOUR_MS = 3_600_000
OTTO = Actor("otto", "operator", "10.0.0.7")


def close(meter_id: str = "M1", reason: str = "leak") -> NewCommand:
    return NewCommand(meter_id, "close", reason, "safety")


def test_a_command_gets_the_next_counter_an_expiry_and_an_audit_entry(registry: Registry) -> None:
    registry.meters.provision([MeterProfile("M1")], T0)
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
    entries = [(e.action, e.actor, e.reason) for e in registry.audit.entries()]
    assert entries[:3] == [
        ("command.arm", "otto", "reopen"),
        ("command.close.joined", "otto", "over_flow"),  # who joined, and why, is kept
        ("command.close", "gasguard-safety", "leak"),
    ]


def test_a_meter_never_provisioned_has_no_key_and_cannot_be_commanded(registry: Registry) -> None:
    registry.meters.record_sightings({"SEEN": MeterSighting(T0)})  # registered on first sight
    with pytest.raises(Conflict, match="no key"):
        registry.commands.create(close("SEEN"), OTTO, T0, HOUR_MS)


def test_the_wire_command_is_signed_with_the_meters_key(registry: Registry) -> None:
    registry.meters.provision([MeterProfile("M1")], T0)
    command, _ = registry.commands.create(close(), OTTO, T0, HOUR_MS)
    wire = registry.commands.signed(command)
    key = registry.commands.meter_keys(["M1"])["M1"]
    assert signature_ok(key, wire) and not signature_ok(new_key(), wire)
    assert (wire.counter, wire.expires_ms, wire.reason) == (1, T0 + HOUR_MS, "leak")


def test_replies_are_checked_and_telemetry_confirms_the_valve(registry: Registry) -> None:
    registry.meters.provision([MeterProfile("M1"), MeterProfile("M2")], T0)
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
    registry.meters.record_sightings({"M1": MeterSighting(T0 + 5, T0 + 2, "closed")})
    assert store.confirm_from_telemetry(T0 + 6) == []  # a reading older than the reply
    registry.meters.record_sightings({"M1": MeterSighting(T0 + 7, T0 + 4, "closed")})
    (done,) = store.confirm_from_telemetry(T0 + 8)
    assert (done.state, done.finished_ms) == ("succeeded", T0 + 8)
    assert registry.meters.get("M1").closures == ("safety",)
    fresh, created = store.create(close(reason="again"), OTTO, T0 + 9, HOUR_MS)
    assert created and fresh.counter == 2
    assert [c.id for c in store.find("M1")] == [fresh.id, command.id]


def test_a_rejection_fails_the_command_and_expiry_ends_it(registry: Registry) -> None:
    registry.meters.provision([MeterProfile("M1")], T0)
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
    registry.meters.provision([MeterProfile(f"M{i}") for i in range(5)], T0)
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


# -- issue 17: closure sets, counters, valve facts --------------------------------------

SAM = Actor("sam", "supervisor", "10.0.0.8")


def reply_to(
    registry: Registry,
    command_id: str,
    meter: str,
    at: int,
    valve: str | None,
    result: str = "done",
) -> CommandReply:
    key = registry.commands.meter_keys([meter])[meter]
    error = None if result == "done" else "counter_reused"
    return sign_reply(key, CommandReply(command_id, meter, result, at, valve, error))


def settle(registry: Registry, command_id: str, meter: str, at: int, valve: str) -> None:
    """The meter does it and says so, and a reading after the reply shows it."""
    registry.commands.apply_reply(reply_to(registry, command_id, meter, at, valve), at + 1)
    registry.meters.record_sightings({meter: MeterSighting(at + 2, at + 2, valve)})
    registry.commands.confirm_from_telemetry(at + 3)
    assert registry.commands.get(command_id).state == "succeeded"


def leak_shutoff(registry: Registry, at: int) -> None:
    """A leak alarm (shutoff) and its safety close, confirmed; the alarm then cleared."""
    from contract.decisions import Decision

    alarm, _ = registry.alarms.record(Decision(at, "M1", "leak_detector", "shutoff", {}), at)
    command, _ = registry.commands.create(close(), SAFETY_ACTOR, at, HOUR_MS)
    settle(registry, command.id, "M1", at + 10, "closed")
    registry.alarms.clear(alarm.id, OTTO, "detector replaced", at + 20)


def open_remotely(registry: Registry, at: int) -> None:
    registry.commands.create(NewCommand("M1", "open", "paid", "billing"), SAM, at, HOUR_MS)


def test_a_safety_closure_relabelled_by_a_billing_close_is_still_never_opened(
    registry: Registry,
) -> None:
    """The exact sequence of the issue: leak shutoff, then an operator's billing close
    (confirmed at once: the meter is already closed), then a supervisor's open."""
    registry.meters.provision([MeterProfile("M1")], T0)
    leak_shutoff(registry, T0)
    billing, created = registry.commands.create(
        NewCommand("M1", "close", "unpaid", "billing"), OTTO, T0 + 100, HOUR_MS
    )
    assert created
    settle(registry, billing.id, "M1", T0 + 110, "closed")
    assert registry.meters.get("M1").closures == ("billing", "safety")
    with pytest.raises(Conflict, match="closed for safety"):
        open_remotely(registry, T0 + 200)
    refusal = registry.audit.entries()[0]
    assert (refusal.action, refusal.actor) == ("command.open.refused", "sam")
    assert "never opened remotely" in refusal.detail["refused"]
    assert [c.action for c in registry.commands.find("M1")] == ["close", "close"]


def test_a_safety_close_that_joins_a_billing_close_keeps_its_reason(registry: Registry) -> None:
    registry.meters.provision([MeterProfile("M1")], T0)
    billing, _ = registry.commands.create(
        NewCommand("M1", "close", "unpaid", "billing"), OTTO, T0, HOUR_MS
    )
    joined, created = registry.commands.create(close(), SAFETY_ACTOR, T0 + 1, HOUR_MS)
    assert not created and joined.id == billing.id and joined.closures == ("billing", "safety")
    with pytest.raises(Conflict, match="in flight"):
        open_remotely(registry, T0 + 2)  # while the joined close is in flight
    settle(registry, billing.id, "M1", T0 + 10, "closed")
    assert registry.meters.get("M1").closures == ("billing", "safety")
    with pytest.raises(Conflict, match="closed for safety"):
        open_remotely(registry, T0 + 20)


def test_an_open_shutoff_alarm_refuses_a_remote_open(registry: Registry) -> None:
    from contract.decisions import Decision

    registry.meters.provision([MeterProfile("M1")], T0)
    billing, _ = registry.commands.create(
        NewCommand("M1", "close", "unpaid", "billing"), OTTO, T0, HOUR_MS
    )
    settle(registry, billing.id, "M1", T0 + 10, "closed")
    registry.alarms.record(Decision(T0 + 20, "M1", "over_flow", "shutoff", {}), T0 + 20)
    with pytest.raises(Conflict, match="shutoff alarm is open"):
        open_remotely(registry, T0 + 30)


def test_the_customer_opening_after_an_arm_empties_the_set_then_billing_works_again(
    registry: Registry,
) -> None:
    registry.meters.provision([MeterProfile("M1")], T0)
    leak_shutoff(registry, T0)
    early = T0 + 50  # a reading with the valve open, from before the arm, arriving late
    arm, _ = registry.commands.create(NewCommand("M1", "arm", "checked"), OTTO, T0 + 100, HOUR_MS)
    registry.commands.apply_reply(reply_to(registry, arm.id, "M1", T0 + 110, "closed"), T0 + 111)
    assert registry.meters.get("M1").armed_ms == T0 + 110
    registry.meters.record_sightings({"M1": MeterSighting(T0 + 112, early, "open")})
    assert registry.meters.get("M1").closures == ("safety",)  # older than the arm: no effect
    assert registry.meters.get("M1").valve == "closed"
    registry.meters.record_sightings(
        {"M1": MeterSighting(T0 + 130, None, "open", valve_ms=T0 + 125)}
    )
    reopened = registry.meters.get("M1")  # e.g. event valve_opened at T0 + 125
    assert (reopened.closures, reopened.armed_ms, reopened.valve) == ((), None, "open")
    billing, _ = registry.commands.create(
        NewCommand("M1", "close", "unpaid", "billing"), OTTO, T0 + 200, HOUR_MS
    )
    settle(registry, billing.id, "M1", T0 + 210, "closed")
    assert registry.meters.get("M1").closures == ("billing",)
    opened, created = registry.commands.create(
        NewCommand("M1", "open", "paid"), SAM, T0 + 300, HOUR_MS
    )
    assert created
    settle(registry, opened.id, "M1", T0 + 310, "open")
    assert registry.meters.get("M1").closures == ()


def test_a_valve_closed_by_the_meter_itself_is_not_opened_remotely(registry: Registry) -> None:
    registry.meters.provision([MeterProfile("M1")], T0)
    registry.meters.record_sightings({"M1": MeterSighting(T0, T0, "closed")})  # its own shut-off
    with pytest.raises(Conflict, match="not closed by a command"):
        open_remotely(registry, T0 + 1)


def test_a_reply_valve_counts_only_once_verified_and_never_over_a_newer_fact(
    registry: Registry,
) -> None:
    registry.meters.provision([MeterProfile("M1")], T0)
    store = registry.commands
    registry.meters.record_sightings({"M1": MeterSighting(T0, T0, "open")})
    command, _ = store.create(close(), SAFETY_ACTOR, T0, HOUR_MS)
    unsigned = CommandReply(command.id, "M1", "done", T0 + 5, "closed")  # no signature
    assert store.apply_reply(unsigned, T0 + 6)[0] == "bad_signature"
    forged = sign_reply(new_key(), unsigned)
    assert store.apply_reply(forged, T0 + 6)[0] == "bad_signature"
    other_meter = CommandReply("no-such-command", "M1", "done", T0 + 5, "closed")
    assert store.apply_reply(sign_reply(store.meter_keys(["M1"])["M1"], other_meter), T0 + 6)[
        0
    ] == ("unknown_command")
    assert registry.meters.get("M1").valve == "open"
    good = reply_to(registry, command.id, "M1", T0 + 10, "closed")
    assert store.apply_reply(good, T0 + 11)[0] == "applied"
    assert (registry.meters.get("M1").valve, registry.meters.get("M1").valve_ms) == (
        "closed",
        T0 + 10,
    )
    late_reading = {"M1": MeterSighting(T0 + 12, T0 + 8, "open")}  # measured before the close
    registry.meters.record_sightings(late_reading)
    assert registry.meters.get("M1").valve == "closed"
    assert registry.meters.get("M1").last_reading_ms == T0 + 8
    replayed = reply_to(registry, command.id, "M1", T0 + 2, "open")  # an old reply again
    assert store.apply_reply(replayed, T0 + 13)[0] == "ignored"
    assert registry.meters.get("M1").valve == "closed"
    registry.meters.record_sightings({"M1": MeterSighting(T0 + 20, T0 + 20, "fault")})
    assert registry.meters.get("M1").valve == "fault"  # a newer reading does replace it


def test_a_reused_counter_is_signed_again_with_a_fresh_one(registry: Registry) -> None:
    registry.meters.provision([MeterProfile("M1")], T0)
    store = registry.commands
    command, _ = store.create(close(), SAFETY_ACTOR, T0, HOUR_MS)
    store.mark_published(command.id, T0, T0 + 20_000)
    refused = reply_to(registry, command.id, "M1", T0 + 5, "open", result="rejected")
    outcome, again = store.apply_reply(refused, T0 + 6)
    assert outcome == "applied" and again is not None
    assert (again.state, again.next_attempt_ms) == ("queued", T0 + 6)
    assert again.counter == 2 and store.signed(again).counter == 2


def test_commands_created_at_once_get_distinct_counters(registry: Registry) -> None:
    """Threads creating commands for one meter at the same moment (each its own action
    or meter-side reason): counters are unique and dense, and joins see each other."""
    import threading

    registry.meters.provision([MeterProfile("M1")], T0)
    store = registry.commands
    barrier = threading.Barrier(8)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def create(i: int) -> None:
        action = ("close", "arm")[i % 2]
        barrier.wait()
        try:
            for round_ in range(5):
                view, created = store.create(
                    NewCommand("M1", action, f"t{i}-{round_}"), OTTO, T0 + i, HOUR_MS
                )
                results.append((view.counter, created))
                if created:
                    store.finish(view.id, "expired", T0 + i + 1, "test")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    counters = [c.counter for c in store.find("M1", limit=1000)]
    assert len(counters) == len(set(counters)) == sum(created for _c, created in results)
    assert sorted(counters) == list(range(1, len(counters) + 1))
    meter = SimMeter(MeterProfile("M1"), valve="closed", key=store.meter_keys(["M1"])["M1"])
    acted = []
    for view in sorted(store.find("M1", limit=1000), key=lambda c: c.counter):
        reply = meter.handle(store.signed(view), T0)
        assert reply.result == "done" and meter.last_command_id == view.id
        acted.append(view.id)
    assert len(set(acted)) == len(counters)  # each distinct command executed once


def test_the_meter_refuses_a_counter_it_saw_with_another_command() -> None:
    key = new_key()
    meter = SimMeter(MeterProfile("M1"), key=key)

    def wire(command_id: str, action: str, counter: int) -> WireCommand:
        command = WireCommand(command_id, "M1", action, T0, "t", counter, T0 + HOUR_MS)  # type: ignore[arg-type]
        return sign_command(key, command)

    assert meter.handle(wire("arm-1", "arm", 3), T0).result == "done"
    twin = meter.handle(wire("close-1", "close", 3), T0 + 1)  # the same counter, another id
    assert (twin.result, twin.error, meter.valve) == ("rejected", "counter_reused", "open")
    assert meter.handle(wire("arm-1", "arm", 3), T0 + 2).result == "done"  # a true resend
    assert meter.handle(wire("close-1", "close", 4), T0 + 3).result == "done"
    assert meter.valve == "closed"


def test_a_reply_by_sequence_number_binds_to_the_command_in_flight_with_that_counter(
    registry: Registry,
) -> None:
    """CJ/T 188 answers name a command by the low byte of its counter: bound to the
    meter's command in flight with it (an answer naming none: the newest in flight);
    its valve never comes from the answer, and one for no command in flight changes
    nothing."""
    from contract.protocol import SequenceReply

    registry.meters.provision([MeterProfile("00000000000042", device_profile="cjt188")], T0)
    meter = "00000000000042"
    closing, _ = registry.commands.create(close(meter), OTTO, T0, HOUR_MS)
    registry.commands.mark_published(closing.id, T0, T0 + 60_000)
    stray = SequenceReply(meter, (closing.counter + 1) % 256, "done", T0 + 1)
    assert registry.commands.apply_sequence_reply(stray, T0 + 1) == ("unknown_command", None)
    answer = SequenceReply(meter, closing.counter % 256, "done", T0 + 2)
    outcome, delivered = registry.commands.apply_sequence_reply(answer, T0 + 2)
    assert outcome == "applied" and delivered is not None
    assert (delivered.id, delivered.state, delivered.delivered_ms) == (
        closing.id,
        "delivered",
        T0 + 2,
    )
    assert registry.meters.get(meter).valve is None  # the telemetry says, not the answer
    again = registry.commands.apply_sequence_reply(answer, T0 + 3)  # a resend's answer
    assert again[0] == "ignored"
    other = "00000000000043"
    registry.meters.provision([MeterProfile(other, device_profile="cjt188")], T0)
    second, _ = registry.commands.create(close(other), OTTO, T0, HOUR_MS)
    registry.commands.mark_published(second.id, T0 + 4, T0 + 60_000)
    refused = SequenceReply(other, None, "rejected", T0 + 5, "CJ/T 188 abnormal answer")
    outcome, failed = registry.commands.apply_sequence_reply(refused, T0 + 5)
    assert outcome == "applied" and failed is not None
    assert (failed.id, failed.state, failed.error) == (
        second.id,
        "failed",
        "CJ/T 188 abnormal answer",
    )
