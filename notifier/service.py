"""The notifier loop: every ``poll_s``, the alarms raised since its last look go to the
channels their routes name (queued once each; ``on-call`` is whoever the rota has on
duty), and every notification due is sent, its outcome recorded: sent, queued again
after a backoff (doubling from ``retry_initial_s`` to ``retry_max_s``), or failed after
``max_attempts`` or a refusal that trying again does not mend. A failed one raises the
critical ``notification_failed`` health alarm (meter id ``notifier``): a channel that
does not work must be seen. Every ``escalation_check_s``, a critical alarm still not
acknowledged goes to each escalation step whose time has come (the next person on call,
then the supervisor). One failing notification never stops the others."""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from contract.decisions import Decision
from meters.errors import NotFound
from meters.registry import Registry
from meters.views import AlarmView
from notifier.senders import Sender
from notify.channels import Channel, build
from notify.errors import ChannelError
from notify.links import AckClaim, sign_link
from notify.notice import Notice
from notify.rota import Shift, Step, due_steps, resolve
from notify.routing import Route, channels_for

log = logging.getLogger(__name__)
DETAIL_KEYS = ("flow_m3h", "pressure_kpa", "limit", "offset_s", "why", "state")


@dataclass(frozen=True, slots=True)
class NotifyTiming:
    poll_s: float = 1.0
    retry_initial_s: float = 2.0
    retry_max_s: float = 300.0
    max_attempts: int = 8
    look_back_s: float = 3600.0  # at start: alarms raised this long ago still notify
    escalation_check_s: float = 10.0
    link_ttl_s: float = 3600.0  # an acknowledgement link acts within this long


HEALTH_METER, HEALTH_RULE = "notifier", "notification_failed"


def notice_of(alarm: AlarmView, dashboard_url: str = "", district: str | None = None) -> Notice:
    detail = tuple((k, alarm.detail[k]) for k in DETAIL_KEYS if k in alarm.detail)
    url = f"{dashboard_url.rstrip('/')}/#alarm-{alarm.id}" if dashboard_url else ""
    return Notice(
        alarm.id,
        alarm.meter_id,
        alarm.rule,
        alarm.action,
        alarm.severity,
        alarm.opened_ts_ms,
        alarm.created_ms,
        detail,
        url,
        district=district,
    )


