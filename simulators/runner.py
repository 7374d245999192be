"""Runs a fleet of simulated meters on MQTT: telemetry at each meter's report interval,
events when faults start, retained status, and obedience to valve commands.

Meters behave as real ones do on the network: a meter may buffer several readings and
send them in one message (``readings_per_message``), read its own clock that is off by a
fixed offset (``clock_offset_ms``), and send a message twice as if its PUBACK was lost
(``resend_every``), and lose the network for a while (``offline``), measuring on and
uploading what they buffered when they are back. Most meters share one MQTT connection
(a fleet of 100,000 cannot have 100,000 sockets in one process); the few given their own
connection (``meter_session``) carry a last will, so the broker marks them offline when
the connection drops without a goodbye.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable, Mapping

from contract.errors import ProtocolError
from contract.events import MeterEvent
from contract.protocol import (
    TopicKind,
    parse_command,
    parse_topic,
    reading_to_json,
    subscription,
    topic,
)
from contract.readings import Reading
from meters.clock import wall_clock_ms
from simulators import cjt188_meter, dlms_meter, wmbus_meter
from simulators.fleet import FleetPlan
from simulators.meter import SimMeter
from simulators.platform import SimulatedPlatform
from simulators.schedule import ReportSchedule
from transport.mqtt import Incoming, MqttEndpoint, MqttSession

log = logging.getLogger(__name__)

HISTORY_CHUNK = 500
TICK_S = 0.05


def runner_subscriptions() -> list[tuple[str, int]]:
    """Commands, the requests a DTU forwards to CJ/T 188 meters, and DLMS meters'."""
    kinds: tuple[TopicKind, ...] = ("commands", "cjt188-down", "dlms-down")
    return [(subscription(kind), 1) for kind in kinds]


NO_EVENTS = frozenset({"cjt188", "dlms", "wmbus", "onenet", "ctwing"})  # without our events
PLATFORMS = frozenset({"onenet", "ctwing"})  # sleeping meters behind an operator platform
# the profiles whose meters send each reading in a message of their own protocol
ONE_READING_A_MESSAGE: dict[str, tuple[TopicKind, Callable[[Reading], bytes]]] = {
    "cjt188": ("cjt188-up", cjt188_meter.answer),
    "dlms": ("dlms", dlms_meter.reading_push),
    "wmbus": ("wmbus", wmbus_meter.telegram),
}


def meter_session(endpoint: MqttEndpoint, client_prefix: str, meter_id: str) -> MqttSession:
    """A meter's own connection: it subscribes to its own commands, and its last will sets
    its retained status to ``offline`` when the connection drops."""
    session = MqttSession(
        endpoint, f"{client_prefix}-{meter_id}", [(topic(meter_id, "commands"), 1)], meter_id
    )
    session.last_will(topic(meter_id, "status"), b"offline")
    return session


