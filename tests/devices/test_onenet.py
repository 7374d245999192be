"""OneNET's HTTP push: URL verification, plaintext and secure-mode pushes, and what they
become. Pure: no fixtures."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract.protocol import parse_platform_reply
from devices import onenet
from devices.errors import CodecError

TOKEN = "gasguard-push-token"
KEY_TEXT = base64.b64encode(bytes(range(32))).decode().rstrip("=")  # 43 characters


def push(messages: object, nonce: str = "abcdefgh", key: bytes | None = None) -> bytes:
    text = onenet.compact(messages)
    if key is None:
        return json.dumps(
            {"msg": messages, "msg_signature": onenet.signature(TOKEN, nonce, text), "nonce": nonce}
        ).encode()
    sealed = onenet.encrypt(text, key, b"r" * 16)
    signed = onenet.signature(TOKEN, nonce, sealed)
    return json.dumps({"enc_msg": sealed, "msg_signature": signed, "nonce": nonce}).encode()


def test_the_url_check_is_base64_of_md5_of_token_nonce_and_msg() -> None:
    expected = base64.b64encode(hashlib.md5(b"gasguard-push-tokenn0ncehello").digest()).decode()
    assert onenet.signature(TOKEN, "n0nce", "hello") == expected
    assert onenet.verify_url(TOKEN, "hello", "n0nce", expected)
    assert not onenet.verify_url(TOKEN, "hello", "n0nce", onenet.signature(TOKEN, "n0nce", "hellO"))
    assert not onenet.verify_url("another-token", "hello", "n0nce", expected)


def test_data_points_of_one_instant_become_one_reading_online_a_status_7_a_reply() -> None:
    messages = [
        {"type": 1, "dev_id": 5001, "ds_id": "vol", "at": 1_790_000_000_000, "value": 12.5},
        {"type": 1, "dev_id": 5001, "ds_id": "valve", "at": 1_790_000_000_000, "value": 0},
        {"type": 1, "dev_id": 5001, "ds_id": "vol", "at": 1_790_000_060_000, "value": 12.51},
        {"type": 2, "dev_id": 5001, "status": 1, "login_type": 10, "at": 1_790_000_000_001},
        {"type": 1, "dev_id": 5001, "ds_id": "signal", "at": 1_790_000_000_000, "value": -90},
        {"type": 7, "dev_id": 5001, "cmd_type": 1, "cmd_id": "c-1", "at": 1_790_000_000_002},
    ]
    opened = onenet.open_push(push(messages), TOKEN, None)
    assert opened == messages
    out, ignored = onenet.to_contract(opened, {"volume_m3": "vol", "meter_prefix": "ON"})
    assert [(m.meter_id, m.kind) for m in out] == [
        ("ON5001", "status"),
        ("ON5001", "platform-replies"),
        ("ON5001", "telemetry"),
    ]
    assert out[0].payload == b"online"
    reply = parse_platform_reply(out[1].payload, "ON5001")
    assert (reply.ref, reply.result, reply.ts_ms) == ("c-1", "done", 1_790_000_000_002)
    assert json.loads(out[2].payload) == {
        "readings": [
            {"ts": 1_790_000_000_000, "volume_m3": 12.5, "valve": "closed"},
            {"ts": 1_790_000_060_000, "volume_m3": 12.51},
        ]
    }
    assert [i.reason for i in ignored] == ["data stream 'signal' is not mapped"]


def test_the_meter_is_named_by_its_imei_when_the_profile_says_so() -> None:
    one = {"type": 2, "dev_id": 7, "imei": "868000001234567", "status": 0, "at": 1}
    out, _ = onenet.to_contract([one], {"meter_key": "imei", "meter_prefix": "NB"})
    assert [(m.meter_id, m.payload) for m in out] == [("NB868000001234567", b"offline")]
    out, ignored = onenet.to_contract([{**one, "imei": None}], {"meter_key": "imei"})
    assert out == [] and "usable meter key" in ignored[0].reason


COMMANDS = {"meter_key": "imei", "meter_prefix": "NB", "command_resource": "3300_0_5850"}


def test_a_close_is_a_cached_execute_naming_the_imei_and_expiring_with_the_command() -> None:
    expires_ms = 1_790_000_000_000  # 2026-09-21 22:13:20 in China
    call = onenet.execute_offline("NB868000001234567", "close", COMMANDS, "the-key", expires_ms)
    assert (call.method, call.path) == ("POST", "/nbiot/execute/offline")
    assert dict(call.params) == {
        "imei": "868000001234567",
        "obj_id": "3300",
        "obj_inst_id": "0",
        "res_id": "5850",
        "expired_time": "2026-09-21T22:13:20",
        "retry": "3",
    }
    assert dict(call.headers)["api-key"] == "the-key"
    assert json.loads(call.body) == {"args": "close"}
    opened = onenet.execute_offline("NB1", "open", {**COMMANDS, "open_args": "01"}, "k", 0)
    assert json.loads(opened.body) == {"args": "01"}


@pytest.mark.parametrize(
    ("action", "options", "code"),
    [
        ("arm", COMMANDS, "no_such_command"),
        ("close", {"meter_prefix": "NB"}, "no_imei"),
        ("close", {**COMMANDS, "command_resource": "3300/0/5850"}, "bad_resource"),
    ],
)
def test_what_a_onenet_profile_cannot_say_is_refused_with_its_code(
    action: str, options: dict[str, str], code: str
) -> None:
    with pytest.raises(CodecError) as refused:
        onenet.execute_offline("NB1", action, options, "k", 0)
    assert refused.value.code == code


def test_the_command_api_answer_gives_the_uuid_or_the_platforms_refusal() -> None:
    ok = b'{"errno":0,"error":"succ","data":{"uuid":"0d7a-11"}}'
    assert onenet.command_uuid(ok) == "0d7a-11"
    for answer, code in [
        (b'{"errno":10,"error":"device not exist"}', "platform_refused"),
        (b'{"errno":0,"error":"succ","data":{}}', "bad_answer"),
        (b"<html>502</html>", "bad_answer"),
        (b"[1]", "bad_answer"),
    ]:
        with pytest.raises(CodecError) as refused:
            onenet.command_uuid(answer)
        assert refused.value.code == code


def test_the_secure_mode_decrypts_and_checks_the_signature_over_enc_msg() -> None:
    key = onenet.aes_key(KEY_TEXT)
    one = {"type": 2, "dev_id": 7, "status": 0, "at": 1}
    assert onenet.open_push(push(one, key=key), TOKEN, key) == [one]
    with pytest.raises(CodecError, match="must carry enc_msg"):
        onenet.open_push(push(one), TOKEN, key)  # plaintext where the secure mode is set


def test_a_push_with_a_wrong_signature_or_a_broken_body_is_refused_with_its_code() -> None:
    good = json.loads(push({"type": 2, "dev_id": 7, "status": 1, "at": 1}))
    forged = json.dumps({**good, "msg": {"type": 2, "dev_id": 8, "status": 1, "at": 1}})
    cases = {
        "bad_signature": forged.encode(),
        "not_json": b"{oops",
        "bad_push": b'{"msg": 1}',
    }
    for code, body in cases.items():
        with pytest.raises(CodecError) as refused:
            onenet.open_push(body, TOKEN, None)
        assert refused.value.code == code
    key = onenet.aes_key(KEY_TEXT)
    sealed = json.loads(push({"type": 2, "dev_id": 7, "status": 1, "at": 1}, key=key))
    sealed["enc_msg"] = sealed["enc_msg"][:-8] + "AAAAAAA="
    sealed["msg_signature"] = onenet.signature(TOKEN, sealed["nonce"], sealed["enc_msg"])
    with pytest.raises(CodecError) as broken:
        onenet.open_push(json.dumps(sealed).encode(), TOKEN, key)
    assert broken.value.code == "bad_enc_msg"


def test_the_signature_covers_the_message_as_sent_not_a_reserialisation() -> None:
    text = '{ "type": 2, "dev_id": 7, "status": 1, "at": 1 }'  # with spaces, as sent
    body = (
        f'{{"msg": {text}, "msg_signature": "{onenet.signature(TOKEN, "n", text)}", "nonce": "n"}}'
    )
    assert onenet.open_push(body.encode(), TOKEN, None)[0]["dev_id"] == 7


@given(st.text(max_size=300), st.binary(min_size=16, max_size=16))
def test_any_message_round_trips_through_the_secure_mode(text: str, random16: bytes) -> None:
    key = onenet.aes_key(KEY_TEXT)
    assert onenet.decrypt(onenet.encrypt(text, key, random16), key) == text


@given(st.binary(max_size=200))
def test_no_body_raises_anything_but_the_codecs_error(body: bytes) -> None:
    for key in (None, onenet.aes_key(KEY_TEXT)):
        try:
            messages = onenet.open_push(body, TOKEN, key)
        except CodecError as exc:
            assert exc.code
        else:
            onenet.to_contract(messages, {})


def test_the_alarm_stream_carries_the_meters_codes_in_gasguards_vocabulary() -> None:
    options = {"alarm_field": "3200_0_5800", "alarm_codes": "1:over_flow,4:seismic"}
    point = {"type": 1, "dev_id": 8, "ds_id": "3200_0_5800", "at": 1_790_000_000_000}
    out, ignored = onenet.to_contract(
        [{**point, "value": 1}, {**point, "value": 4}, {**point, "value": 0}], options
    )
    assert ignored == []
    assert [(m.kind, json.loads(m.payload)) for m in out] == [
        ("meter-alarms", {"ts": 1_790_000_000_000, "rule": "over_flow", "code": "1"}),
        ("events", {"ts": 1_790_000_000_000, "event": "seismic"}),
    ]  # 0, no code of the profile's: nothing
