"""One batch of raw messages through decode -> store -> safety engine -> registry.

No MQTT here: the pipeline takes ``RawMessage`` values and returns the steps left to do.
Each step is one transaction, retried on its own until it succeeds, so a retry never
repeats a finished step and the engine sees every reading exactly once.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from contract.decisions import Decision
from contract.events import MeterEvent
from contract.protocol import reading_to_json, topic
from contract.readings import Reading
from devices.alarm_codes import MeterAlarm
from ingest.actuator import Actuator
from ingest.clock_watch import ClockFinding, ClockWatch
from ingest.config import DecodeLimits
from ingest.decode import Decoded, decode
from ingest.durable import DurableWriter, Refused
from ingest.flood import FloodGuard
from ingest.gas_on import GasOnWatcher
from ingest.log_burst import log_burst
from ingest.meter_profiles import MeterProfiles
from ingest.metrics import IngestMetrics
from ingest.rule_profiles import RuleProfiles
from ingest.sightings import SightingsBuffer
from meters.command_store import NewCommand
from meters.registry import Registry
from meters.views import NewDeadLetter
from safety.engine import SafetyEngine

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RawMessage:
    topic: str
    payload: bytes
    received_ms: int


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    run: Callable[[], object]


def clock_decision(found: ClockFinding, now_ms: int) -> Decision:
    """A meter whose clock is off: flagged, so that nobody takes its readings' times (and
    the rules' event times) at their word."""
    way = "ahead" if found.offset_ms > 0 else "behind"
    detail = {"offset_s": found.offset_ms // 1000, "clock": way}
    return Decision(now_ms, found.meter_id, "clock_drift", "alarm", detail)


def meter_decision(alarm: MeterAlarm) -> Decision:
    """An alarm the meter reported in its own code, as the rule's alarm (devices.alarm_codes):
    the control room sees one vocabulary, and the detail says who saw it."""
    detail = {"reported_by": "meter", "code": alarm.code}
    return Decision(alarm.ts_ms, alarm.meter_id, alarm.rule, "alarm", detail)


class Pipeline:
    def __init__(
        self,
        writer: DurableWriter,
        registry: Registry,
        engine: SafetyEngine,
        actuator: Actuator,
        limits: DecodeLimits,
        metrics: IngestMetrics,
        sightings: SightingsBuffer,
        gas_on: GasOnWatcher,
        flood: FloodGuard | None = None,
        profiles: MeterProfiles | None = None,
        clock_watch: ClockWatch | None = None,
    ) -> None:
        self.flood = flood
        self.profiles = profiles
        self.rule_profiles: RuleProfiles | None = None  # the rules follow the registry
        self.clock_watch = clock_watch
        self.sightings = sightings
        self.gas_on = gas_on
        self.writer = writer
        self.registry = registry
        self.engine = engine
        self.actuator = actuator
        self.limits = limits
        self.metrics = metrics

    def decode(self, batch: list[RawMessage]) -> list[Decoded]:
        profile_of = self.profiles.of if self.profiles is not None else None
        limits = self.limits
        decoded = [decode(m.topic, m.payload, m.received_ms, limits, profile_of) for m in batch]
        for kind, count in Counter(item.kind or "invalid" for item in decoded).items():
            self.metrics.messages.labels(kind=kind).inc(count)
        return decoded

    def store_readings(self, decoded: list[Decoded]) -> list[Refused]:
        """Make the batch's readings durable (store or spool); returns what the store
        refused. Raises ``SpoolFull`` when neither can take them."""
        return self.writer.write([r for item in decoded for r in item.readings])

    def decide(self, decoded: list[Decoded]) -> list[Decision]:
        """Feed the engine, in arrival order. Call once per batch, after storing."""
        inputs: list[Reading | MeterEvent] = []
        for item in decoded:
            inputs.extend(item.readings)
            inputs.extend(item.events)
        decisions = self.engine.process(inputs)
        decisions.extend(meter_decision(a) for item in decoded for a in item.meter_alarms)
        for decision in decisions:
            self.metrics.decisions.labels(rule=decision.rule, action=decision.action).inc()
        return decisions

    def record_steps(
        self,
        decoded: list[Decoded],
        decisions: list[Decision],
        refused: list[Refused],
        now_ms: int,
    ) -> list[Step]:
        letters = [
            NewDeadLetter(now_ms, item.topic, rejection.code, rejection.reason, rejection.payload)
            for item in decoded
            for rejection in item.rejections
        ]
        letters.extend(refused_letters(refused, now_ms))
        letters, flooding = self.admit_dead_letters(letters, now_ms)
        events = [e for item in decoded for e in item.events]
        clocks = self.clock_findings(decoded, now_ms)
        drifted = [clock_decision(f, now_ms) for f in clocks if f.change == "drifted"]
        settled = {f.meter_id: now_ms for f in clocks if f.change == "settled"}
        steps = [
            *self.wake_steps(decoded, now_ms),
            *self.decision_steps([*decisions, *flooding, *drifted], now_ms),
            *(
                Step(f"time set {d.meter_id}", _bind(self.set_clock, d.meter_id, now_ms))
                for d in drifted
            ),
            *self.settled_steps(settled, now_ms),
            self.dead_letters_step(letters),
            Step("events", lambda: self.registry.events.add(events, now_ms)),
        ]
        self.sightings.add(decoded, now_ms)
        steps.extend(self.sightings_steps(now_ms))
        self.gas_on.observe(decoded)
        steps.append(Step("gas-on", _bind(self.gas_on.record, now_ms)))
        replies = (self.reply_step(item, now_ms) for item in decoded)
        steps.extend(step for step in replies if step is not None)
        return steps

    def clock_findings(self, decoded: list[Decoded], now_ms: int) -> list[ClockFinding]:
        """Each uplink's newest reading against the time it came (ingest.clock_watch): the
        meters whose clock has just drifted or settled."""
        if self.clock_watch is None:
            return []
        findings = []
        for item in decoded:
            meter_id = item.meter_id
            if meter_id is None or not item.readings:
                continue
            offset_ms = item.readings[-1].ts_ms - now_ms  # the newest: readings are in order
            found = self.clock_watch.observe(meter_id, offset_ms, now_ms)
            if found is not None:
                findings.append(found)
                log.warning(
                    "meter %s's clock %s: %+d s",
                    found.meter_id,
                    found.change,
                    found.offset_ms // 1000,
                )
        return findings

    def settled_steps(self, settled: dict[str, int], now_ms: int) -> list[Step]:
        """Meters whose clock is back on time: their clock_drift alarms end with it."""
        if not settled:
            return []
        clear = self.registry.alarms.clear_when_over
        reason = "the meter's clock is back on time"
        return [Step("clocks settled", _bind(clear, "clock_drift", settled, now_ms, reason))]

    def set_clock(self, meter_id: str, now_ms: int) -> None:
        """Set a drifted meter's clock where its protocol can (CJ/T 188), then judge it
        afresh."""
        if self.actuator.set_clock(meter_id, now_ms) and self.clock_watch is not None:
            self.clock_watch.reset(meter_id)

    def wake_steps(self, decoded: list[Decoded], now_ms: int) -> list[Step]:
        """Sleeping meters of the batch just sent something and listen now: their waiting
        commands go in that window (ingest.dispatch.on_uplinks). None for a batch of
        always-connected meters (the usual one)."""
        if self.profiles is None:
            return []
        awake = {
            item.meter_id
            for item in decoded
            if item.meter_id is not None
            and (profile := self.profiles.of(item.meter_id)) is not None
            and profile.wakes_by_uplink
        }
        if not awake:
            return []
        return [Step("sleeping meters' windows", _bind(self.actuator.on_uplinks, awake, now_ms))]

    def reply_step(self, item: Decoded, now_ms: int) -> Step | None:
        """A meter's answer to a command, in whichever form its protocol gives it: a
        signed reply, a CJ/T 188 answer, an operator platform's result, a DLMS answer."""
        act, where = self.actuator, item.topic
        if item.reply is not None:
            signed = item.reply
            run = _bind(act.on_reply, signed, where, signed.to_payload(), now_ms)
            return Step(f"reply {signed.command_id}", run)
        if item.sequence_reply is not None:
            answer = item.sequence_reply
            run = _bind(act.on_sequence_reply, answer, where, now_ms)
            return Step(f"reply {answer.serial} of meter {answer.meter_id}", run)
        if item.platform_reply is not None:
            result = item.platform_reply
            run = _bind(act.on_platform_reply, result, where, now_ms)
            return Step(f"platform reply {result.ref} of meter {result.meter_id}", run)
        if item.dlms_answer is not None and item.meter_id is not None:
            run = _bind(act.on_dlms_answer, item.meter_id, item.dlms_answer, where, now_ms)
            return Step(f"DLMS answer of meter {item.meter_id}", run)
        return None

    def decision_steps(self, decisions: list[Decision], now_ms: int) -> list[Step]:
        """The batch's alarms in one step (one transaction), then one step per close its
        shutoffs need: a retried close never records its alarm twice."""
        if not decisions:
            return []
        closes: list[NewCommand] = []

        def record() -> None:
            closes[:] = self.actuator.record(decisions, now_ms)

        def close(index: int) -> Callable[[], object]:
            return lambda: self.actuator.close(closes[index], now_ms)

        shutoffs = [d for d in decisions if d.action == "shutoff"]
        return [
            Step("alarms", record),
            *(Step(f"close {d.meter_id}", close(i)) for i, d in enumerate(shutoffs)),
        ]

    def sightings_steps(self, now_ms: int, force: bool = False) -> list[Step]:
        """The bulk last-seen write, when due (or when ``force``d, at stop), then the
        ``offline`` alarms of the meters heard again cleared."""
        due = self.sightings.take(force)
        if due is None:
            return []
        # a retained "offline" (the meter's last will) is the broker's word, not the meter's
        heard = {m: s.seen_ms for m, s in due.items() if s.status != "offline"}
        # a reading accepted: an installed meter's first verified uplink commissions it
        read = {m: s.reading_ms for m, s in due.items() if s.reading_ms is not None}
        return [
            Step("sightings", _bind(self.registry.meters.record_sightings, due)),
            Step("heard again", _bind(self._clear_offline, heard, now_ms)),
            Step("commissioned", _bind(self.registry.meters.commission_seen, read, now_ms)),
        ]

    def _clear_offline(self, heard: dict[str, int], now_ms: int) -> None:
        log_burst(
            log,
            logging.WARNING,
            self.registry.alarms.clear_offline_heard_again(heard, now_ms),
            lambda a: ("offline alarm %d on meter %s cleared: heard again", a.id, a.meter_id),
            lambda a: a.rule,
            "offline alarms cleared: heard again",
        )

    def admit_dead_letters(
        self, letters: list[NewDeadLetter], now_ms: int
    ) -> tuple[list[NewDeadLetter], list[Decision]]:
        """The letters within each meter's cap, and a meter_flooding alarm for a meter
        past it (ingest.flood); the rest are dropped and counted."""
        if self.flood is None or not letters:
            return letters, []
        kept, alarms, dropped = self.flood.admit(letters, now_ms)
        if dropped:
            self.metrics.dead_letters_dropped.inc(dropped)
        for alarm in alarms:
            log.error("meter %s is flooding: %s", alarm.meter_id, alarm.detail["why"])
        return kept, alarms

    def dead_letters_step(self, letters: list[NewDeadLetter]) -> Step:
        """Record the dead letters, then count them: a retried step counts them once."""

        def record() -> None:
            self.registry.dead_letters.add(letters)
            for letter in letters:
                log.warning("dead letter from %s: %s", letter.topic, letter.reason)
                self.metrics.dead_letters.labels(reason=letter.code).inc()

        return Step("dead letters", record)


def refused_letters(refused: list[Refused], now_ms: int) -> list[NewDeadLetter]:
    """Dead letters for readings the telemetry store refused."""
    return [
        NewDeadLetter(
            now_ms,
            topic(r.reading.meter_id, "telemetry"),
            "store_rejected",
            f"telemetry store refused the reading: {r.reason}",
            json.dumps(reading_to_json(r.reading)).encode(),
        )
        for r in refused
    ]


def _bind(function: Callable[..., object], *args: object) -> Callable[[], object]:
    return lambda: function(*args)
