"""The validating decoder: what is accepted, and a clear reason for everything refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.config import DecodeLimits
from ingest.decode import decode

NOW = 1_790_000_000_000
LIMITS = DecodeLimits()
TOPIC = "gas/v1/meters/M1/telemetry"


def body(**fields: object) -> bytes:
    return json.dumps({"ts": NOW, "volume_m3": 12.5, **fields}).encode()


def test_a_full_reading_is_accepted() -> None:
    payload = body(
        flow_m3h=0.3, pressure_kpa=2.1, temperature_c=25, battery_pct=80, valve="open", extra="x"
    )
    decoded = decode(TOPIC, payload, NOW, LIMITS)
    assert decoded.rejections == ()
    (reading,) = decoded.readings
    assert (reading.meter_id, reading.ts_ms, reading.volume_m3, reading.flow_m3h) == (
        "M1",
        NOW,
        12.5,
        0.3,
    )
    assert (reading.pressure_kpa, reading.temperature_c, reading.battery_pct) == (2.1, 25.0, 80.0)
    assert reading.valve == "open"


def test_rfc3339_timestamps_are_accepted() -> None:
    decoded = decode(
        TOPIC, json.dumps({"ts": "2026-09-21T08:53:20+08:00", "volume_m3": 1}).encode(), NOW, LIMITS
    )
    same_moment_utc = datetime(2026, 9, 21, 0, 53, 20, tzinfo=UTC)
    assert decoded.readings[0].ts_ms == int(same_moment_utc.timestamp() * 1000)


def test_a_batch_keeps_its_good_readings_and_refuses_the_bad_ones() -> None:
    readings = [
        {"ts": NOW - 2000, "volume_m3": 1.0},
        {"ts": NOW - 1000, "volume_m3": -1.0},
        {"ts": NOW - 3000, "volume_m3": 0.5},
        {"ts": NOW, "flow_m3h": 0.1},
    ]
    decoded = decode(TOPIC, json.dumps({"seq": 7, "readings": readings}).encode(), NOW, LIMITS)
    assert [r.ts_ms for r in decoded.readings] == [NOW - 3000, NOW - 2000]  # sorted by time
    reasons = [r.reason for r in decoded.rejections]
    assert reasons == [
        "reading 1: field 'volume_m3' must be >= 0, got -1.0",
        "reading 3: missing required field 'volume_m3'",
    ]
    assert json.loads(decoded.rejections[0].payload) == readings[1]


@pytest.mark.parametrize(
    ("topic", "payload", "code", "reason"),
    [
        (TOPIC, b"not json", "not_json", "not JSON"),
        (TOPIC, b"\xff\xfe{}", "bad_utf8", "not UTF-8"),
        (TOPIC, b"[1, 2]", "not_object", "must be a JSON object"),
        (
            TOPIC,
            json.dumps({"ts": NOW}).encode(),
            "missing_field",
            "missing required field 'volume_m3'",
        ),
        (TOPIC, body(volume_m3="12"), "wrong_type", "'volume_m3' must be a number, got str"),
        (TOPIC, body(volume_m3=True), "wrong_type", "'volume_m3' must be a number, got bool"),
        (TOPIC, body(volume_m3=-0.1), "out_of_range", "'volume_m3' must be >= 0"),
        (TOPIC, body(flow_m3h=-1), "out_of_range", "'flow_m3h' must be >= 0"),
        (
            TOPIC,
            b'{"ts": 1790000000000, "volume_m3": NaN}',
            "not_finite",
            "'volume_m3' must be finite",
        ),
        (
            TOPIC,
            b'{"ts": 1790000000000, "volume_m3": 1, "flow_m3h": Infinity}',
            "not_finite",
            "'flow_m3h' must be finite",
        ),
        (TOPIC, body(battery_pct=101), "out_of_range", "'battery_pct' must be within 0..100"),
        # An integer beyond any float once raised OverflowError out of the decoder.
        (TOPIC, body(volume_m3=10**400), "not_finite", "'volume_m3' is too large"),
        (TOPIC, body(valve="half"), "wrong_type", "'valve' must be one of open/closed/fault"),
        # Unhashable values once raised TypeError here: a poison message for the stream.
        (TOPIC, body(valve=["open"]), "wrong_type", "'valve' must be one of open/closed/fault"),
        (TOPIC, body(valve={"a": 1}), "wrong_type", "'valve' must be one of open/closed/fault"),
        (
            TOPIC,
            json.dumps({"volume_m3": 1}).encode(),
            "missing_field",
            "missing required field 'ts'",
        ),
        (
            TOPIC,
            json.dumps({"ts": 1.5e12, "volume_m3": 1}).encode(),
            "wrong_type",
            "'ts' must be integer epoch milliseconds",
        ),
        (
            TOPIC,
            json.dumps({"ts": "yesterday", "volume_m3": 1}).encode(),
            "wrong_type",
            "not an RFC 3339 time",
        ),
        (
            TOPIC,
            json.dumps({"ts": "2026-01-01T00:00:00", "volume_m3": 1}).encode(),
            "wrong_type",
            "no time zone offset",
        ),
        (
            TOPIC,
            json.dumps({"ts": NOW + 86_400_001, "volume_m3": 1}).encode(),
            "ts_future",
            "too far in the future",
        ),
        (
            TOPIC,
            json.dumps({"ts": NOW - 3 * 365 * 86_400_000, "volume_m3": 1}).encode(),
            "ts_past",
            "too far in the past",
        ),
        (
            TOPIC,
            body(meter="M2"),
            "meter_mismatch",
            "meter 'M2' in the payload differs from topic meter 'M1'",
        ),
        (TOPIC, b'{"readings": 5}', "bad_batch", "'readings' must be a list"),
        (TOPIC, b" " * (LIMITS.max_payload_bytes + 1), "too_large", "exceeds 262144"),
        ("gas/v1/meters/bad id!/telemetry", body(), "bad_topic", "invalid meter id"),
        ("gas/v1/meters/" + "x" * 33 + "/telemetry", body(), "bad_topic", "invalid meter id"),
        ("gas/v2/meters/M1/telemetry", body(), "bad_topic", "is not gas/v1/meters"),
        ("gas/v1/meters/M1/nonsense", body(), "bad_topic", "unknown kind"),
        (
            "gas/v1/meters/M1/events",
            json.dumps({"ts": NOW, "event": "explosion"}).encode(),
            "unknown_event",
            "unknown event 'explosion'",
        ),
        (
            "gas/v1/meters/M1/events",
            json.dumps({"ts": NOW, "event": 3}).encode(),
            "wrong_type",
            "'event' must be a string",
        ),
        ("gas/v1/meters/M1/status", b"maybe", "bad_status", "status must be 'online' or 'offline'"),
        (
            "gas/v1/meters/M1/replies",
            b'{"id": "x", "result": "perhaps", "ts": 1}',
            "bad_reply",
            "unknown result",
        ),
        ("gas/v1/meters/M1/commands", b"{}", "not_accepted", "commands are sent by the server"),
    ],
)
def test_bad_input_is_refused_with_a_code_and_a_reason(
    topic: str, payload: bytes, code: str, reason: str
) -> None:
    decoded = decode(topic, payload, NOW, LIMITS)
    assert decoded.readings == () and decoded.events == ()
    (rejection,) = decoded.rejections
    assert rejection.code == code
    assert reason in rejection.reason


def test_events_status_and_replies_are_decoded() -> None:
    event = decode(
        "gas/v1/meters/M1/events",
        json.dumps({"ts": NOW, "event": "detector_alarm"}).encode(),
        NOW,
        LIMITS,
    )
    assert [(e.meter_id, e.event, e.ts_ms) for e in event.events] == [("M1", "detector_alarm", NOW)]
    assert decode("gas/v1/meters/M1/status", b"offline", NOW, LIMITS).status == "offline"
    reply = decode(
        "gas/v1/meters/M1/replies",
        b'{"id": "c1", "result": "done", "ts": 5, "valve": "closed"}',
        NOW,
        LIMITS,
    )
    assert reply.reply is not None
    assert (reply.reply.command_id, reply.reply.valve, reply.reply.meter_id) == (
        "c1",
        "closed",
        "M1",
    )


@given(st.binary(max_size=2048))
def test_any_bytes_are_either_accepted_or_refused_never_an_exception(payload: bytes) -> None:
    for kind in ("telemetry", "events", "status", "replies"):
        decoded = decode(f"gas/v1/meters/M1/{kind}", payload, NOW, LIMITS)
        accepted = (
            len(decoded.readings)
            + len(decoded.events)
            + (decoded.reply is not None)
            + (decoded.status is not None)
        )
        assert accepted + len(decoded.rejections) >= 1


@given(
    st.dictionaries(
        st.sampled_from(
            ["ts", "volume_m3", "flow_m3h", "pressure_kpa", "battery_pct", "valve", "meter"]
        ),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=True),
            st.text(max_size=8),
            st.lists(st.integers(), max_size=2),
            st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
        ),
    )
)
def test_any_json_reading_is_accepted_or_refused(item: dict[str, object]) -> None:
    decoded = decode(TOPIC, json.dumps(item).encode(), NOW, LIMITS)
    assert len(decoded.readings) + len(decoded.rejections) == 1


def test_a_deeply_nested_payload_is_dead_lettered_not_raised() -> None:
    # 200 KB of brackets (under the 256 KB limit) once raised RecursionError out of the
    # decoder: a poison message that stalled its batch.
    decoded = decode(TOPIC, b"[" * 100_000 + b"]" * 100_000, NOW, DecodeLimits())
    assert [r.code for r in decoded.rejections] == ["not_json"]
    assert "nested too deeply" in decoded.rejections[0].reason


@pytest.mark.parametrize(("seq", "kept"), [(7, 7), (0, 0), ("7", None), (-1, None), (1.5, None)])
def test_a_batch_keeps_a_whole_number_seq_and_its_readings_whatever_the_seq(
    seq: object, kept: int | None
) -> None:
    readings = [{"ts": NOW, "volume_m3": 1.0}, {"ts": NOW + 1000, "volume_m3": 1.1}]
    decoded = decode(TOPIC, json.dumps({"seq": seq, "readings": readings}).encode(), NOW, LIMITS)
    assert decoded.seq == kept and len(decoded.readings) == 2 and decoded.rejections == ()
    assert decode(TOPIC, body(seq=5), NOW, LIMITS).seq is None  # a single reading has none