class FleetRunner:
    def __init__(
        self,
        plan: FleetPlan,
        session: MqttSession,
        clock: Callable[[], int] = wall_clock_ms,
        own_sessions: Mapping[str, MqttSession] | None = None,
        platform: SimulatedPlatform | None = None,
    ) -> None:
        self.plan = plan
        self._platform = platform  # the NB-IoT meters' operator platform
        self._meters = {m.meter_id: m for m in plan.meters}
        self._session = session
        self._own = dict(own_sessions or {})  # meter id -> its own connection
        self._clock = clock
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="simulator", daemon=True)
        self._pending: dict[str, list[Reading]] = {}  # readings a meter has not sent yet
        self._sent: dict[str, int] = {}  # messages per meter, for resend_every
        self._held_events: dict[str, list[MeterEvent]] = {}  # raised while out of network
        self._dlms: dict[str, dlms_meter.DlmsMeter] = {}  # a DLMS meter's own meter side
        self.published = 0
        self.commands_obeyed = 0
        for each in (session, *self._own.values()):
            each.on_message(functools.partial(self._on_message, each))

    def _sessions(self) -> list[MqttSession]:
        return [self._session, *self._own.values()]

    def start(self) -> None:
        for session in self._sessions():
            session.start()
        self._thread.start()

    def wait_connected(self, timeout_s: float) -> bool:
        return all(session.wait_ready(timeout_s) for session in self._sessions())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for meter_id in self._meters:
            session = self._own.get(meter_id, self._session)
            if session.ready:  # a goodbye: the last will is for connections that drop
                session.publish(topic(meter_id, "status"), b"offline", qos=1, retain=True)
        for session in self._sessions():
            session.stop()

    def _session_of(self, meter_id: str) -> MqttSession:
        return self._own.get(meter_id, self._session)

    def meter(self, meter_id: str) -> SimMeter:
        return self._meters[meter_id]

    # -- MQTT callbacks -------------------------------------------------------------------

    def _on_message(self, session: MqttSession, message: Incoming) -> None:
        if message.topic.endswith("/cjt188-down"):
            self._on_cjt188_request(message)
            return
        if message.topic.endswith("/dlms-down"):
            self._on_dlms_request(message)
            return
        try:
            meter_id = parse_topic(message.topic).meter_id
            command = parse_command(meter_id, message.payload)
        except ProtocolError as exc:
            log.warning("simulator: bad command on %s: %s", message.topic, exc)
            return
        meter = self._meters.get(meter_id)
        if meter is None or session is not self._session_of(meter_id):
            return  # a meter on its own connection hears its commands there
        now_ms = self._clock()
        if not meter.reachable(now_ms):
            return  # out of network: it never hears it; the server retries
        if not meter.listening(now_ms):
            log.info("simulator: meter %s sleeps: it does not hear %s", meter_id, command.action)
            return  # asleep: the server sends it again in the next window
        with self._lock:
            meter_now = meter.clock(now_ms)
            reply = meter.handle(command, meter_now)
            readings = [*self._pending.pop(meter_id, []), meter.read(meter_now + 1)]
        session.publish(topic(meter_id, "replies"), reply.to_payload(), qos=1)
        self._publish_readings(meter, readings)
        self.commands_obeyed += 1
        log.info("simulator: meter %s obeyed %s (%s)", meter_id, command.action, reply.result)

    def _addressed(self, message: Incoming, profile: str, now_ms: int) -> SimMeter | None:
        """The meter a request on its topic is for, when it speaks ``profile`` and the
        network reaches it now."""
        try:
            meter_id = parse_topic(message.topic).meter_id
        except ProtocolError:
            return None
        meter = self._meters.get(meter_id)
        if meter is None or meter.profile.device_profile != profile:
            return None
        return meter if meter.reachable(now_ms) else None

    def _on_cjt188_request(self, message: Incoming) -> None:
        """A request the DTU forwards to a CJ/T 188 meter: its answer goes back up."""
        now_ms = self._clock()
        meter = self._addressed(message, "cjt188", now_ms)
        if meter is None:
            return
        meter_id = meter.meter_id
        with self._lock:
            frame = cjt188_meter.obey(meter, message.payload, meter.clock(now_ms))
        if frame is not None:
            self._session.publish(topic(meter_id, "cjt188-up"), frame, qos=1)
            self.commands_obeyed += 1

    def _on_dlms_request(self, message: Incoming) -> None:
        """A request to a DLMS meter: its own meter side (Gurux's) answers, and a valve
        action moves the simulated valve (then the meter pushes its registers)."""
        now_ms = self._clock()
        meter = self._addressed(message, "dlms", now_ms)
        if meter is None:
            return
        meter_id = meter.meter_id
        with self._lock:
            side = self._dlms.setdefault(meter_id, dlms_meter.DlmsMeter())
            side.valve.outputState = meter.valve != "closed"
            acted, written = len(side.actions), len(side.writes)
            answer = side.answer(message.payload)
            dlms_meter.take_writes(meter, side.writes[written:], now_ms)
            reading = None
            if len(side.actions) > acted:
                meter_now = meter.clock(now_ms)
                meter.read(meter_now)
                if side.actions[-1] == dlms_meter.DISCONNECT:
                    meter.valve, meter.armed = "closed", False
                else:  # remote_reconnect: ready for the customer's button
                    meter.armed = meter.valve == "closed"
                reading = meter.read(meter_now + 1000)
        self._session.publish(topic(meter_id, "dlms"), answer, qos=1)
        if reading is not None:
            self._publish_message(meter, [reading])
            self.commands_obeyed += 1

    # -- publishing -----------------------------------------------------------------------

    def _run(self) -> None:
        if not self._session.wait_ready(30):
            log.error("simulator: no MQTT connection to %s after 30 s", self._session.endpoint.url)
        start_ms = self._clock()
        for meter in self.plan.meters:
            status = topic(meter.meter_id, "status")
            self._session_of(meter.meter_id).publish(status, b"online", qos=1, retain=True)
            self._upload_history(meter, start_ms)
        meters = self.plan.meters
        schedule = ReportSchedule([m.profile.report_interval_s * 1000 for m in meters], start_ms)
        while not self._stop.wait(TICK_S):
            now_ms = self._clock()
            for index in schedule.due(now_ms):
                self._report(meters[index], now_ms)

    def _report(self, meter: SimMeter, now_ms: int) -> None:
        """One reading on the meter's schedule; sent once the meter has enough to send."""
        with self._lock:
            meter_now = meter.clock(now_ms)
            events = meter.due_events(meter_now)
            pending = self._pending.setdefault(meter.meter_id, [])
            pending.append(meter.read(meter_now))
            online = meter.reachable(now_ms)
            ready = online and len(pending) >= meter.readings_per_message
            if ready:
                del self._pending[meter.meter_id]
            if online:
                events = [*self._held_events.pop(meter.meter_id, []), *events]
            else:
                self._held_events.setdefault(meter.meter_id, []).extend(events)
                events = []
        for event in events:
            self._publish_event(event)
        if ready:
            self._publish_readings(meter, pending)  # after an outage: all it buffered

    def _upload_history(self, meter: SimMeter, now_ms: int) -> None:
        meter_now = meter.clock(now_ms)
        starts = [f.start_ms for f in meter.faults if f.start_ms < meter_now]
        if not starts:
            return
        with self._lock:
            history = meter.history(min(starts), meter_now, meter.profile.report_interval_s * 1000)
        self._publish_readings(meter, history)

    def _publish_readings(self, meter: SimMeter, readings: list[Reading]) -> None:
        """``readings`` in messages of at most ``HISTORY_CHUNK`` (an upload after an
        outage or a fault's history can hold many)."""
        for i in range(0, len(readings), HISTORY_CHUNK):
            self._publish_message(meter, readings[i : i + HISTORY_CHUNK])

    def _publish_message(self, meter: SimMeter, readings: list[Reading]) -> None:
        meter_id = meter.meter_id
        speaks = meter.profile.device_profile
        if speaks in PLATFORMS:
            self._wake(meter, readings)
            return
        if speaks in ONE_READING_A_MESSAGE:  # the DTU, the meter, the gateway: one each
            kind, encode = ONE_READING_A_MESSAGE[speaks]
            for reading in readings:
                self._session.publish(topic(meter_id, kind), encode(reading), qos=1)
                self.published += 1
            return
        if len(readings) == 1:
            body: object = reading_to_json(readings[0])
        else:
            body = {"seq": self.published, "readings": [reading_to_json(r) for r in readings]}
        payload = json.dumps(body).encode()
        if meter.listen_ms is not None:  # a sleeping meter's uplink opens its window
            meter.last_uplink_ms = self._clock()
        sent = self._sent[meter_id] = self._sent.get(meter_id, 0) + 1
        resend = meter.resend_every > 0 and sent % meter.resend_every == 0
        for _ in range(2 if resend else 1):
            self._session_of(meter_id).publish(topic(meter_id, "telemetry"), payload, qos=1)
            self.published += 1

    def _wake(self, meter: SimMeter, readings: list[Reading]) -> None:
        """A sleeping meter's wake-up: its readings up through its platform, then the
        commands the platform held for it; after acting, one more reading goes up."""
        if self._platform is None:
            log.warning(
                "simulator: no platform for %s meter %s",
                meter.profile.device_profile,
                meter.meter_id,
            )
            return
        speaks = meter.profile.device_profile
        if self._platform.upload(speaks, meter.meter_id, readings) != 200:
            log.warning("simulator: the receiver did not take meter %s's upload", meter.meter_id)
            return  # the platform pushes again at the next wake-up
        self.published += len(readings)
        now_ms = self._clock()
        for command in self._platform.wake(meter.meter_id, now_ms):
            with self._lock:
                meter_now = meter.clock(now_ms)
                meter.read(meter_now)
                if command.action == "close":
                    meter.valve, meter.armed = "closed", False
                elif command.action == "open":
                    meter.valve = "open"
                reading = meter.read(meter_now + 1000)
            self._platform.upload(speaks, meter.meter_id, [reading])
            self.commands_obeyed += 1
            log.info("simulator: meter %s woke and obeyed %s", meter.meter_id, command.action)

    def _publish_event(self, event: MeterEvent) -> None:
        speaks = self._meters[event.meter_id].profile.device_profile
        if speaks in NO_EVENTS:
            log.info("simulator: %s has no events: %s of %s", speaks, event.event, event.meter_id)
            return
        body = json.dumps({"ts": event.ts_ms, "event": event.event}).encode()
        self._session_of(event.meter_id).publish(topic(event.meter_id, "events"), body, qos=1)
        log.info("simulator: meter %s reports %s", event.meter_id, event.event)
