"""China Mobile OneNET's HTTP data push (NB-IoT meters through the platform). Pure: the
push's bytes in, gasguard's contract messages out; ``CodecError`` for everything refused.

As the platform documents its push service (OneNET 开发指南, HTTP推送):

* **URL verification**: a GET with ``msg``, ``nonce`` and ``signature``; the signature is
  the Base64 of MD5(token + nonce + msg); the answer is ``msg`` itself.
* **Data**: a POST whose JSON body is ``{"msg": M, "msg_signature": S, "nonce": N}``, M one
  message or a list of them, S = Base64(MD5(token + N + M as sent)); in the secure mode
  ``{"enc_msg": E, "msg_signature": S, "nonce": N}`` with S over E, and E the Base64 of
  AES-256-CBC (key = Base64-decode of the 43-character EncodingAESKey and "=", IV = the
  key's first 16 bytes, PKCS#7) of 16 random bytes, M's length (4 bytes, big-endian) and M.
* **Messages**: ``type`` 1 a data point (``dev_id``, ``ds_id``, ``at`` ms, ``value``), 2 the
  device online or offline (``status`` 1/0), 7 a cached command's result (``cmd_id``,
  the uuid the command API gave it, ``cmd_type``); NB-IoT devices' messages carry the
  module's ``imei`` too.
* **Cached commands** (缓存命令, for devices that sleep): ``POST /nbiot/execute/offline``
  with the query ``imei``, ``obj_id``, ``obj_inst_id``, ``res_id``, ``expired_time``
  (and ``retry``), the header ``api-key``, the body ``{"args": "..."}``; the answer
  ``{"errno": 0, "error": "succ", "data": {"uuid": "..."}}``. The platform holds the
  command until the device next wakes, sends it, and pushes the type-7 result.

The receiver must answer 200 once it has the data (otherwise the platform pushes again):
gasguard answers only after the broker has taken the contract messages (ingest.
platform_receiver). A meter's data points of one instant become one contract reading;
which data stream is which reading field is the profile's (``options``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from contract.protocol import is_meter_id
from devices import platforms
from devices.errors import CodecError
from devices.platforms import ContractMessage, HttpCall, Ignored, compact

DATA_POINT, ONLINE, COMMAND_RESULT = 1, 2, 7
EXECUTE_OFFLINE = "/nbiot/execute/offline"
# the valve's executable resource and its arguments, unless the profile names others
# (they are the meter model's: its vendor's object model gives them)
COMMAND_DEFAULTS = {"command_resource": "3201_0_5850", "close_args": "close", "open_args": "open"}
COMMAND_RETRIES = "3"  # the platform's retries while the device does not answer


def signature(token: str, nonce: str, text: str) -> str:
    """Base64(MD5(token + nonce + text)): the URL check's and every push's signature."""
    digest = hashlib.md5((token + nonce + text).encode(), usedforsecurity=False).digest()
    return base64.b64encode(digest).decode()


def verify_url(token: str, msg: str, nonce: str, given: str) -> bool:
    return hmac.compare_digest(signature(token, nonce, msg), given)


def aes_key(encoding_aes_key: str) -> bytes:
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except ValueError as exc:
        raise CodecError("bad_key", "the EncodingAESKey is not Base64") from exc
    if len(key) != 32:
        raise CodecError("bad_key", f"the EncodingAESKey gives {len(key)} bytes, 32 needed")
    return key


def decrypt(enc_msg: str, key: bytes) -> str:
    try:
        sealed = base64.b64decode(enc_msg, validate=True)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        padded = decryptor.update(sealed) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        plain = unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise CodecError("bad_enc_msg", f"enc_msg does not decrypt: {exc}") from exc
    length = int.from_bytes(plain[16:20], "big")
    if len(plain) < 20 + length:
        raise CodecError("bad_enc_msg", "enc_msg is shorter than the length it gives")
    try:
        return plain[20 : 20 + length].decode()
    except UnicodeDecodeError as exc:
        raise CodecError("bad_enc_msg", "the decrypted message is not UTF-8") from exc


def encrypt(msg: str, key: bytes, random16: bytes) -> str:
    """The platform's side (the stand-in platform of the tests)."""
    raw = msg.encode()
    padder = padding.PKCS7(128).padder()
    padded = padder.update(random16 + len(raw).to_bytes(4, "big") + raw) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def open_push(body: bytes, token: str, key: bytes | None) -> list[dict[str, Any]]:
    """The messages of a push whose signature checks out (a secure-mode push needs the
    key; a plaintext one is refused when a key is configured: the mode is the
    profile's)."""
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CodecError("not_json", f"push body is not JSON: {exc}") from exc
    if not isinstance(envelope, dict):
        raise CodecError("bad_push", "push body must be a JSON object")
    nonce, given = envelope.get("nonce"), envelope.get("msg_signature")
    if not isinstance(nonce, str) or not isinstance(given, str):
        raise CodecError("bad_push", "push needs nonce and msg_signature")
    if key is not None:
        sealed = envelope.get("enc_msg")
        if not isinstance(sealed, str):
            raise CodecError("bad_push", "secure mode: the push must carry enc_msg")
        signed = [sealed]
    else:
        if "msg" not in envelope:
            raise CodecError("bad_push", "plaintext mode: the push must carry msg")
        signed = [text for text in (_raw_msg(body), compact(envelope["msg"])) if text]
    if not any(hmac.compare_digest(signature(token, nonce, t), given) for t in signed):
        raise CodecError("bad_signature", "msg_signature does not match the token")
    messages = _messages(decrypt(signed[0], key)) if key is not None else envelope["msg"]
    messages = messages if isinstance(messages, list) else [messages]
    if not all(isinstance(m, dict) for m in messages):
        raise CodecError("bad_push", "every message must be a JSON object")
    return messages


