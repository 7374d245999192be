"""China Telecom CTWing (天翼物联网平台, AEP): its subscription push (NB-IoT meters through the
platform) and its command API. Pure: a push's bytes in, contract messages out; a command
to the request that gives it to the platform; ``CodecError`` for everything refused.

As the platform's messages show (订阅推送; one JSON object a POST, ``messageType``):

* ``dataReport``: ``deviceId``, ``IMEI``, ``timestamp`` (ms), ``payload``: the product's
  properties, flat (``{"volume": 12.5}``) or under ``serviceData`` (``{"serviceId": ...,
  "serviceData": {...}}``); a transparent product's ``{"APPdata": base64}`` needs the
  vendor's codec, which gasguard does not have: it is logged and left out.
* ``deviceOnlineOfflineReport``: ``eventType`` 1 online, 0 offline.
* ``eventReport``: ``eventContent``, the event's properties; the profile's ``alarm_field``
  there (or in a data report) is the meter's alarm code (devices.alarm_codes).
* ``commandResponse``: ``taskId`` (the ``commandId`` the command API gave) and ``result``
  ``{"resultCode": SENT | DELIVERED | SUCCESSFUL | FAILED | TIMEOUT | ..., "resultDetail"}``.

The push carries no signature: the receiver's check is a secret token in the
subscription's URL (docs/protocols.md). The command API (``POST
/aep_device_command/command``) is signed as the AEP SDK signs: headers ``application``
(the app key), ``timestamp`` (ms), ``version``, ``MasterKey`` and ``signature`` =
Base64(HMAC-SHA1(app secret, "application:" key "\\n" "timestamp:" ts "\\n", then each
signed parameter "name:value\\n" in name order, then the body and "\\n")); the answer
``{"code": 0, "result": {"commandId": ...}}``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from contract.protocol import is_meter_id
from devices import platforms
from devices.errors import CodecError
from devices.platforms import ContractMessage, HttpCall, Ignored, compact

CREATE_COMMAND = "/aep_device_command/command"
API_VERSION = "20190712225145"  # the command API's version, as the AEP SDK sends it
DELIVERED = frozenset({"DELIVERED", "SUCCESSFUL"})  # the meter took it
PENDING = frozenset({"SAVED", "SENT", "SEND"})  # the platform has it or sent it: no answer yet
# the valve's service and its parameter, unless the profile names others (the product's
# object model, 物模型, gives them)
COMMAND_DEFAULTS = {
    "command_service": "valve_control",
    "command_param": "valve",
    "close_value": "0",
    "open_value": "1",
    "params_service": "threshold_set",  # a parameter download: the thresholds as its params
}
MAX_TTL_S = 864_000  # the platform keeps a command for at most 10 days


def open_push(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CodecError("not_json", f"push body is not JSON: {exc}") from exc
    if not isinstance(message, dict):
        raise CodecError("bad_push", "push body must be a JSON object")
    if not isinstance(message.get("messageType"), str):
        raise CodecError("bad_push", "push needs a messageType")
    return message


def meter_of(message: Mapping[str, Any], options: Mapping[str, str]) -> str | None:
    """The meter: ``meter_prefix`` and the ``deviceId`` (or the ``IMEI``, with
    ``meter_key = "IMEI"``; commands name the deviceId, so keep it for meters that take
    them)."""
    key = message.get("IMEI" if options.get("meter_key") == "IMEI" else "deviceId")
    meter_id = f"{options.get('meter_prefix', '')}{key}"
    return meter_id if isinstance(key, str) and key and is_meter_id(meter_id) else None


def to_contract(
    message: Mapping[str, Any], options: Mapping[str, str]
) -> tuple[list[ContractMessage], list[Ignored]]:
    meter_id = meter_of(message, options)
    kind = message.get("messageType")
    if meter_id is None:
        return [], [Ignored(f"{kind} without a usable meter key: {compact(message)[:80]}")]
    if kind == "dataReport":
        return _data_report(meter_id, message, options)
    if kind == "deviceOnlineOfflineReport":
        return [platforms.status(meter_id, message.get("eventType") == 1)], []
    if kind == "commandResponse":
        return _command_response(meter_id, message)
    if kind == "eventReport":
        return _event_report(meter_id, message, options)
    return [], [Ignored(f"messageType {kind!r} is not one gasguard reads")]


def _data_report(
    meter_id: str, message: Mapping[str, Any], options: Mapping[str, str]
) -> tuple[list[ContractMessage], list[Ignored]]:
    payload = message.get("payload")
    if isinstance(payload, dict) and isinstance(payload.get("serviceData"), dict):
        payload = payload["serviceData"]
    if not isinstance(payload, dict) or "APPdata" in payload:
        return [], [Ignored("a transparent payload (APPdata) needs the vendor's codec")]
    field_of = platforms.field_names(options)
    ts = message.get("timestamp")
    reading: dict[str, Any] = {"ts": ts}
    out: list[ContractMessage] = []
    for name, value in payload.items():
        field = field_of.get(name)
        if name == options.get("alarm_field"):
            out.extend(platforms.alarm_messages(meter_id, ts, value, "ctwing", options))
        elif field is not None:
            reading[field] = platforms.field_value(field, value)
    if len(reading) > 1:
        out.insert(0, platforms.telemetry(meter_id, {ts: reading}))
    if not out:
        return [], [Ignored(f"no mapped property in {sorted(payload)[:8]}")]
    return out, []


def _event_report(
    meter_id: str, message: Mapping[str, Any], options: Mapping[str, str]
) -> tuple[list[ContractMessage], list[Ignored]]:
    """An event the product's model defines (an alarm, a valve closed by the meter): its
    ``alarm_field`` in ``eventContent`` is the meter's alarm code."""
    content, name = message.get("eventContent"), options.get("alarm_field")
    if not isinstance(content, dict) or name is None or name not in content:
        return [], [Ignored(f"eventReport without the alarm field {name!r}")]
    ts = message.get("timestamp")
    return platforms.alarm_messages(meter_id, ts, content[name], "ctwing", options), []


