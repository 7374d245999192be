"""One batch of raw messages through decode -> store -> safety engine -> registry.

No MQTT here: the pipeline takes ``RawMessage`` values and returns the steps left to do.
Each step is one transaction, retried on its own until it succeeds, so a retry never
repeats a finished step and the engine sees every reading exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from ingest.actuator import Actuator
from ingest.config import DecodeLimits
from ingest.decode import Decoded, decode
from ingest.metrics import IngestMetrics
from meters.registry import MeterSighting, Registry
from meters.telemetry.base import TelemetryStore
from meters.views import NewDeadLetter
from safety.domain import Decision, MeterEvent, Reading
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


class Pipeline:
    def __init__(
        self,
        store: TelemetryStore,
        registry: Registry,
        engine: SafetyEngine,
        actuator: Actuator,
        limits: DecodeLimits,
        metrics: IngestMetrics,
    ) -> None:
        self.store = store
        self.registry = registry
        self.engine = engine
        self.actuator = actuator
        self.limits = limits
        self.metrics = metrics

    def decode(self, batch: list[RawMessage]) -> list[Decoded]:
        decoded = [decode(m.topic, m.payload, m.received_ms, self.limits) for m in batch]
        for item in decoded:
            self.metrics.messages.labels(kind=item.kind or "invalid").inc()
        return decoded

    def store_readings(self, decoded: list[Decoded]) -> int:
        readings = [r for item in decoded for r in item.readings]
        self.store.write(readings)
        self.metrics.readings_stored.inc(len(readings))
        return len(readings)

    def decide(self, decoded: list[Decoded]) -> list[Decision]:
        """Feed the engine, in arrival order. Call once per batch, after storing."""
        inputs: list[Reading | MeterEvent] = []
        for item in decoded:
            inputs.extend(item.readings)
            inputs.extend(item.events)
        decisions = self.engine.process(inputs)
        for decision in decisions:
            self.metrics.decisions.labels(rule=decision.rule, action=decision.action).inc()
        return decisions

    def record_steps(
        self, decoded: list[Decoded], decisions: list[Decision], now_ms: int
    ) -> list[Step]:
        letters = [
            NewDeadLetter(now_ms, item.topic, rejection.reason, rejection.payload)
            for item in decoded
            for rejection in item.rejections
        ]
        for letter in letters:
            log.warning("dead letter from %s: %s", letter.topic, letter.reason)
        self.metrics.dead_letters.inc(len(letters))
        events = [e for item in decoded for e in item.events]
        steps = [
            *(
                Step(f"decision {d.rule} {d.meter_id}", _bind(self.actuator.execute, d, now_ms))
                for d in decisions
            ),
            Step("dead letters", lambda: self.registry.add_dead_letters(letters)),
            Step("events", lambda: self.registry.add_events(events, now_ms)),
            Step("sightings", lambda: self.registry.record_sightings(_sightings(decoded, now_ms))),
        ]
        for item in decoded:
            if item.status is not None and item.meter_id is not None:
                set_status = _bind(self.registry.set_status, item.meter_id, item.status, now_ms)
                steps.append(Step(f"status {item.meter_id}", set_status))
            if item.reply is not None:
                steps.append(
                    Step(
                        f"reply {item.reply.command_id}",
                        _bind(self.registry.apply_reply, item.reply, now_ms),
                    )
                )
        return steps


def _bind(function: Callable[..., object], *args: object) -> Callable[[], object]:
    return lambda: function(*args)


def _sightings(decoded: list[Decoded], now_ms: int) -> dict[str, MeterSighting]:
    seen: dict[str, MeterSighting] = {}
    for item in decoded:
        if item.meter_id is None or not (item.readings or item.events or item.reply):
            continue
        current = seen.get(item.meter_id, MeterSighting(seen_ms=now_ms))
        for reading in item.readings:
            if current.reading_ms is None or reading.ts_ms > current.reading_ms:
                current = MeterSighting(now_ms, reading.ts_ms, reading.valve or current.valve)
        seen[item.meter_id] = current
    return seen
