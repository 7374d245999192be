"""The command dispatcher: publishes signed commands, retries them while the meter is
silent, and ends them (expired, timed out) with an alarm to operators. It runs in the
ingester's worker thread between batches, and picks up commands queued by any process
(an operator's command through the API) or left in flight by a previous run: a restart
resumes them, with the same id and counter, so the meter never acts twice."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Literal

from contract.decisions import Decision
from contract.lifecycle import CommandTiming, Progress, due_step, next_attempt_ms
from contract.protocol import SequenceReply
from devices.profiles import DeviceProfile
from ingest.commands import CommandPublisher
from ingest.errors import UndeliverableCommand
from meters.command_store import CommandStore, NewCommand
from meters.command_windows import command_window, expected_wake
from meters.errors import Conflict, NotFound
from meters.registry import Registry
from meters.views import SAFETY_ACTOR, Actor, CommandView, CommandWindow
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
        profile_of: Callable[[str], DeviceProfile | None] = lambda _meter_id: None,
    ) -> None:
        self._owns = owns  # partitioned mode: only this worker's meters
        self._registry = registry
        self._store: CommandStore = registry.commands
        self._publisher = publisher
        self._timing = timing
        self._clock = clock
        self._profile_of = profile_of  # a meter's device profile (None: always connected)
        self._uplinks: dict[str, int] = {}  # a sleeping meter's last uplink, as received

    def window(self, meter_id: str, now_ms: int) -> CommandWindow:
        """When a command for the meter can reach it (meters.command_windows)."""
        default_ms = int(self._timing.ttl_s * 1000)
        profile = self._profile_of(meter_id)
        if profile is None or not profile.sleeps:
            return CommandWindow(default_ms)
        return command_window(profile, self._last_uplink(meter_id), now_ms, default_ms)

    def _last_uplink(self, meter_id: str) -> int | None:
        last = self._uplinks.get(meter_id)
        return self._registry.meters.get(meter_id).last_seen_ms if last is None else last

    def request(self, new: NewCommand, actor: Actor, now_ms: int) -> CommandView | None:
        """Queue a command and publish it at once (a command in flight is joined), or,
        for a sleeping meter that does not listen now, when its next uplink comes. None
        when the meter was never provisioned: it has no key, so no command can be signed."""
        try:
            window = self.window(new.meter_id, now_ms)
            view, created = self._store.create(new, actor, now_ms, window.ttl_ms, window)
        except (NotFound, Conflict) as exc:
            log.error("cannot %s meter %s: %s", new.action, new.meter_id, exc)
            return None
        if not created:
            log.info("%s for meter %s joins command %s", new.action, new.meter_id, view.id)
        elif window.hold:
            log.warning(
                "%s command %s waits for meter %s to wake (expected at %s)",
                new.action,
                view.id,
                new.meter_id,
                window.wake_expected_ms,
            )
        else:
            self.publish(view, now_ms)
        return view

    def on_uplinks(self, meter_ids: Collection[str], now_ms: int) -> None:
        """Sleeping meters have just sent something: each listens for a while. Their
        waiting commands go now, closes first; an arm or open waits while a close of the
        meter is not finished (it never overtakes a pending close)."""
        for meter_id in meter_ids:
            self._uplinks[meter_id] = now_ms
        waiting = self._store.waiting([m for m in meter_ids if self._owns(m)])
        for meter_id in sorted({c.meter_id for c in waiting}):
            mine = [c for c in waiting if c.meter_id == meter_id]
            closing = any(c.action == "close" for c in mine)
            for command in mine:
                held = command.state in ("queued", "sent") and command.wake_expected_ms is not None
                if held and (command.action == "close" or not closing):
                    self.publish(command, now_ms)

    def publish(self, command: CommandView, now_ms: int) -> None:
        wire = self._store.signed(command, now_ms)
        try:
            platform_ref = self._publisher.publish(wire)
        except PublishRefused as exc:  # not marked published: the next poll sends it again
            log.error("command %s to meter %s not sent: %s", command.id, command.meter_id, exc)
            return
        except UndeliverableCommand as exc:  # it can never go as it is: it fails
            self.give_up(command, "failed", str(exc), now_ms, finish=True)
            return
        retry_at, wake_ms = self._after_sending(command, platform_ref is not None, now_ms)
        self._store.mark_published(command.id, now_ms, retry_at, platform_ref, wake_ms)
        log.warning(
            "%s command %s to meter %s (attempt %d): %s",
            command.action,
            command.id,
            command.meter_id,
            command.attempts + 1,
            command.reason,
        )

    def _after_sending(
        self, command: CommandView, platform_holds: bool, now_ms: int
    ) -> tuple[int, int | None]:
        """When a command just sent is due again, and the meter's next expected wake-up: a
        platform holds it for the meter until it expires; a sleeping meter on MQTT gets it
        again at its next uplink, should it not have taken it; a connected meter, after
        the retry backoff."""
        profile = self._profile_of(command.meter_id)
        sleeps_on_mqtt = profile is not None and profile.wakes_by_uplink
        if not (platform_holds or sleeps_on_mqtt):
            return next_attempt_ms(command.attempts + 1, now_ms, self._timing), None
        if profile is None:
            return command.expires_ms, None
        last = self._last_uplink(command.meter_id)
        return command.expires_ms, expected_wake(profile, last, now_ms)

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

    def set_clock(self, meter_id: str, now_ms: int) -> bool:
        """A time set to a meter whose clock drifted, where its protocol has one: in its
        own (CJ/T 188, DLMS), or for gasguard's JSON a signed ``time`` command, queued as
        any command is (a sleeping meter gets it in its window); whether it went or was
        queued. A refusal is logged: the drift stays flagged."""
        try:
            if self._publisher.set_clock(meter_id, now_ms):
                return True
        except (PublishRefused, UndeliverableCommand, NotFound) as exc:  # never stops a batch
            log.error("time set to meter %s not sent: %s", meter_id, exc)
            return False
        profile = self._profile_of(meter_id)
        if profile is not None and profile.codec != "gasguard-json":
            return False  # a platform's meter takes the network's time
        new = NewCommand(meter_id, "time", "the meter's clock drifted (clock watch)")
        return self.request(new, SAFETY_ACTOR, now_ms) is not None

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
