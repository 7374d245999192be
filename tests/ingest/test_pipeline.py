"""The pipeline without MQTT: steps built from a batch, and what they count."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from contract.decisions import Decision
from contract.protocol import Command
from ingest.actuator import Actuator, late_note
from ingest.config import DecodeLimits
from ingest.durable import DurableWriter
from ingest.gas_on import GasOnWatcher
from ingest.metrics import IngestMetrics
from ingest.pipeline import Pipeline, RawMessage
from ingest.sightings import SightingsBuffer
from ingest.spool import Spool
from meters.db import Transactions
from meters.dead_letter_store import DeadLetterStore
from meters.errors import RegistryError
from meters.registry import Registry
from meters.views import NewDeadLetter
from safety.engine import SafetyEngine
from telemetry import SqliteTelemetryStore
from tests.conftest import sqlite_registry

NOW = 1_790_000_000_000


class FlakyDeadLetters(DeadLetterStore):
    """The real dead-letter store whose first write fails, like a database hiccup."""

    failures_left = 1

    def add(self, letters: Sequence[NewDeadLetter]) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise RegistryError("database went away")
        super().add(letters)


class NoCommands:
    def publish(self, command: Command) -> None:
        raise AssertionError(f"no command expected, got {command}")

    def request_reading(self, meter_id: str) -> None:
        raise AssertionError(f"no reading request expected, for {meter_id}")


def pipeline_on(registry: Registry, folder: Path) -> tuple[Pipeline, CollectorRegistry]:
    metrics = CollectorRegistry()
    ingest_metrics = IngestMetrics(metrics)
    store = SqliteTelemetryStore(folder / "telemetry.sqlite3")
    writer = DurableWriter(store, Spool(folder / "spool", 1 << 20), ingest_metrics, 0.1, 0.5)
    pipeline = Pipeline(
        writer,
        registry,
        SafetyEngine(),
        Actuator(registry, NoCommands()),
        DecodeLimits(),
        ingest_metrics,
        SightingsBuffer(60),
        GasOnWatcher(registry),
    )
    return pipeline, metrics


def test_dead_letters_are_counted_once_when_their_step_succeeds(tmp_path: Path) -> None:
    base = sqlite_registry(tmp_path)
    registry = Registry(base.engine)
    registry.dead_letters = FlakyDeadLetters(Transactions(base.engine))
    pipeline, metrics = pipeline_on(registry, tmp_path)
    decoded = pipeline.decode([RawMessage("gas/v1/meters/M1/telemetry", b"{oops", NOW)])
    steps = pipeline.record_steps(decoded, [], [], NOW)
    step = next(s for s in steps if s.name == "dead letters")

    def counted() -> float:
        sample = metrics.get_sample_value(
            "gasguard_ingest_dead_letters_total", {"reason": "not_json"}
        )
        return sample or 0.0

    assert counted() == 0  # built, not yet recorded
    with pytest.raises(RegistryError):
        step.run()
    assert counted() == 0 and registry.dead_letters.count() == 0
    step.run()  # the retry
    assert counted() == 1 and registry.dead_letters.count() == 1


def test_a_meter_heard_again_ends_its_offline_alarm_but_a_last_will_does_not(
    tmp_path: Path,
) -> None:
    registry = sqlite_registry(tmp_path)
    for meter_id in ("M1", "M2"):
        registry.alarms.record(Decision(NOW, meter_id, "offline", "alarm"), NOW)
    pipeline, _ = pipeline_on(registry, tmp_path)
    reading = json.dumps({"ts": NOW + 500, "volume_m3": 1.5}).encode()
    batch = [
        RawMessage("gas/v1/meters/M1/status", b"offline", NOW + 1_000),  # retained last will
        RawMessage("gas/v1/meters/M2/telemetry", reading, NOW + 1_000),
    ]
    decoded = pipeline.decode(batch)
    pipeline.store_readings(decoded)
    for step in pipeline.record_steps(decoded, [], [], NOW + 1_000):
        step.run()
    for step in pipeline.sightings_steps(NOW + 2_000, force=True):
        step.run()
    states = {a.meter_id: a.state for a in registry.alarms.find()}
    assert states == {"M1": "active", "M2": "cleared"}


def test_a_close_on_late_data_says_how_old_the_data_was() -> None:
    assert late_note(0, 599_999, 600_000) == ""
    assert late_note(0, 600_000, 600_000) == "; on data 10 min old"
    assert (
        late_note(1000, 1000 + 19 * 3_600_000 + 5 * 60_000, 600_000) == "; on data 19 h 5 min old"
    )
