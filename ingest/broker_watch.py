"""The broker's own drop counter, watched (Mosquitto: ``$SYS/broker/publish/messages/dropped``,
the messages it discarded because a client's in-flight window and queue were full).

A broker that drops a QoS 1 message it already acknowledged to a meter loses a reading
that no part of gasguard ever saw: the one place it shows is that counter. A small MQTT
session of the worker (QoS 0, its own client id, so a refused ``$SYS`` subscription never
touches a lane) hands each value to ``on_value``; ``check`` raises a critical
``broker_dropped`` alarm (meter id ``broker``) when the counter moved past the total the
newest such alarm recorded, and keeps the fault for the worker's health report. The
counter counts from the broker's start: a value below the recorded total means the broker
restarted, and counting starts again from zero.

EMQX: the equivalent is the ``messages.dropped`` metric (``GET /api/v5/metrics``, or the
``$SYS/brokers/<node>/metrics/messages/dropped`` topic when ``sys_topics`` are on); see
docs/ingest.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from contract.decisions import Decision
from meters.registry import Registry
from transport.mqtt import MqttSession

log = logging.getLogger(__name__)
BROKER = "broker"  # the alarm's meter id
RULE = "broker_dropped"


def newly_dropped(recorded_total: int, value: int) -> int:
    """How many drops ``value`` adds to what an alarm already recorded (0: nothing new).
    A value below the recorded total: the broker restarted and counts from zero."""
    base = recorded_total if value >= recorded_total else 0
    return value - base


class BrokerWatch:
    def __init__(self, registry: Registry, every_s: float, clock: Callable[[], int]) -> None:
        self._registry = registry
        self.every_s = every_s  # the supervisor's chore checks at this cadence
        self._clock = clock
        self._latest: int | None = None
        self._recorded: int | None = None  # the newest alarm's total, read once
        self._session: MqttSession | None = None
        self.fault = ""

    def attach(self, session: MqttSession) -> None:
        self._session = session

    def start(self) -> None:
        if self._session is not None:
            self._session.start()

    def stop(self) -> None:
        if self._session is not None:
            self._session.stop()

    def on_value(self, payload: bytes) -> None:
        """From the watch's MQTT thread: the counter's newest value."""
        try:
            self._latest = int(payload.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            log.warning("broker drop counter not a number: %r", payload[:40])

    @property
    def seen(self) -> bool:
        return self._latest is not None

    def check_now(self) -> Decision | None:
        """One check at the clock's time (the supervisor's chores decide when)."""
        return self.check(self._clock())

    def check(self, now_ms: int) -> Decision | None:
        value = self._latest
        if value is None:
            return None
        if self._recorded is None:
            newest = self._registry.alarms.find(rule=RULE, limit=1)
            self._recorded = int(newest[0].detail.get("dropped_total", 0)) if newest else 0
        added = newly_dropped(self._recorded, value)
        if added <= 0:
            self._recorded = value
            return None
        detail = {
            "dropped_total": value,
            "dropped_new": added,
            "why": "the broker discarded messages (in-flight window and queue full): "
            "readings it acknowledged to meters are lost",
        }
        decision = Decision(now_ms, BROKER, RULE, "alarm", detail)
        self._registry.alarms.record(decision, now_ms)
        self._recorded = value
        self.fault = f"the broker dropped {value} messages since it started ({added} new)"
        log.critical("%s", self.fault)
        return decision
