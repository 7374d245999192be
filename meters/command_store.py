"""Commands in the registry (valve commands and parameter downloads): creation (counter,
expiry, audit), signing with the meter's key, and every lifecycle transition
(``contract.lifecycle`` decides; this module stores). Each method is one transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Table, and_, or_, select, update
from sqlalchemy.orm import Session

from contract.alarms import ALARM_OPEN_STATES
from contract.lifecycle import IN_FLIGHT, after_reply, telemetry_agrees
from contract.protocol import SETTINGS_ACTIONS, CommandReply, PlatformReply, SequenceReply
from contract.protocol import Command as WireCommand
from contract.signing import new_key, sign_command, signature_ok
from meters.audit import add_audit
from meters.closures import closures_text
from meters.command_policy import OpenFacts, open_refusal
from meters.db import Transactions, changed_since_query, fetch
from meters.errors import Conflict, NotFound
from meters.models import Alarm, Command, Meter
from meters.views import Actor, CommandView, CommandWindow

ReplyOutcome = Literal["applied", "ignored", "unknown_command", "bad_signature"]
ClosureKind = Literal["safety", "billing", "maintenance"]
METERS: Table = Meter.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class NewCommand:
    meter_id: str
    action: str
    reason: str
    kind: ClosureKind = "safety"
    params: str = ""  # a parameter download: the thresholds' canonical JSON


def _apply_reply(
    session: Session, command: Command, meter: Meter, reply: CommandReply, now_ms: int
) -> tuple[ReplyOutcome, CommandView | None]:
    """A reply bound to its command (and, when signed, its signature checked)."""
    state = after_reply(command.state, reply.result, reply.error)
    if state is None:
        return "ignored", _view(command)
    command.replied_ms = command.updated_ms = now_ms
    command.reply = {
        "result": reply.result,
        "ts": reply.ts_ms,
        "valve": reply.valve,
        "error": reply.error,
    }
    if state == "queued":  # counter_reused: sign again with a fresh counter
        command.counter = next_counter(session, command.meter_id)
        command.next_attempt_ms = now_ms
    elif state == "delivered":
        command.delivered_ms = now_ms
        command.wake_expected_ms = None  # the meter took it
        if command.action == "arm":
            meter.armed_ms = reply.ts_ms
        elif command.action == "params":  # the meter holds them
            meter.held_thresholds = json.loads(command.params)
            meter.thresholds_confirmed_ms = reply.ts_ms
        if command.action in SETTINGS_ACTIONS:  # done: no telemetry to follow
            state, command.finished_ms = "succeeded", now_ms
    else:
        command.finished_ms, command.error = now_ms, reply.error or "rejected"
        command.wake_expected_ms = None
    command.state = state
    if reply.valve is not None:
        record_valve(meter, reply.valve, reply.ts_ms)
    return "applied", _view(command)


def _view(command: Command) -> CommandView:
    return CommandView(
        id=command.id,
        meter_id=command.meter_id,
        action=command.action,
        reason=command.reason,
        requested_by=command.requested_by,
        state=command.state,
        created_ms=command.created_ms,
        sent_ms=command.sent_ms,
        replied_ms=command.replied_ms,
        reply=command.reply,
        updated_ms=command.updated_ms,
        kind=command.kind,
        counter=command.counter,
        expires_ms=command.expires_ms,
        attempts=command.attempts,
        next_attempt_ms=command.next_attempt_ms,
        delivered_ms=command.delivered_ms,
        finished_ms=command.finished_ms,
        error=command.error,
        closures=command.closures,
        platform_refs=tuple(command.platform_refs or ()),
        wake_expected_ms=command.wake_expected_ms,
        params=command.params,
    )


def meter_of(session: Session, meter_id: str) -> Meter:
    return fetch(session, Meter, meter_id, f"meter {meter_id!r} is not registered")


def _command(session: Session, command_id: str) -> Command:
    return fetch(session, Command, command_id, f"command {command_id!r} does not exist")


def record_valve(meter: Meter, valve: str, at_ms: int) -> None:
    """The meter's valve is ``valve`` at ``at_ms`` (meter time), unless it already holds a
    newer fact."""
    if meter.valve_ms is None or at_ms >= meter.valve_ms:
        meter.valve, meter.valve_ms = valve, at_ms


def ensure_key(meter: Meter) -> str:
    if not meter.secret_key:
        meter.secret_key = new_key()
    return meter.secret_key


def lock_meter(session: Session, meter_id: str) -> None:
    """Hold the meter's row to the end of the transaction. A write, not SELECT ... FOR
    UPDATE: SQLite has no row locks, and a write as the first statement makes its
    transaction take the database's write lock at once (waiting for another writer)."""
    held = session.execute(
        update(METERS)
        .where(METERS.c.id == meter_id)
        .values(command_counter=METERS.c.command_counter)
        .returning(METERS.c.id)
    ).first()
    if held is None:
        raise NotFound(f"meter {meter_id!r} is not registered")


