"""OneNET's HTTP push: URL verification, plaintext and secure-mode pushes, and what they
become. Pure: no fixtures."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


def test_data_points_of_one_instant_become_one_reading_and_online_a_status() -> None:
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
    assert [(m.meter_id, m.kind) for m in out] == [("ON5001", "status"), ("ON5001", "telemetry")]
    assert out[0].payload == b"online"
    assert json.loads(out[1].payload) == {
        "readings": [
            {"ts": 1_790_000_000_000, "volume_m3": 12.5, "valve": "closed"},
            {"ts": 1_790_000_060_000, "volume_m3": 12.51},
        ]
    }
    assert [i.reason for i in ignored] == [
        "data stream 'signal' is not mapped",
        "message type 7 is not handled yet",
    ]


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
