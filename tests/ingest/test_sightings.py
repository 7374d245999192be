from __future__ import annotations

from contract.events import MeterEvent
from contract.protocol import CommandReply
from contract.readings import Reading
from ingest.decode import Decoded
from ingest.sightings import SightingsBuffer
from meters.registry import MeterSighting


def test_sightings_merge_until_due_and_keep_the_newest_reading() -> None:
    now = [0.0]
    buffer = SightingsBuffer(flush_every_s=2.0, clock=lambda: now[0])
    topic = "gas/v1/meters/M1/telemetry"
    buffer.add(
        [Decoded(topic, "M1", "telemetry", readings=(Reading("M1", 50, 1.0, valve="open"),))], 1000
    )
    buffer.add(
        [Decoded(topic, "M1", "telemetry", readings=(Reading("M1", 40, 0.9, valve="fault"),))], 1100
    )
    buffer.add([Decoded("gas/v1/meters/M2/status", "M2", "status", status="online")], 1200)
    assert buffer.take() is None  # not due yet
    now[0] = 2.5
    assert buffer.take() == {
        "M1": MeterSighting(1100, 50, "open", None, valve_ms=50),  # the older one lost
        "M2": MeterSighting(1200, None, None, "online"),
    }
    assert buffer.take(force=True) is None  # nothing new


def test_a_reply_valve_waits_for_its_signature_check() -> None:
    """An unverified reply's valve is not the meter's valve (the registry records it only
    after checking the signature and the command): here only the sighting counts."""
    buffer = SightingsBuffer(flush_every_s=2.0)
    reply = CommandReply("c1", "M1", "done", 5, valve="closed")
    buffer.add([Decoded("gas/v1/meters/M1/replies", "M1", "replies", reply=reply)], 7)
    assert buffer.take(force=True) == {"M1": MeterSighting(7, None, None, None)}


def test_valve_events_are_valve_facts_at_their_time() -> None:
    buffer = SightingsBuffer(flush_every_s=2.0)
    topic = "gas/v1/meters/M1/events"
    opened = MeterEvent("M1", 90, "valve_opened")
    older = Reading("M1", 80, 1.0, valve="closed")
    buffer.add([Decoded(topic, "M1", "events", events=(opened,))], 100)
    buffer.add([Decoded(topic, "M1", "telemetry", readings=(older,))], 101)
    assert buffer.take(force=True) == {"M1": MeterSighting(101, 80, "open", None, valve_ms=90)}


def test_batch_sequence_numbers_and_the_ones_skipped_between_them() -> None:
    buffer = SightingsBuffer(flush_every_s=2.0)
    topic = "gas/v1/meters/M1/telemetry"
    for seq in (4, 5, 8, 6, 9):  # 6 arrives late; 7 never
        reading = Reading("M1", 1000 + seq, 1.0)
        buffer.add([Decoded(topic, "M1", "telemetry", readings=(reading,), seq=seq)], 10)
    (sighting,) = buffer.take(force=True).values()  # type: ignore[union-attr]
    assert (sighting.seq_first, sighting.seq_last, sighting.seq_skipped) == (4, 9, 1)
