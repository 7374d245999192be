"""CTWing's subscription push and command API: the pushes in the shapes the platform sends
(data reports flat and under serviceData, online/offline, command responses), the AEP
signature, and fuzzing: nothing but ``CodecError`` escapes, whatever is pushed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract.protocol import parse_platform_reply
from devices import ctwing
from devices.errors import CodecError

DEVICE = "44d0b9e48d404094bbbcf889e4e64ece"
OPTIONS = {"volume_m3": "gas_total", "valve": "valve_state", "meter_prefix": ""}
ACCOUNT = {"app_key": "ak", "app_secret": "as", "master_key": "mk", "product_id": "15081413"}


def report(payload: object, **extra: object) -> bytes:
    body = {
        "upPacketSN": -1,
        "upDataSN": -1,
        "topic": "v1/up/ad",
        "timestamp": 1_790_000_000_000,
        "tenantId": "2000050324",
        "serviceId": "",
        "protocol": "lwm2m",
        "productId": "15081413",
        "payload": payload,
        "messageType": "dataReport",
        "deviceType": "",
        "deviceId": DEVICE,
        "assocAssetId": "",
        "IMSI": "undefined",
        "IMEI": "862592051651472",
        **extra,
    }
    return json.dumps(body).encode()


def test_a_data_report_flat_or_under_service_data_becomes_one_reading() -> None:
    for payload in (
        {"gas_total": 12.5, "valve_state": 1, "RSRP": -90},
        {"serviceId": "meter", "serviceData": {"gas_total": 12.5, "valve_state": 1}},
    ):
        out, ignored = ctwing.to_contract(ctwing.open_push(report(payload)), OPTIONS)
        assert ignored == []
        assert [(m.meter_id, m.kind) for m in out] == [(DEVICE, "telemetry")]
        assert json.loads(out[0].payload) == {
            "readings": [{"ts": 1_790_000_000_000, "volume_m3": 12.5, "valve": "open"}]
        }


def test_the_meter_may_be_named_by_its_imei_and_a_prefix() -> None:
    options = {**OPTIONS, "meter_key": "IMEI", "meter_prefix": "CT"}
    out, _ = ctwing.to_contract(ctwing.open_push(report({"gas_total": 1})), options)
    assert out[0].meter_id == "CT862592051651472"


def test_a_transparent_payload_or_nothing_mapped_is_left_out_with_the_reason() -> None:
    out, ignored = ctwing.to_contract(ctwing.open_push(report({"APPdata": "AQFW"})), OPTIONS)
    assert out == [] and "APPdata" in ignored[0].reason
    out, ignored = ctwing.to_contract(ctwing.open_push(report({"RSRP": -90})), OPTIONS)
    assert out == [] and "no mapped property" in ignored[0].reason


def test_online_offline_is_the_meters_status() -> None:
    for event, word in ((1, b"online"), (0, b"offline")):
        push = {
            "timestamp": 1_589_444_231_825,
            "tenantId": "10461180",
            "protocol": "lwm2m",
            "productId": "10053421",
            "messageType": "deviceOnlineOfflineReport",
            "iccid": "undefined",
            "eventType": event,
            "deviceId": DEVICE,
        }
        out, _ = ctwing.to_contract(push, OPTIONS)
        assert [(m.kind, m.payload) for m in out] == [("status", word)]


def command_response(code: str, detail: str = "") -> dict[str, object]:
    return {
        "timestamp": 1_589_444_233_258,
        "tenantId": "10461180",
        "taskId": 7,
        "result": {"resultDetail": detail, "resultCode": code},
        "protocol": "lwm2m",
        "productId": "10053421",
        "messageType": "commandResponse",
        "deviceId": DEVICE,
    }


def test_a_command_response_is_a_reply_naming_the_command_by_its_task_id() -> None:
    for code in ("DELIVERED", "SUCCESSFUL"):
        out, _ = ctwing.to_contract(command_response(code), OPTIONS)
        reply = parse_platform_reply(out[0].payload, DEVICE)
        assert (out[0].kind, reply.ref, reply.result) == ("platform-replies", "7", "done")
    out, _ = ctwing.to_contract(command_response("TIMEOUT", "device did not answer"), OPTIONS)
    reply = parse_platform_reply(out[0].payload, DEVICE)
    assert (reply.result, reply.error) == ("rejected", "CTWing TIMEOUT: device did not answer")
    out, ignored = ctwing.to_contract(command_response("SENT"), OPTIONS)
    assert out == [] and "no answer from the meter yet" in ignored[0].reason


def test_a_close_is_a_signed_create_command_as_the_aep_sdk_signs() -> None:
    call = ctwing.create_command(DEVICE, "close", OPTIONS, ACCOUNT, 172_800, 1_790_000_000_000)
    assert (call.method, call.path, call.params) == ("POST", "/aep_device_command/command", ())
    assert json.loads(call.body) == {
        "content": {"params": {"valve": 0}, "serviceIdentifier": "valve_control"},
        "deviceId": DEVICE,
        "operator": "gasguard",
        "productId": 15081413,
        "ttl": 172_800,
        "level": 1,
    }
    headers = dict(call.headers)
    assert (headers["application"], headers["timestamp"], headers["MasterKey"]) == (
        "ak",
        "1790000000000",
        "mk",
    )
    text = b"application:ak\ntimestamp:1790000000000\nMasterKey:mk\n" + call.body + b"\n"
    expected = base64.b64encode(hmac.new(b"as", text, hashlib.sha1).digest()).decode()
    assert headers["signature"] == expected
    assert ctwing.signature("as", "ak", "1790000000000", {"MasterKey": "mk"}, call.body) == expected
    assert ctwing.signature("other", "ak", "1790000000000", {"MasterKey": "mk"}, call.body) != (
        expected
    )


def test_what_a_ctwing_profile_cannot_say_is_refused_and_answers_are_checked() -> None:
    for action, options, code in [
        ("arm", OPTIONS, "no_such_command"),
        ("close", {**OPTIONS, "meter_key": "IMEI"}, "no_device_id"),
    ]:
        with pytest.raises(CodecError) as refused:
            ctwing.create_command(DEVICE, action, options, ACCOUNT, 60, 0)
        assert refused.value.code == code
    assert ctwing.command_id(b'{"code":0,"msg":"ok","result":{"commandId":"88"}}') == "88"
    for answer, code in [
        (b'{"code":8002,"msg":"device not exist"}', "platform_refused"),
        (b'{"code":0,"result":{}}', "bad_answer"),
        (b"oops", "bad_answer"),
    ]:
        with pytest.raises(CodecError) as refused:
            ctwing.command_id(answer)
        assert refused.value.code == code


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
keys = st.sampled_from(
    ["messageType", "deviceId", "IMEI", "payload", "timestamp", "eventType", "taskId", "result"]
)


KINDS = ["dataReport", "deviceOnlineOfflineReport", "commandResponse", "eventReport", 3]


@given(st.dictionaries(keys, json_values), st.sampled_from(KINDS))
def test_no_push_raises_anything_but_the_codecs_error(body: dict, kind: object) -> None:
    raw = json.dumps({**body, "messageType": kind}).encode()
    try:
        out, _ignored = ctwing.to_contract(ctwing.open_push(raw), OPTIONS)
    except CodecError:
        return
    for message in out:
        assert message.kind in ("telemetry", "status", "platform-replies")


@given(st.binary(max_size=64))
def test_no_bytes_raise_anything_but_the_codecs_error(raw: bytes) -> None:
    try:
        message = ctwing.open_push(raw)
    except CodecError:
        return
    assert isinstance(message, dict) and isinstance(message["messageType"], str)
