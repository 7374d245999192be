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
  ``cmd_type``).

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
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from contract.protocol import is_meter_id
from devices.errors import CodecError

DATA_POINT, ONLINE, COMMAND_RESULT = 1, 2, 7
# reading field -> the data stream that carries it, unless the profile names another
DEFAULT_STREAMS = {
    "volume_m3": "volume_m3",
    "flow_m3h": "flow_m3h",
    "pressure_kpa": "pressure_kpa",
    "temperature_c": "temperature_c",
    "battery_pct": "battery_pct",
    "valve": "valve",
}
VALVE_NUMBERS = {1: "open", 0: "closed"}


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


def compact(value: Any) -> str:
    """M as the platform sends it: compact JSON."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


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


@dataclass(frozen=True, slots=True)
class ContractMessage:
    """What a push becomes: a contract message for one meter (kind: telemetry, status)."""

    meter_id: str
    kind: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Ignored:
    reason: str


def to_contract(
    messages: list[dict[str, Any]], options: Mapping[str, str]
) -> tuple[list[ContractMessage], list[Ignored]]:
    """Data points become readings (one per meter and instant: its data points at the
    same ``at``; the fields the profile's streams name), online/offline the meter's
    status. The ingester's decoder checks every reading as it checks a meter's own."""
    streams = {field: options.get(field, ds) for field, ds in DEFAULT_STREAMS.items()}
    field_of = {ds: field for field, ds in streams.items()}
    prefix = options.get("meter_prefix", "")
    readings: dict[str, dict[int, dict[str, Any]]] = {}
    out: list[ContractMessage] = []
    ignored: list[Ignored] = []
    for message in messages:
        meter_id = f"{prefix}{message.get('dev_id')}"
        if not is_meter_id(meter_id) or message.get("dev_id") is None:
            ignored.append(Ignored(f"message without a usable dev_id: {compact(message)[:80]}"))
            continue
        kind = message.get("type")
        if kind == DATA_POINT:
            field = field_of.get(str(message.get("ds_id")))
            if field is None:
                ignored.append(Ignored(f"data stream {message.get('ds_id')!r} is not mapped"))
                continue
            value = message.get("value")
            if field == "valve" and value in VALVE_NUMBERS and not isinstance(value, bool):
                value = VALVE_NUMBERS[value]
            at = message.get("at")
            instant = readings.setdefault(meter_id, {}).setdefault(at, {"ts": at})  # type: ignore[arg-type]
            instant[field] = value
        elif kind == ONLINE:
            status = "online" if message.get("status") == 1 else "offline"
            out.append(ContractMessage(meter_id, "status", status.encode()))
        else:  # 7: results of cached commands, when gasguard sends commands through OneNET
            ignored.append(Ignored(f"message type {kind!r} is not handled yet"))
    for meter_id, instants in readings.items():
        batch = {"readings": [instants[at] for at in sorted(instants, key=_order)]}
        out.append(ContractMessage(meter_id, "telemetry", compact(batch).encode()))
    return out, ignored


def _order(at: object) -> float:
    return at if isinstance(at, int | float) else float("inf")
