"""The command dispatcher: publishes signed commands, retries them while the meter is
silent, and ends them (expired, timed out) with an alarm to operators. It runs in the
ingester's worker thread between batches, and picks up commands queued by any process
(an operator's command through the API) or left in flight by a previous run: a restart
resumes them, with the same id and counter, so the meter never acts twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

from contract.decisions import Decision
from contract.lifecycle import CommandTiming, Progress, due_step, next_attempt_ms
from contract.protocol import SequenceReply
from ingest.commands import CommandPublisher
from ingest.errors import UndeliverableCommand
from meters.command_store import CommandStore, NewCommand
from meters.errors import Conflict, NotFound
from meters.registry import Registry
from meters.views import Actor, CommandView
from transport.errors import PublishRefused

log = logging.getLogger(__name__)


def progress(command: CommandView) -> Progress:
    return Progress(
        command.state,
        command.attempts,
        command.next_attempt_ms,
        command.expires_ms,
        command.delivered_ms,
    )


class CommandDispatcher:
    def __init__(
        self,
        registry: Registry,
        publisher: CommandPublisher,
        timing: CommandTiming,
        clock: Callable[[], int],
        owns: Callable[[str], bool] = lambda _meter_id: True,
    ) -> None:
        self._owns = owns  # partitioned mode: only this worker's meters
        self._registry = registry
        self._store: CommandStore = registry.commands
        self._publisher = publisher
        self._timing = timing
        self._clock = clock

    def request(self, new: NewCommand, actor: Actor, now_ms: int) -> CommandView | None:
        """Queue and publish a command at once (a command in flight is joined). None when
        the meter was never provisioned: it has no key, so no command can be signed."""
        try:
            view, created = self._store.create(new, actor, now_ms, int(self._timing.ttl_s * 1000))
        except (NotFound, Conflict) as exc:
            log.error("cannot %s meter %s: %s", new.action, new.meter_id, exc)
            return None
        if created:
            self.publish(view, now_ms)
        else:
            log.info("%s for meter %s joins command %s", new.action, new.meter_id, view.id)
        return view

    def publish(self, command: CommandView, now_ms: int) -> None:
        wire = self._store.signed(command)
        try:
            platform_ref = self._publisher.publish(wire)
        except PublishRefused as exc:  # not marked published: the next poll sends it again
            log.error("command %s to meter %s not sent: %s", command.id, command.meter_id, exc)
            return
        except UndeliverableCommand as exc:  # it can never go as it is: it fails
            self.give_up(command, "failed", str(exc), now_ms, finish=True)
            return
        if platform_ref is None:
            retry_at = next_attempt_ms(command.attempts + 1, now_ms, self._timing)
        else:  # the platform holds it for the meter until it expires: never sent twice
            retry_at = command.expires_ms
        self._store.mark_published(command.id, now_ms, retry_at, platform_ref)
        log.warning(
            "%s command %s to meter %s (attempt %d): %s",
            command.action,
            command.id,
            command.meter_id,
            command.attempts + 1,
            command.reason,
        )

    def run_now(self) -> None:
        """One poll at the clock's time (the lane's chores decide when: ingest.chores)."""
        self.run(self._clock())

    def run(self, now_ms: int) -> None:
        for done in self._store.confirm_from_telemetry(now_ms, self._owns):
            log.warning("command %s to meter %s succeeded", done.id, done.meter_id)
        delivered_before_ms = now_ms - int(self._timing.confirm_timeout_s * 1000)
        for command in self._store.due(now_ms, delivered_before_ms):
            if not self._owns(command.meter_id):
                continue
            step = due_step(progress(command), now_ms, self._timing)
            if step == "publish":
                self.publish(command, now_ms)
            elif step == "expire":
                self.give_up(command, "expired", "no reply before the command expired", now_ms)
            elif step == "time_out":
                reason = "the meter replied but its telemetry does not show the valve moved"
                self.give_up(command, "timed_out", reason, now_ms)

    def request_reading(self, meter_id: str) -> None:
        """Ask a meter that answers requests for a reading now (CJ/T 188, after it took a
        valve command: the reading confirms the valve). A refusal is logged: the meter's
        next scheduled answer confirms it as well."""
        try:
            self._publisher.request_reading(meter_id)
        except PublishRefused as exc:
            log.error("reading request to meter %s not sent: %s", meter_id, exc)

    def dlms_answer(
        self, meter_id: str, answer: bytes, now_ms: int
    ) -> SequenceReply | Literal["unknown_command"] | None:
        """A DLMS meter's answer to the exchange its command began (ingest.dlms_commands)."""
        return self._publisher.dlms_answer(meter_id, answer, now_ms)

    def give_up(
        self, command: CommandView, state: str, why: str, now_ms: int, finish: bool = False
    ) -> None:
        """An alarm first, then the final state (``finish``: also for ``failed``, which a
        reply otherwise sets): a crash between the two repeats the alarm (updating it),
        never loses it."""
        detail = {"command": command.id, "action": command.action, "state": state, "why": why}
        decision = Decision(now_ms, command.meter_id, f"command_{state}", "alarm", detail)
        self._registry.alarms.record(decision, now_ms)
        if finish or state in ("expired", "timed_out"):
            self._store.finish(command.id, state, now_ms, why)
        log.error("command %s to meter %s %s: %s", command.id, command.meter_id, state, why)