def next_counter(session: Session, meter_id: str) -> int:
    """The meter's next command counter, allocated in the database (one statement)."""
    return int(
        session.execute(
            update(METERS)
            .where(METERS.c.id == meter_id)
            .values(command_counter=METERS.c.command_counter + 1)
            .returning(METERS.c.command_counter)
        ).scalar_one()
    )


def open_facts(session: Session, meter: Meter) -> OpenFacts:
    shutoffs = session.scalars(
        select(Alarm.rule).where(
            Alarm.meter_id == meter.id,
            Alarm.action == "shutoff",
            Alarm.state.in_(ALARM_OPEN_STATES),
        )
    ).all()
    closes = session.scalars(
        select(Command).where(
            Command.meter_id == meter.id,
            Command.action == "close",
            Command.state.in_(IN_FLIGHT),
        )
    ).all()
    reasons = tuple(reason for close in closes for reason in close.closures or (close.kind,))
    return OpenFacts(frozenset(meter.closures), meter.valve, tuple(shutoffs), reasons)


def _join(session: Session, command: Command, new: NewCommand, actor: Actor, now_ms: int) -> None:
    """``new`` joins ``command`` in flight: a close adds its reason; both are audited."""
    if new.action == "close":
        command.closures_text = closures_text((*command.closures, new.kind))
    detail = {"command": command.id, "kind": new.kind, "joined": True}
    target = f"meter:{new.meter_id}"
    add_audit(session, actor, f"command.{new.action}.joined", target, new.reason, now_ms, detail)


