"""The command dispatcher over a real registry (SQLite and PostgreSQL), with a recording
publisher in place of MQTT (the MQTT path is tests/ingest/test_commands.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from contract.lifecycle import CommandTiming
from contract.profiles import MeterProfile
from contract.protocol import Command as WireCommand
from ingest.dispatch import CommandDispatcher
from meters.command_store import NewCommand
from meters.db import Transactions
from meters.models import Command
from meters.registry import Registry
from meters.views import Actor
from transport.errors import PublishRefused

T0 = 1_790_000_000_000
HOUR_MS = 3_600_000
OTTO = Actor("otto", "operator", "10.0.0.7")


class Recorder:
    def __init__(self) -> None:
        self.published: list[WireCommand] = []

    def publish(self, command: WireCommand) -> None:
        self.published.append(command)

    def request_reading(self, meter_id: str) -> None:
        raise AssertionError(f"gasguard-json meters push their readings ({meter_id})")


def delivered_crowd(registry: Registry, meters: list[str]) -> None:
    """Closes delivered to ``meters`` at T0 and waiting for their telemetry."""

    def add(session: Session) -> None:
        session.add_all(
            Command(
                id=f"crowd-{meter}",
                meter_id=meter,
                action="close",
                reason="seismic",
                requested_by="gasguard-safety",
                source="safety",
                kind="safety",
                state="delivered",
                counter=1,
                created_ms=T0,
                expires_ms=T0 + HOUR_MS,
                attempts=1,
                next_attempt_ms=T0 + 1,
                delivered_ms=T0 + 2,
                updated_ms=T0 + 2,
            )
            for meter in meters
        )

    Transactions(registry.engine).run(add)


def test_a_crowd_waiting_for_telemetry_does_not_hold_back_an_operators_close(
    registry: Registry,
) -> None:
    """A district closed at once: 1,500 closes delivered and waiting for telemetry sort
    before an operator's new close; the dispatcher once read only the first 1,000 in
    flight, so the operator's close waited until the crowd was confirmed or timed out."""
    crowd = [f"D{i:04d}" for i in range(1_500)]
    registry.meters.provision([MeterProfile(m) for m in [*crowd, "LATE"]], T0)
    delivered_crowd(registry, crowd)
    queued, created = registry.commands.create(
        NewCommand("LATE", "close", "gas smell reported", "operator"), OTTO, T0 + 5, HOUR_MS
    )  # through the API: queued in the registry for the ingester's dispatcher
    assert created
    recorder = Recorder()
    dispatcher = CommandDispatcher(registry, recorder, CommandTiming(), lambda: T0 + 10)
    dispatcher.run(T0 + 10)
    assert [c.command_id for c in recorder.published] == [queued.id]
    assert registry.commands.get(queued.id).state == "sent"
    assert registry.commands.get("crowd-D0000").state == "delivered"  # still waiting


class Refusing(Recorder):
    """A transport that refuses the first ``refusals`` publishes (a full client queue)."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals

    def publish(self, command: WireCommand) -> None:
        if self.refusals:
            self.refusals -= 1
            raise PublishRefused("safety-close: gas/v1/meters/M1/commands: queue full")
        super().publish(command)


def test_a_close_the_transport_refused_is_sent_again_at_the_next_poll(
    registry: Registry,
) -> None:
    """paho's publish return code used to be ignored: a refused close counted as sent and
    waited its whole retry interval. Now it stays queued and the next poll sends it."""
    registry.meters.provision([MeterProfile("M1")], T0)
    transport = Refusing(refusals=1)
    dispatcher = CommandDispatcher(registry, transport, CommandTiming(), lambda: T0)
    view = dispatcher.request(NewCommand("M1", "close", "leak", "safety"), OTTO, T0)
    assert view is not None and transport.published == []
    assert registry.commands.get(view.id).state == "queued"
    dispatcher.run(T0 + 1_000)
    assert [c.command_id for c in transport.published] == [view.id]
    assert registry.commands.get(view.id).state == "sent"