def _messages(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CodecError("bad_enc_msg", f"the decrypted message is not JSON: {exc}") from exc


MSG_KEY = re.compile(rb'"msg"\s*:\s*')


def _raw_msg(body: bytes) -> str | None:
    """M exactly as sent (the signature covers the text, not a re-serialisation of it)."""
    found = MSG_KEY.search(body)
    if found is None:
        return None
    try:
        text = body.decode()
        start = len(body[: found.end()].decode())
    except UnicodeDecodeError:
        return None
    try:
        _, end = json.JSONDecoder().raw_decode(text, start)
    except ValueError:
        return None
    return text[start:end]


def meter_of(message: Mapping[str, Any], options: Mapping[str, str]) -> str | None:
    """The meter a message is about: ``meter_prefix`` and the device's ``dev_id`` (or its
    ``imei``, with ``meter_key = "imei"``: needed for commands, which name the IMEI)."""
    key = message.get("imei" if options.get("meter_key") == "imei" else "dev_id")
    meter_id = f"{options.get('meter_prefix', '')}{key}"
    return meter_id if key is not None and is_meter_id(meter_id) else None


def to_contract(
    messages: list[dict[str, Any]], options: Mapping[str, str]
) -> tuple[list[ContractMessage], list[Ignored]]:
    """Data points become readings (one per meter and instant: its data points at the
    same ``at``; the fields the profile's streams name), online/offline the meter's
    status, a cached command's result a platform reply. The ingester's decoder checks
    every reading as it checks a meter's own."""
    field_of = platforms.field_names(options)
    readings: dict[str, dict[Any, dict[str, Any]]] = {}
    out: list[ContractMessage] = []
    ignored: list[Ignored] = []
    for message in messages:
        meter_id = meter_of(message, options)
        if meter_id is None:
            ignored.append(Ignored(f"message without a usable meter key: {compact(message)[:80]}"))
            continue
        kind, at = message.get("type"), message.get("at")
        if kind == DATA_POINT and message.get("ds_id") == options.get("alarm_field"):
            value = message.get("value")
            out.extend(platforms.alarm_messages(meter_id, at, value, "onenet", options))
        elif kind == DATA_POINT:
            field = field_of.get(str(message.get("ds_id")))
            if field is None:
                ignored.append(Ignored(f"data stream {message.get('ds_id')!r} is not mapped"))
                continue
            instant = readings.setdefault(meter_id, {}).setdefault(at, {"ts": at})
            instant[field] = platforms.field_value(field, message.get("value"))
        elif kind == ONLINE:
            out.append(platforms.status(meter_id, message.get("status") == 1))
        elif kind == COMMAND_RESULT and isinstance(message.get("cmd_id"), str):
            ts_ms = at if isinstance(at, int) and not isinstance(at, bool) else 0
            out.append(platforms.reply(meter_id, message["cmd_id"], "done", ts_ms, None))
        else:
            ignored.append(Ignored(f"message type {kind!r} is not one gasguard reads"))
    out.extend(platforms.telemetry(meter_id, instants) for meter_id, instants in readings.items())
    return out, ignored


def execute_offline(
    meter_id: str,
    action: str,
    options: Mapping[str, str],
    api_key: str,
    expires_ms: int,
    params: str = "",
) -> HttpCall:
    """The cached command that closes or opens a meter's valve, or (``params``) downloads
    its firmware thresholds (their JSON as the arguments of the profile's
    ``params_resource``, an executable resource of the meter's object model): the meter's
    IMEI is its id without the profile's prefix (``meter_key = "imei"``). ``CodecError``
    when the profile cannot say it."""
    if options.get("meter_key") != "imei":
        raise CodecError("no_imei", "OneNET commands name the IMEI: set meter_key = imei")
    if action not in ("close", "open", "params"):
        raise CodecError("no_such_command", f"a OneNET meter has no {action!r}: it opens or closes")
    if action == "params" and "params_resource" not in options:
        raise CodecError(
            "no_params_resource", "the profile names no params_resource for the thresholds"
        )
    settings = {**COMMAND_DEFAULTS, **options, "params_args": params}
    resource = settings["params_resource" if action == "params" else "command_resource"]
    parts = resource.split("_")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise CodecError("bad_resource", f"resource {resource!r} is not obj_inst_res")
    imei = meter_id.removeprefix(options.get("meter_prefix", ""))
    query = (
        ("imei", imei),
        ("obj_id", parts[0]),
        ("obj_inst_id", parts[1]),
        ("res_id", parts[2]),
        ("expired_time", platforms.china_time(expires_ms)),
        ("retry", COMMAND_RETRIES),
    )
    headers = (("api-key", api_key), ("Content-Type", "application/json"))
    body = compact({"args": settings[f"{action}_args"]}).encode()
    return HttpCall("POST", EXECUTE_OFFLINE, query, headers, body)


def command_uuid(answer: bytes) -> str:
    """The uuid of a cached command from the API's answer; ``CodecError`` for a refusal."""
    return platforms.command_reference(answer, "errno", "error", ("data", "uuid"))
