"""Carries out the safety engine's decisions (an alarm in the registry, and for a shutoff
a signed close command through the dispatcher) and the meters' replies to commands."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from contract.decisions import Decision
from contract.protocol import CommandReply, PlatformReply, SequenceReply
from devices.errors import CodecError
from ingest.dispatch import CommandDispatcher
from ingest.log_burst import log_burst
from meters.command_store import NewCommand
from meters.registry import Registry
from meters.views import SAFETY_ACTOR, CommandView, NewDeadLetter

log = logging.getLogger(__name__)


def late_note(event_ms: int, learned_ms: int, late_after_ms: int) -> str:
    """For a close decided on data that arrived late (a meter that reports once a day):
    how old the data was, so the operator knows the leak may be a day old, or gone."""
    late_ms = learned_ms - event_ms
    if late_ms < late_after_ms:
        return ""
    hours, minutes = divmod(late_ms // 60_000, 60)
    return f"; on data {hours} h {minutes} min old" if hours else f"; on data {minutes} min old"


class Actuator:
    def __init__(
        self, registry: Registry, dispatcher: CommandDispatcher, late_after_ms: int = 600_000
    ) -> None:
        self._registry = registry
        self._dispatcher = dispatcher
        self._late_after_ms = late_after_ms  # a close on older data says how old

    def dispatch_due(self) -> None:
        """Publish, retry and expire the commands that are due (a chore between batches)."""
        self._dispatcher.run_now()

    def record(self, decisions: list[Decision], now_ms: int) -> list[NewCommand]:
        """The batch's alarms, in one transaction; returns the closes its shutoffs need
        (each then its own step: ``close``)."""
        recorded = list(
            zip(decisions, self._registry.alarms.record_many(decisions, now_ms), strict=True)
        )
        opened = [(d, alarm) for d, (alarm, new_alarm) in recorded if new_alarm]
        log_burst(
            log,
            logging.WARNING,
            opened,
            lambda item: (
                "new alarm %s: meter %s rule %s action %s detail %s",
                item[1].id,
                item[0].meter_id,
                item[0].rule,
                item[0].action,
                item[0].detail,
            ),
            lambda item: item[0].rule,
            "new alarms",
        )
        if len(recorded) > len(opened):
            log.info("%d decisions repeated alarms already open", len(recorded) - len(opened))
        return [
            NewCommand(
                d.meter_id,
                "close",
                f"{d.rule} (alarm {alarm.id}){late_note(d.ts_ms, now_ms, self._late_after_ms)}",
                "safety",
            )
            for d, (alarm, _new) in recorded
            if d.action == "shutoff"
        ]

    def close(self, close: NewCommand, now_ms: int) -> None:
        self._dispatcher.request(close, SAFETY_ACTOR, now_ms)

    def on_reply(self, reply: CommandReply, topic: str, payload: bytes, now_ms: int) -> None:
        """Apply a meter's reply. A reply with a bad signature, or to no command of that
        meter, changes nothing and is dead-lettered. A meter refusing a command in flight
        fails it (alarm); a meter refusing anything else (a command the server did not
        send now: forged, altered or replayed) raises a ``command_refused`` alarm."""
        outcome, command = self._registry.commands.apply_reply(reply, now_ms)
        if outcome in ("bad_signature", "unknown_command"):
            reason = f"reply to command {reply.command_id}: {outcome.replace('_', ' ')}"
            self._dead_letter(reply.meter_id, topic, outcome, reason, payload, now_ms)
        answer = Answer(reply.meter_id, reply.command_id, reply.result, reply.error)
        self._after_reply(outcome, command, answer, now_ms)

    def on_sequence_reply(self, reply: SequenceReply, topic: str, now_ms: int) -> None:
        """Apply a reply that names its command by sequence number (CJ/T 188), as a signed
        reply is. Delivered, the meter is asked for a reading at once: its telemetry
        confirms the valve moved (a CJ/T 188 meter answers requests, it does not push)."""
        outcome, command = self._registry.commands.apply_sequence_reply(reply, now_ms)
        if outcome == "unknown_command":
            reason = f"reply {reply.serial} of meter {reply.meter_id}: no command in flight has it"
            payload = f"{reply.result} {reply.error or ''}".strip().encode()
            self._dead_letter(reply.meter_id, topic, outcome, reason, payload, now_ms)
        answer = Answer(reply.meter_id, f"sequence {reply.serial}", reply.result, reply.error)
        self._after_reply(outcome, command, answer, now_ms)
        if outcome == "applied" and command is not None and command.state == "delivered":
            self._dispatcher.request_reading(reply.meter_id)

    def set_clock(self, meter_id: str, now_ms: int) -> bool:
        """Set the meter's clock to ``now_ms`` where its protocol can; whether it went."""
        return self._dispatcher.set_clock(meter_id, now_ms)

    def on_uplinks(self, meter_ids: set[str], now_ms: int) -> None:
        """Sleeping meters listen after their uplink: their waiting commands go now."""
        self._dispatcher.on_uplinks(meter_ids, now_ms)

    def on_dlms_answer(self, meter_id: str, answer: bytes, topic: str, now_ms: int) -> None:
        """A DLMS meter's answer in a command's exchange: the exchange goes on, and the
        answer to the action is the command's reply (bound to the meter's command in
        flight, as a CJ/T 188 answer is). An answer outside an exchange is dead-lettered."""
        try:
            reply = self._dispatcher.dlms_answer(meter_id, answer, now_ms)
        except CodecError as exc:
            self._dead_letter(meter_id, topic, exc.code, f"DLMS: {exc}", answer, now_ms)
            return
        if reply == "unknown_command":
            reason = f"DLMS answer of meter {meter_id}: no command exchange in flight"
            self._dead_letter(meter_id, topic, reply, reason, answer, now_ms)
        elif reply is not None:
            self.on_sequence_reply(reply, topic, now_ms)

    def on_platform_reply(self, reply: PlatformReply, topic: str, now_ms: int) -> None:
        """Apply an operator platform's result for a command it was handed, bound by the
        id the platform gave it; a result for no command in flight is dead-lettered."""
        outcome, command = self._registry.commands.apply_platform_reply(reply, now_ms)
        if outcome == "unknown_command":
            reason = f"platform result {reply.ref} of meter {reply.meter_id}: no command in flight"
            self._dead_letter(reply.meter_id, topic, outcome, reason, reply.to_payload(), now_ms)
        answer = Answer(reply.meter_id, f"platform {reply.ref}", reply.result, reply.error)
        self._after_reply(outcome, command, answer, now_ms)

    def _dead_letter(
        self, meter_id: str, topic: str, code: str, reason: str, payload: bytes, now_ms: int
    ) -> None:
        self._registry.dead_letters.add([NewDeadLetter(now_ms, topic, code, reason, payload)])
        log.error("meter %s: %s", meter_id, reason)

    def _after_reply(
        self, outcome: str, command: CommandView | None, answer: Answer, now_ms: int
    ) -> None:
        if outcome == "applied" and command is not None and command.state == "queued":
            log.warning(
                "meter %s had seen command %s's counter with another command "
                "(counter_reused): signed again with counter %d",
                answer.meter_id,
                command.id,
                command.counter,
            )
        elif outcome == "applied" and command is not None and command.state == "failed":
            why = f"the meter refused it: {answer.error or 'no reason given'}"
            self._dispatcher.give_up(command, "failed", why, now_ms)
        elif outcome != "bad_signature" and answer.result == "rejected":
            reference = command.id if command is not None else answer.command
            detail = {"command": reference, "error": answer.error, "known": bool(command)}
            refused = Decision(now_ms, answer.meter_id, "command_refused", "alarm", detail)
            self._registry.alarms.record(refused, now_ms)
            log.error("meter %s refused command %s: %s", answer.meter_id, reference, answer.error)


@dataclass(frozen=True, slots=True)
class Answer:
    """What a reply says, whatever its protocol."""

    meter_id: str
    command: str  # the command it names: an id, or a sequence number
    result: str
    error: str | None
