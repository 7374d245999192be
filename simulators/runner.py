"""Runs a fleet of simulated meters on MQTT: telemetry at each meter's report interval,
events when faults start, retained status, and obedience to valve commands."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

import paho.mqtt.client as paho

from meters.clock import wall_clock_ms
from meters.errors import ProtocolError
from meters.mqtt import MqttSession
from meters.protocol import parse_command, parse_topic, reading_to_json, subscription, topic
from safety.domain import MeterEvent, Reading
from simulators.fleet import FleetPlan
from simulators.meter import SimMeter
from simulators.schedule import ReportSchedule

log = logging.getLogger(__name__)

HISTORY_CHUNK = 500
TICK_S = 0.05


def runner_subscriptions() -> list[tuple[str, int]]:
    return [(subscription("commands"), 1)]


class FleetRunner:
    def __init__(
        self, plan: FleetPlan, session: MqttSession, clock: Callable[[], int] = wall_clock_ms
    ) -> None:
        self.plan = plan
        self._meters = {m.meter_id: m for m in plan.meters}
        self._session = session
        self._client = session.client
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="simulator", daemon=True)
        self.published = 0
        self.commands_obeyed = 0
        self._client.on_message = self._on_message

    def start(self) -> None:
        self._session.start()
        self._thread.start()

    def wait_connected(self, timeout_s: float) -> bool:
        return self._session.wait_ready(timeout_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        if self._session.ready:
            for meter_id in self._meters:
                self._client.publish(topic(meter_id, "status"), b"offline", qos=1, retain=True)
        self._session.stop()

    def meter(self, meter_id: str) -> SimMeter:
        return self._meters[meter_id]

    # -- MQTT callbacks -------------------------------------------------------------------

    def _on_message(self, _client: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        try:
            meter_id = parse_topic(msg.topic).meter_id
            command = parse_command(meter_id, bytes(msg.payload))
        except ProtocolError as exc:
            log.warning("simulator: bad command on %s: %s", msg.topic, exc)
            return
        meter = self._meters.get(meter_id)
        if meter is None:
            return
        now_ms = self._clock()
        with self._lock:
            reply = meter.handle(command, now_ms)
            reading = meter.read(now_ms + 1)
        self._client.publish(topic(meter_id, "replies"), reply.to_payload(), qos=1)
        self._publish_readings(meter_id, [reading])
        self.commands_obeyed += 1
        log.info("simulator: meter %s obeyed %s (%s)", meter_id, command.action, reply.result)

    # -- publishing -----------------------------------------------------------------------

    def _run(self) -> None:
        if not self._session.wait_ready(30):
            log.error("simulator: no MQTT connection to %s after 30 s", self._session.endpoint.url)
        start_ms = self._clock()
        for meter in self.plan.meters:
            self._client.publish(topic(meter.meter_id, "status"), b"online", qos=1, retain=True)
            self._upload_history(meter, start_ms)
        meters = self.plan.meters
        schedule = ReportSchedule([m.profile.report_interval_s * 1000 for m in meters], start_ms)
        while not self._stop.wait(TICK_S):
            now_ms = self._clock()
            for index in schedule.due(now_ms):
                meter = meters[index]
                with self._lock:
                    events = meter.due_events(now_ms)
                    reading = meter.read(now_ms)
                for event in events:
                    self._publish_event(event)
                self._publish_readings(meter.meter_id, [reading])

    def _upload_history(self, meter: SimMeter, now_ms: int) -> None:
        starts = [f.start_ms for f in meter.faults if f.start_ms < now_ms]
        if not starts:
            return
        with self._lock:
            history = meter.history(min(starts), now_ms, meter.profile.report_interval_s * 1000)
        for i in range(0, len(history), HISTORY_CHUNK):
            self._publish_readings(meter.meter_id, history[i : i + HISTORY_CHUNK])

    def _publish_readings(self, meter_id: str, readings: list[Reading]) -> None:
        if len(readings) == 1:
            body: object = reading_to_json(readings[0])
        else:
            body = {"seq": self.published, "readings": [reading_to_json(r) for r in readings]}
        self._client.publish(topic(meter_id, "telemetry"), json.dumps(body).encode(), qos=1)
        self.published += 1

    def _publish_event(self, event: MeterEvent) -> None:
        body = json.dumps({"ts": event.ts_ms, "event": event.event}).encode()
        self._client.publish(topic(event.meter_id, "events"), body, qos=1)
        log.info("simulator: meter %s reports %s", event.meter_id, event.event)
