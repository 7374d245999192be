from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract.errors import ProtocolError
from contract.protocol import (
    Command,
    CommandReply,
    is_meter_id,
    parse_command,
    parse_reply,
    parse_topic,
    subscription,
    topic,
)
from contract.signing import sign_command, signature_ok
from contract.thresholds import Thresholds

VALID_ID = re.compile(r"\A[A-Za-z0-9_-]{1,32}\Z")


def test_topics_follow_the_contract() -> None:
    assert topic("GZ-001_a", "telemetry") == "gas/v1/meters/GZ-001_a/telemetry"
    assert subscription("replies") == "gas/v1/meters/+/replies"
    parsed = parse_topic("gas/v1/meters/GZ-001_a/status")
    assert (parsed.meter_id, parsed.kind) == ("GZ-001_a", "status")


@pytest.mark.parametrize(
    "meter_id", ["", "a b", "x" * 33, "a/b", "a+b", "中文", "M1\n", "M1\r\n", "\nM1", "M1\x00"]
)
def test_invalid_meter_ids_are_refused(meter_id: str) -> None:
    assert not is_meter_id(meter_id)
    with pytest.raises(ProtocolError):
        topic(meter_id, "commands")
    with pytest.raises(ProtocolError):
        parse_topic(f"gas/v1/meters/{meter_id}/telemetry")


@given(st.text(max_size=40) | st.from_regex(r"[A-Za-z0-9_-]{1,32}\n?", fullmatch=True))
def test_meter_ids_are_whole_matches(text: str) -> None:
    """Exactly the contract's ids pass, in every checker (trailing newline included)."""
    valid = VALID_ID.match(text) is not None
    assert is_meter_id(text) == valid
    try:
        parsed = parse_topic(f"gas/v1/meters/{text}/events")
    except ProtocolError:
        assert not valid or "/" in text
    else:
        assert valid and parsed.meter_id == text


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


def test_a_parameter_download_signs_its_thresholds_and_a_valve_command_keeps_format_2() -> None:
    key = "11" * 32
    close = Command("c-1", "M1", "close", 1000, "leak", counter=3, expires_ms=2000)
    assert close.canonical() == b"gasguard-command-v2\nc-1\nM1\nclose\n3\n1000\n2000\nleak"
    params = Thresholds(micro_flow_m3h=0.02, prolonged_use_min=240).canonical()
    download = sign_command(key, Command("c-2", "M1", "params", 1000, "fit", 4, 2000, "", params))
    assert download.canonical().split(b"\n")[-2] == params.encode()
    parsed = parse_command("M1", download.to_payload())
    assert parsed == download and signature_ok(key, parsed)
    body = json.loads(download.to_payload())
    assert body["params"] == {"micro_flow_m3h": 0.02, "prolonged_use_min": 240}
    body["params"]["prolonged_use_min"] = 600  # altered on the way: the meter refuses it
    altered = parse_command("M1", json.dumps(body).encode())
    assert not signature_ok(key, altered)
    body["params"] = {"prolonged_use_min": -1}
    with pytest.raises(ProtocolError, match="prolonged_use_min"):
        parse_command("M1", json.dumps(body).encode())
