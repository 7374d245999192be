from __future__ import annotations

import pytest

from meters.errors import ProtocolError
from meters.protocol import (
    Command,
    CommandReply,
    parse_command,
    parse_reply,
    parse_topic,
    subscription,
    topic,
)


def test_topics_follow_the_contract() -> None:
    assert topic("GZ-001_a", "telemetry") == "gas/v1/meters/GZ-001_a/telemetry"
    assert subscription("replies") == "gas/v1/meters/+/replies"
    parsed = parse_topic("gas/v1/meters/GZ-001_a/status")
    assert (parsed.meter_id, parsed.kind) == ("GZ-001_a", "status")


@pytest.mark.parametrize("meter_id", ["", "a b", "x" * 33, "a/b", "a+b", "中文"])
def test_invalid_meter_ids_are_refused(meter_id: str) -> None:
    with pytest.raises(ProtocolError):
        topic(meter_id, "commands")


def test_command_and_reply_round_trip() -> None:
    command = Command("c-1", "M1", "close", 1234, "leak_detector (alarm 3)")
    assert parse_command("M1", command.to_payload()) == command
    reply = CommandReply("c-1", "M1", "done", 1300, valve="closed")
    assert parse_reply("M1", reply.to_payload()) == reply


@pytest.mark.parametrize(
    "payload",
    [b"{", b"[]", b'{"id": "c", "action": "explode", "ts": 1}', b'{"action": "close", "ts": 1}'],
)
def test_bad_commands_are_refused(payload: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_command("M1", payload)
