"""Valve commands in the registry: creation (counter, expiry, audit), signing with the
meter's key, and every lifecycle transition (``meters.lifecycle`` decides; this module
stores). Each method is one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from meters.audit import add_audit
from meters.db import Transactions, fetch
from meters.errors import Conflict
from meters.lifecycle import IN_FLIGHT, after_reply, telemetry_agrees
from meters.models import Command, Meter
from meters.protocol import Command as WireCommand
from meters.protocol import CommandReply
from meters.signing import new_key, sign_command, signature_ok
from meters.views import Actor, CommandView

ReplyOutcome = Literal["applied", "ignored", "unknown_command", "bad_signature"]
ClosureKind = Literal["safety", "billing", "maintenance"]


@dataclass(frozen=True, slots=True)
class NewCommand:
    meter_id: str
    action: str
    reason: str
    kind: ClosureKind = "safety"


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
    )


def meter_of(session: Session, meter_id: str) -> Meter:
    return fetch(session, Meter, meter_id, f"meter {meter_id!r} is not registered")


def _command(session: Session, command_id: str) -> Command:
    return fetch(session, Command, command_id, f"command {command_id!r} does not exist")


def ensure_key(meter: Meter) -> str:
    if not meter.secret_key:
        meter.secret_key = new_key()
    return meter.secret_key


class CommandStore:
    def __init__(self, transactions: Transactions) -> None:
        self._run = transactions.run

    def create(
        self, new: NewCommand, actor: Actor, now_ms: int, ttl_ms: int
    ) -> tuple[CommandView, bool]:
        """Queue a command with the meter's next counter and an expiry, and audit it, in one
        transaction. A command of the same action in flight for the meter is joined
        instead (returned with ``False``)."""

        def work(session: Session) -> tuple[CommandView, bool]:
            meter = meter_of(session, new.meter_id)
            in_flight = session.scalars(
                select(Command).where(
                    Command.meter_id == new.meter_id,
                    Command.action == new.action,
                    Command.state.in_(IN_FLIGHT),
                )
            ).first()
            if in_flight is not None:
                return _view(in_flight), False
            if not meter.secret_key:
                raise Conflict(
                    f"meter {new.meter_id} has no key (seen, but never provisioned): "
                    "no command can be signed for it"
                )
            meter.command_counter += 1
            command = Command(
                id=str(uuid.uuid4()),
                meter_id=new.meter_id,
                action=new.action,
                reason=new.reason,
                requested_by=actor.username,
                source=actor.source,
                kind=new.kind,
                state="queued",
                counter=meter.command_counter,
                created_ms=now_ms,
                expires_ms=now_ms + ttl_ms,
                attempts=0,
                next_attempt_ms=now_ms,
                updated_ms=now_ms,
            )
            session.add(command)
            detail = {"command": command.id, "kind": new.kind}
            target = f"meter:{new.meter_id}"
            add_audit(session, actor, f"command.{new.action}", target, new.reason, now_ms, detail)
            session.flush()
            return _view(command), True

        return self._run(work)

    def get(self, command_id: str) -> CommandView:
        return self._run(lambda s: _view(_command(s, command_id)))

    def find(
        self,
        meter_id: str | None = None,
        state: str | None = None,
        limit: int = 100,
        offset: int = 0,
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

    def signed(self, command: CommandView) -> WireCommand:
        """The wire form of ``command``, signed with its meter's key."""

        def work(session: Session) -> WireCommand:
            key = meter_of(session, command.meter_id).secret_key
            if not key:
                raise Conflict(f"meter {command.meter_id} has no key")
            wire = WireCommand(
                command_id=command.id,
                meter_id=command.meter_id,
                action=command.action,  # type: ignore[arg-type]
                issued_ms=command.created_ms,
                reason=command.reason,
                counter=command.counter,
                expires_ms=command.expires_ms,
            )
            return sign_command(key, wire)

        return self._run(work)

    def mark_published(self, command_id: str, now_ms: int, next_attempt_ms: int) -> None:
        def work(session: Session) -> None:
            command = session.get(Command, command_id)
            if command is None or command.state not in ("queued", "sent"):
                return
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
            return _view(command)

        return self._run(work)

    def apply_reply(
        self, reply: CommandReply, now_ms: int
    ) -> tuple[ReplyOutcome, CommandView | None]:
        """A meter's reply, checked against the meter's key before it changes anything."""

        def work(session: Session) -> tuple[ReplyOutcome, CommandView | None]:
            command = session.get(Command, reply.command_id)
            if command is None or command.meter_id != reply.meter_id:
                return "unknown_command", None
            meter = meter_of(session, reply.meter_id)
            if not meter.secret_key or not signature_ok(meter.secret_key, reply):
                return "bad_signature", _view(command)
            state = after_reply(command.state, reply.result)
            if state is None:
                return "ignored", _view(command)
            command.state = state
            command.replied_ms = command.updated_ms = now_ms
            command.reply = {
                "result": reply.result,
                "ts": reply.ts_ms,
                "valve": reply.valve,
                "error": reply.error,
            }
            if state == "delivered":
                command.delivered_ms = now_ms
            else:
                command.finished_ms, command.error = now_ms, reply.error or "rejected"
            return "applied", _view(command)

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
                if command.action == "close":
                    meter.closure = command.kind
                elif command.action == "open":
                    meter.closure = None
                done.append(_view(command))
            return done

        return self._run(work)

    def closure(self, meter_id: str) -> str | None:
        """Why the meter's valve was last closed by a command (None: not closed by one)."""
        return self._run(lambda s: meter_of(s, meter_id).closure)

    def meter_keys(self, meter_ids: list[str]) -> dict[str, str]:
        """The meters' secret keys, created if missing: for provisioning meters (and the
        simulator), never for the API."""

        def work(session: Session) -> dict[str, str]:
            return {meter_id: ensure_key(meter_of(session, meter_id)) for meter_id in meter_ids}

        return self._run(work)