class Notifier:
    def __init__(
        self,
        registry: Registry,
        channels: Mapping[str, Channel],
        routes: Sequence[Route],
        sender: Sender,
        clock: Callable[[], int],
        timing: NotifyTiming = NotifyTiming(),
        dashboard_url: str = "",
        rota: Sequence[Shift] = (),
        escalation: Sequence[Step] = (),
        link_secret: str = "",
    ) -> None:
        self._link_secret = link_secret
        self._failing: set[str] = set()  # channels given up on since the health alarm
        self._rota = rota
        self._escalation = escalation
        self._escalated_at = 0
        self._registry = registry
        self._channels = channels
        self._routes = routes
        self._sender = sender
        self._clock = clock
        self._timing = timing
        self._dashboard_url = dashboard_url
        self._since_ms = clock() - int(timing.look_back_s * 1000)
        self._looked: dict[int, int] = {}  # alarm -> the change looked at (the cursor's ms)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="notifier", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self._sender.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # an outage of the registry: the next turn tries again
                log.exception("notifier turn failed")
            self._stop.wait(self._timing.poll_s)

    def run_once(self) -> None:
        now_ms = self._clock()
        self.enqueue_new(now_ms)
        if (
            self._escalation
            and now_ms - self._escalated_at >= self._timing.escalation_check_s * 1000
        ):
            self._escalated_at = now_ms
            self.escalate(now_ms)
        for notification in self._registry.notifications.due(now_ms):
            try:
                self._send(
                    notification.id,
                    notification.alarm_id,
                    notification.channel,
                    notification.attempts,
                    now_ms,
                )
            except Exception:  # one notification that breaks never holds back the others
                log.exception("notification %d on %s failed", notification.id, notification.channel)

    def enqueue_new(self, now_ms: int) -> None:
        """The alarms raised (still active) since the last look, to their routes' channels."""
        while True:
            changed = self._registry.alarms.changed_since(self._since_ms, 500)
            for alarm in changed:
                if alarm.state != "active" or self._looked.get(alarm.id) == alarm.updated_ms:
                    continue
                self._looked[alarm.id] = alarm.updated_ms
                notice = notice_of(alarm, district=self._district(alarm.meter_id))
                self._enqueue(alarm.id, channels_for(notice, self._routes, now_ms), now_ms)
            if changed:  # changes at the cursor's ms are read again: one committed late
                self._since_ms = max(self._since_ms, changed[-1].updated_ms)
                self._looked = {a: ms for a, ms in self._looked.items() if ms >= self._since_ms}
            if len(changed) < 500:
                return
            if changed[0].updated_ms == changed[-1].updated_ms:  # a full page of one ms
                self._since_ms += 1

    def _district(self, meter_id: str) -> str | None:
        """The meter's district, looked up only where a route asks for one."""
        if not any(route.districts for route in self._routes):
            return None
        try:
            return self._registry.meters.get(meter_id).district
        except NotFound:  # a health alarm's "meter" (notifier, broker)
            return None

    def _enqueue(self, alarm_id: int, channels: Sequence[str], now_ms: int) -> None:
        known = [c for c in resolve(channels, self._rota, now_ms) if c in self._channels]
        if known:
            queued = self._registry.notifications.enqueue(alarm_id, known, now_ms)
            if queued:
                log.info("alarm %d to %s", alarm_id, ", ".join(queued))

    def escalate(self, now_ms: int) -> None:
        """Critical alarms nobody has acknowledged: to each escalation step now due."""
        active = self._registry.alarms.find(state="active", limit=1000, critical_first=True)
        for alarm in active:
            if alarm.severity != "critical":
                break  # critical first: the rest are not
            for step in due_steps(self._escalation, alarm.created_ms, now_ms):
                self._enqueue(alarm.id, step.channels, now_ms)

    def _send(
        self, notification_id: int, alarm_id: int, channel_name: str, attempts: int, now_ms: int
    ) -> None:
        alarm = self._registry.alarms.get(alarm_id)
        channel = self._channels.get(channel_name)
        if channel is None:  # the channel left the settings: nothing can send it
            self._give_up(notification_id, alarm, channel_name, "no such channel", now_ms)
            return
        notice = dataclasses.replace(
            notice_of(alarm, self._dashboard_url, self._district(alarm.meter_id)),
            ack_url=self._ack_url(channel, alarm_id, now_ms),
        )
        try:
            built = build(channel, notice, now_ms)
        except ChannelError as exc:
            self._give_up(notification_id, alarm, channel_name, str(exc), now_ms)
            return
        outcome = self._sender.send(channel, built)
        record = self._registry.notifications.record
        if outcome.ok:
            record(notification_id, True, outcome.answer, now_ms, None)
            self._delivered_on(channel_name, now_ms)
            return
        log.warning("alarm %d on %s: %s", alarm_id, channel_name, outcome.answer)
        if not outcome.retry or attempts + 1 >= self._timing.max_attempts:
            self._give_up(notification_id, alarm, channel_name, outcome.answer, now_ms)
            return
        wait_s = min(self._timing.retry_max_s, self._timing.retry_initial_s * 2**attempts)
        record(notification_id, False, outcome.answer, now_ms, now_ms + int(wait_s * 1000))

    def _delivered_on(self, channel: str, now_ms: int) -> None:
        """A channel that failed delivers again: once every one does, the health alarm
        ends (cleared by gasguard, audited). (One that failed before a restart is not
        known here: its alarm waits for an operator.)"""
        if channel not in self._failing:
            return
        self._failing.discard(channel)
        if not self._failing:
            reason = "every notification channel delivers again"
            self._registry.alarms.clear_when_over(
                HEALTH_RULE, {HEALTH_METER: now_ms}, now_ms, reason
            )

    def _ack_url(self, channel: Channel, alarm_id: int, now_ms: int) -> str:
        """A link acknowledging as the channel's person (its ``ack_as``, or the rota's
        person it reaches), when the settings have a link secret and the dashboard's URL."""
        person = channel.ack_as or next(
            (s.person for s in self._rota if s.channel == channel.name), ""
        )
        if not (person and self._link_secret and self._dashboard_url):
            return ""
        expires_ms = now_ms + int(self._timing.link_ttl_s * 1000)
        claim = AckClaim(alarm_id, person, expires_ms, secrets.token_hex(16))
        token = sign_link(self._link_secret, claim)
        return f"{self._dashboard_url.rstrip('/')}/api/v1/ack-links/{token}"

    def _give_up(
        self, notification_id: int, alarm: AlarmView, channel: str, answer: str, now_ms: int
    ) -> None:
        """The notification failed: recorded, and the critical health alarm raised (one
        open at a time; a repeat updates it), naming the channel and its answer. The
        health alarm's own messages do not raise it again."""
        self._registry.notifications.record(notification_id, False, answer, now_ms, None)
        self._failing.add(channel)
        if alarm.rule == HEALTH_RULE:
            return
        detail = {"channel": channel, "alarm": alarm.id, "why": answer[:200]}
        decision = Decision(now_ms, HEALTH_METER, HEALTH_RULE, "alarm", detail)
        self._registry.alarms.record(decision, now_ms)