def _command_response(
    meter_id: str, message: Mapping[str, Any]
) -> tuple[list[ContractMessage], list[Ignored]]:
    task, result = message.get("taskId"), message.get("result")
    code = result.get("resultCode") if isinstance(result, dict) else None
    if isinstance(task, bool) or not isinstance(task, int | str) or not isinstance(code, str):
        return [], [Ignored(f"commandResponse without taskId and resultCode: {message}")]
    if code in PENDING:
        return [], [Ignored(f"command {task}: {code} (no answer from the meter yet)")]
    ts = message.get("timestamp")
    ts_ms = ts if isinstance(ts, int) and not isinstance(ts, bool) else 0
    if code in DELIVERED:
        return [platforms.reply(meter_id, str(task), "done", ts_ms, None)], []
    detail = result.get("resultDetail") if isinstance(result, dict) else None
    error = f"CTWing {code}" + (f": {detail}" if detail else "")
    return [platforms.reply(meter_id, str(task), "rejected", ts_ms, error)], []


def signature(
    app_secret: str, app_key: str, timestamp: str, params: Mapping[str, str], body: bytes
) -> str:
    text = f"application:{app_key}\ntimestamp:{timestamp}\n"
    text += "".join(f"{name}:{params[name]}\n" for name in sorted(params))
    if body:
        text += body.decode() + "\n"
    digest = hmac.new(app_secret.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def create_command(
    meter_id: str,
    action: str,
    options: Mapping[str, str],
    account: Mapping[str, str],
    ttl_s: int,
    now_ms: int,
    params: str = "",
) -> HttpCall:
    """The command that closes or opens a meter's valve, or (``params``) downloads its
    firmware thresholds (the profile's ``params_service`` with the thresholds as its
    parameters), signed. ``account``: the application's ``app_key``, ``app_secret``,
    ``master_key`` and the ``product_id``."""
    if options.get("meter_key") == "IMEI":
        raise CodecError("no_device_id", "CTWing commands name the deviceId: keep meter_key")
    if action not in ("close", "open", "params"):
        raise CodecError("no_such_command", f"a CTWing meter has no {action!r}: it opens or closes")
    settings = {**COMMAND_DEFAULTS, **options}
    if action == "params":
        content = {"params": json.loads(params), "serviceIdentifier": settings["params_service"]}
    else:
        value = settings[f"{action}_value"]
        content = {
            "params": {settings["command_param"]: int(value) if value.isdigit() else value},
            "serviceIdentifier": settings["command_service"],
        }
    body = compact(
        {
            "content": content,
            "deviceId": meter_id.removeprefix(options.get("meter_prefix", "")),
            "operator": "gasguard",
            "productId": int(account["product_id"]),
            "ttl": max(0, min(ttl_s, MAX_TTL_S)),
            "level": 1,
        }
    ).encode()
    timestamp = str(now_ms)
    signed = {"MasterKey": account["master_key"]}
    sign = signature(account["app_secret"], account["app_key"], timestamp, signed, body)
    headers = (
        ("application", account["app_key"]),
        ("timestamp", timestamp),
        ("version", API_VERSION),
        ("MasterKey", account["master_key"]),
        ("signature", sign),
        ("Content-Type", "application/json; charset=UTF-8"),
    )
    return HttpCall("POST", CREATE_COMMAND, (), headers, body)


def command_id(answer: bytes) -> str:
    """The commandId from the command API's answer; ``CodecError`` for a refusal."""
    return platforms.command_reference(answer, "code", "msg", ("result", "commandId"))