class CommandStore:
    def __init__(self, transactions: Transactions) -> None:
        self._run = transactions.run

    def create(
        self,
        new: NewCommand,
        actor: Actor,
        now_ms: int,
        ttl_ms: int,
        window: CommandWindow | None = None,
    ) -> tuple[CommandView, bool]:
        """Queue a command with the meter's next counter and an expiry, and audit it, in one
        transaction that holds the meter's row (two commands created at once wait for each
        other: counters are unique, and a join or a refusal sees the other's command). A
        command of the same action in flight for the meter is joined instead (returned with
        ``False``; a close adds its reason to the one it joins). A remote ``open`` that
        ``command_policy.open_refusal`` refuses raises ``Conflict`` and is audited.
        ``window``: a meter that sleeps (its lifetime is the profile's; a command held for
        the meter's next uplink is not due before it expires: the uplink sends it)."""
        window = window or CommandWindow(ttl_ms)

        def work(session: Session) -> tuple[CommandView, bool] | str:
            lock_meter(session, new.meter_id)
            meter = meter_of(session, new.meter_id)
            if new.action == "open":
                refused = open_refusal(open_facts(session, meter))
                if refused is not None:
                    return refused
            in_flight = session.scalars(
                select(Command).where(
                    Command.meter_id == new.meter_id,
                    Command.action == new.action,
                    Command.state.in_(IN_FLIGHT),
                )
            ).first()
            if in_flight is not None and in_flight.params != new.params:
                return (  # the meter must take the first first: the second says otherwise
                    f"a parameter download (command {in_flight.id}) with other thresholds "
                    "is in flight for the meter: it must finish or expire first"
                )
            if in_flight is not None:
                _join(session, in_flight, new, actor, now_ms)
                return _view(in_flight), False
            if not meter.secret_key:
                raise Conflict(
                    f"meter {new.meter_id} has no key (seen, but never provisioned): "
                    "no command can be signed for it"
                )
            command = Command(
                id=str(uuid.uuid4()),
                meter_id=new.meter_id,
                action=new.action,
                reason=new.reason,
                requested_by=actor.username,
                source=actor.source,
                kind=new.kind,
                closures_text=new.kind if new.action == "close" else "",
                params=new.params,
                state="queued",
                counter=next_counter(session, new.meter_id),
                created_ms=now_ms,
                expires_ms=now_ms + window.ttl_ms,
                attempts=0,
                next_attempt_ms=now_ms + window.ttl_ms if window.hold else now_ms,
                wake_expected_ms=window.wake_expected_ms,
                updated_ms=now_ms,
            )
            session.add(command)
            detail = {"command": command.id, "kind": new.kind}
            target = f"meter:{new.meter_id}"
            add_audit(session, actor, f"command.{new.action}", target, new.reason, now_ms, detail)
            session.flush()
            return _view(command), True

        outcome = self._run(work)
        if isinstance(outcome, str):
            self._audit_refusal(new, actor, outcome, now_ms)
            raise Conflict(outcome)
        return outcome

    def _audit_refusal(self, new: NewCommand, actor: Actor, why: str, now_ms: int) -> None:
        target = f"meter:{new.meter_id}"
        detail = {"refused": why, "kind": new.kind}
        self._run(
            lambda s: add_audit(
                s, actor, f"command.{new.action}.refused", target, new.reason, now_ms, detail
            )
        )

    def get(self, command_id: str) -> CommandView:
        return self._run(lambda s: _view(_command(s, command_id)))

    def find(
        self,
        meter_id: str | None = None,
        state: str | None = None,
        limit: int = 100,
        offset: int = 0,
        action: str | None = None,
    ) -> list[CommandView]:
        """Newest first."""
        query = (
            select(Command)
            .order_by(Command.created_ms.desc(), Command.id)
            .offset(offset)
            .limit(limit)
        )
        if meter_id is not None:
            query = query.where(Command.meter_id == meter_id)
        if state is not None:
            query = query.where(Command.state == state)
        if action is not None:
            query = query.where(Command.action == action)
        return self._run(lambda s: [_view(c) for c in s.scalars(query)])

    def changed_since(self, since_ms: int, limit: int = 500) -> list[CommandView]:
        """Commands changed at or after ``since_ms``, oldest change first (the live feed)."""
        query = changed_since_query(Command, since_ms, limit)
        return self._run(lambda s: [_view(c) for c in s.scalars(query)])

    def due(self, now_ms: int, delivered_before_ms: int) -> list[CommandView]:
        """The in-flight commands that may have a step due at ``now_ms``, most overdue
        first: queued or sent ones whose next attempt or expiry has come, and delivered
        ones delivered at or before ``delivered_before_ms`` (now minus the confirmation
        time-out). ``lifecycle.due_step`` decides what to do; this only narrows what is
        read, so that a crowd of commands waiting for telemetry (a district closed at
        once) never hides one that is due. No limit: every due command is read."""
        may_be_due = or_(
            and_(
                Command.state.in_(("queued", "sent")),
                or_(Command.next_attempt_ms <= now_ms, Command.expires_ms <= now_ms),
            ),
            and_(Command.state == "delivered", Command.delivered_ms <= delivered_before_ms),
        )
        query = select(Command).where(may_be_due).order_by(Command.next_attempt_ms, Command.id)
        return self._run(lambda s: [_view(c) for c in s.scalars(query)])

    def waiting(self, meter_ids: Collection[str]) -> list[CommandView]:
        """The commands of these meters that wait for them to wake (queued, or sent and
        not yet taken), closes first, then oldest first; and every close of theirs not
        yet finished (the other commands may not overtake one)."""
        if not meter_ids:
            return []
        query = (
            select(Command)
            .where(
                Command.meter_id.in_(sorted(meter_ids)),
                or_(
                    and_(
                        Command.state.in_(("queued", "sent")), Command.wake_expected_ms.is_not(None)
                    ),
                    and_(Command.action == "close", Command.state.in_(IN_FLIGHT)),
                ),
            )
            .order_by(Command.meter_id, Command.action != "close", Command.created_ms)
        )
        return self._run(lambda s: [_view(c) for c in s.scalars(query)])

    def signed(self, command: CommandView, now_ms: int | None = None) -> WireCommand:
        """The wire form of ``command``, signed with its meter's key; a time set carries
        the time it is sent (``now_ms``), which the meter sets its clock to."""

        def work(session: Session) -> WireCommand:
            key = meter_of(session, command.meter_id).secret_key
            if not key:
                raise Conflict(f"meter {command.meter_id} has no key")
            wire = WireCommand(
                command_id=command.id,
                meter_id=command.meter_id,
                action=command.action,  # type: ignore[arg-type]
                issued_ms=now_ms if command.action == "time" and now_ms else command.created_ms,
                reason=command.reason,
                counter=command.counter,
                expires_ms=command.expires_ms,
                params=command.params,
            )
            return sign_command(key, wire)

        return self._run(work)

    def mark_published(
        self,
        command_id: str,
        now_ms: int,
        next_attempt_ms: int,
        platform_ref: str | None = None,
        wake_expected_ms: int | None = None,
    ) -> None:
        """Sent (once more); ``platform_ref``: the operator platform's id for this hand-over,
        by which its result will name the command; ``wake_expected_ms``: a sleeping meter's
        next wake-up, for a command it may not have taken yet."""

        def work(session: Session) -> None:
            command = session.get(Command, command_id)
            if command is None or command.state not in ("queued", "sent"):
                return
            if platform_ref is not None:
                command.platform_refs = [*(command.platform_refs or ()), platform_ref]
            command.wake_expected_ms = wake_expected_ms
            command.state = "sent"
            command.sent_ms = command.sent_ms or now_ms
            command.attempts += 1
            command.next_attempt_ms = next_attempt_ms
            command.updated_ms = now_ms

        self._run(work)

    def finish(self, command_id: str, state: str, now_ms: int, error: str) -> CommandView:
        """End an in-flight command as ``expired`` or ``timed_out``."""

        def work(session: Session) -> CommandView:
            command = _command(session, command_id)
            if command.state not in IN_FLIGHT:
                raise Conflict(f"command {command_id} is already {command.state}")
            command.state, command.error = state, error
            command.finished_ms = command.updated_ms = now_ms
            command.wake_expected_ms = None
            return _view(command)

        return self._run(work)

    def apply_reply(
        self, reply: CommandReply, now_ms: int
    ) -> tuple[ReplyOutcome, CommandView | None]:
        """A meter's reply, checked against the meter's key and bound to a command of that
        meter before it changes anything. Only then does its valve become the meter's
        valve state, and only if it is newer than the stored one. A meter that refuses a
        counter it saw with another command (``counter_reused``) gets the command again
        with a fresh counter."""

        def work(session: Session) -> tuple[ReplyOutcome, CommandView | None]:
            command = session.get(Command, reply.command_id)
            if command is None or command.meter_id != reply.meter_id:
                return "unknown_command", None
            meter = meter_of(session, reply.meter_id)
            if not meter.secret_key or not signature_ok(meter.secret_key, reply):
                return "bad_signature", _view(command)
            return _apply_reply(session, command, meter, reply, now_ms)

        return self._run(work)

    def apply_sequence_reply(
        self, reply: SequenceReply, now_ms: int
    ) -> tuple[ReplyOutcome, CommandView | None]:
        """A reply in a protocol without command ids or signatures (CJ/T 188): bound to the
        meter's newest command in flight whose counter's low byte is the reply's sequence
        number (any in flight when the reply names none), then applied as a signed reply
        is. Its valve comes from the meter's telemetry, never from the reply."""
        serial = reply.serial
        return self._apply_unsigned(
            reply.meter_id,
            lambda c: serial is None or c.counter % 256 == serial,
            (reply.result, reply.ts_ms, reply.error),
            now_ms,
        )

    def apply_platform_reply(
        self, reply: PlatformReply, now_ms: int
    ) -> tuple[ReplyOutcome, CommandView | None]:
        """An operator platform's result for a command it was handed (OneNET's cached
        command, CTWing's command): bound to the meter's command in flight that the
        platform gave that id, then applied as a sequence reply is."""
        return self._apply_unsigned(
            reply.meter_id,
            lambda c: reply.ref in (c.platform_refs or ()),
            (reply.result, reply.ts_ms, reply.error),
            now_ms,
        )

    def _apply_unsigned(
        self,
        meter_id: str,
        names: Callable[[Command], bool],
        answer: tuple[str, int, str | None],
        now_ms: int,
    ) -> tuple[ReplyOutcome, CommandView | None]:
        result, ts_ms, error = answer

        def work(session: Session) -> tuple[ReplyOutcome, CommandView | None]:
            in_flight = session.scalars(
                select(Command)
                .where(Command.meter_id == meter_id, Command.state.in_(("sent", "delivered")))
                .order_by(Command.created_ms.desc())
            )
            command = next((c for c in in_flight if names(c)), None)
            if command is None:
                return "unknown_command", None
            meter = meter_of(session, meter_id)
            signed = CommandReply(command.id, meter_id, result, ts_ms, None, error)
            return _apply_reply(session, command, meter, signed, now_ms)

        return self._run(work)

    def confirm_from_telemetry(
        self, now_ms: int, owns: Callable[[str], bool] = lambda _meter_id: True
    ) -> list[CommandView]:
        """Delivered commands (of the meters ``owns`` accepts) whose meter's telemetry now
        shows the valve where the command put it: succeeded. A close records why the meter
        is closed; an open clears it."""

        def work(session: Session) -> list[CommandView]:
            rows = session.execute(
                select(Command, Meter)
                .join(Meter, Meter.id == Command.meter_id)
                .where(Command.state == "delivered")
            ).all()
            done = []
            for command, meter in rows:
                if not owns(meter.id):
                    continue
                reply_ts = (command.reply or {}).get("ts")
                if not telemetry_agrees(
                    command.action, reply_ts, meter.valve, meter.last_reading_ms
                ):
                    continue
                command.state = "succeeded"
                command.finished_ms = command.updated_ms = now_ms
                if command.action == "close":  # the set grows; a new arm is needed
                    reasons = command.closures or (command.kind,)
                    meter.closures_text = closures_text((*meter.closures, *reasons))
                    meter.armed_ms = None
                elif command.action == "open":
                    meter.closures_text, meter.armed_ms = "", None
                done.append(_view(command))
            return done

        return self._run(work)

    def meter_keys(self, meter_ids: list[str]) -> dict[str, str]:
        """The meters' secret keys, created if missing: for provisioning meters (and the
        simulator), never for the API."""

        def work(session: Session) -> dict[str, str]:
            return {meter_id: ensure_key(meter_of(session, meter_id)) for meter_id in meter_ids}

        return self._run(work)
