"""Decode cost per device profile (a benchmark, not a test): what one reading costs to
decode when a meter speaks CJ/T 188, DLMS/COSEM or wireless M-Bus (wmbusmeters' JSON), or
comes through OneNET or CTWing, against gasguard's own JSON, measured in the same run.

    .venv/bin/python -m bench.profiles --readings 50000

* ``gasguard-json``: one reading per message, ``ingest.decode`` (the ingester's path);
* ``cjt188``: one DI 901F answer per message on ``cjt188-up``, ``ingest.decode``;
* ``dlms``: one Data-Notification per message on ``dlms`` (made by Gurux's meter side, as
  the simulator's DLMS meters push), ``ingest.decode`` (Gurux's parser inside);
* ``wmbus``: one wmbusmeters telegram per message on ``wmbus``, ``ingest.decode``;
* ``onenet``: pushes of 24 data points (a day of hourly volumes) opened and checked
  (signature), turned into contract batches (``devices.onenet``), and those decoded by
  ``ingest.decode`` as the ingester does after the platform receiver; plaintext and the
  secure mode (AES);
* ``ctwing``: one data report per push (CTWing pushes each message alone), opened,
  turned into a contract reading and decoded.

Prints µs per reading and the ratio to the JSON path; writes bench/results/profiles-<ts>.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import ROOT, best_of, machine, status
from contract.protocol import topic
from contract.readings import new_reading
from devices import cjt188, ctwing, onenet
from devices.platforms import compact
from ingest.config import DecodeLimits
from ingest.decode import decode
from simulators import dlms_meter, wmbus_meter

NOW = 1_790_000_000_000
TOKEN = "bench-token"
KEY = onenet.aes_key(base64.b64encode(bytes(range(32))).decode().rstrip("="))
PER_PUSH = 24


def json_messages(count: int, rng: random.Random) -> list[tuple[str, bytes]]:
    return [
        (
            f"gas/v1/meters/M{n % 5000:05d}/telemetry",
            json.dumps(
                {
                    "ts": NOW - n * 1000,
                    "volume_m3": round(rng.uniform(10, 3000), 2),
                    "valve": "open",
                }
            ).encode(),
        )
        for n in range(count)
    ]


def cjt188_messages(count: int, rng: random.Random) -> list[tuple[str, bytes]]:
    out = []
    for n in range(count):
        address = f"{20260000000000 + n % 5000:014d}"
        data = cjt188.MeterData(
            address, n % 256, round(rng.uniform(10, 3000), 2), 0.0, NOW - n * 1000, "open", False, 0
        )
        frame = cjt188.encode_frame(cjt188.meter_data_frame(data, "2004"))
        out.append((topic(address, "cjt188-up"), frame))
    return out


def dlms_messages(count: int, rng: random.Random) -> list[tuple[str, bytes]]:
    out = []
    for n in range(count):
        meter_id = f"DL{n % 5000:06d}"
        volume = round(rng.uniform(10, 3000), 3)
        reading = new_reading(meter_id, NOW - n * 1000, volume, None, None, None, None, "open")
        out.append((topic(meter_id, "dlms"), dlms_meter.reading_push(reading)))
    return out


def wmbus_messages(count: int, rng: random.Random) -> list[tuple[str, bytes]]:
    out = []
    for n in range(count):
        meter_id = f"{31000000 + n % 5000:08d}"
        volume = round(rng.uniform(10, 3000), 3)
        reading = new_reading(meter_id, NOW - n * 1000, volume, None, None, None, None, None)
        out.append((topic(meter_id, "wmbus"), wmbus_meter.telegram(reading)))
    return out


def ctwing_pushes(count: int, rng: random.Random) -> list[bytes]:
    return [
        compact(
            {
                "upPacketSN": -1,
                "timestamp": NOW - n * 1000,
                "tenantId": "2000050324",
                "protocol": "lwm2m",
                "productId": "15081413",
                "messageType": "dataReport",
                "deviceId": f"ct{n % 5000:030d}",
                "IMEI": f"{862592051000000 + n % 5000}",
                "payload": {
                    "serviceId": "meter",
                    "serviceData": {"volume_m3": round(rng.uniform(10, 3000), 3)},
                },
            }
        ).encode()
        for n in range(count)
    ]


def onenet_pushes(count: int, rng: random.Random, key: bytes | None) -> list[bytes]:
    out = []
    for n in range(count // PER_PUSH):
        messages = [
            {
                "type": 1,
                "dev_id": 800000 + n,
                "ds_id": "volume_m3",
                "at": NOW - (PER_PUSH - h) * 3_600_000,
                "value": round(100 + h * rng.uniform(0, 0.2), 3),
            }
            for h in range(PER_PUSH)
        ]
        text, nonce = onenet.compact(messages), f"n{n}"
        if key is None:
            body = {"msg": messages, "msg_signature": onenet.signature(TOKEN, nonce, text)}
        else:
            sealed = onenet.encrypt(text, key, rng.randbytes(16))
            body = {"enc_msg": sealed, "msg_signature": onenet.signature(TOKEN, nonce, sealed)}
        out.append(onenet.compact({**body, "nonce": nonce}).encode())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--readings", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rng = random.Random(7)
    limits = DecodeLimits()
    as_json = json_messages(args.readings, rng)
    frames = cjt188_messages(args.readings, rng)
    plain, secure = onenet_pushes(args.readings, rng, None), onenet_pushes(args.readings, rng, KEY)
    status("making DLMS pushes with Gurux's meter side")
    notifications = dlms_messages(args.readings, rng)
    telegrams = wmbus_messages(args.readings, rng)
    reports = ctwing_pushes(args.readings, rng)
    status(f"{args.readings:,} readings per profile")

    def decode_all(messages: list[tuple[str, bytes]]) -> Callable[[], None]:
        def run() -> None:
            for name, payload in messages:
                decode(name, payload, NOW, limits)

        return run

    def receive_all(pushes: list[bytes], key: bytes | None) -> Callable[[], None]:
        def run() -> None:
            for body in pushes:
                out, _ignored = onenet.to_contract(onenet.open_push(body, TOKEN, key), {})
                for message in out:
                    decode(topic(message.meter_id, "telemetry"), message.payload, NOW, limits)

        return run

    def receive_ctwing(pushes: list[bytes]) -> Callable[[], None]:
        def run() -> None:
            for body in pushes:
                out, _ignored = ctwing.to_contract(ctwing.open_push(body), {})
                for message in out:
                    decode(topic(message.meter_id, "telemetry"), message.payload, NOW, limits)

        return run

    readings_in = {
        "gasguard-json": len(as_json),
        "cjt188": len(frames),
        "onenet": len(plain) * PER_PUSH,
        "onenet-secure": len(secure) * PER_PUSH,
        "dlms": len(notifications),
        "wmbus": len(telegrams),
        "ctwing": len(reports),
    }
    seconds = {
        "gasguard-json": best_of(args.runs, decode_all(as_json)),
        "cjt188": best_of(args.runs, decode_all(frames)),
        "onenet": best_of(args.runs, receive_all(plain, None)),
        "onenet-secure": best_of(args.runs, receive_all(secure, KEY)),
        "dlms": best_of(args.runs, decode_all(notifications)),
        "wmbus": best_of(args.runs, decode_all(telegrams)),
        "ctwing": best_of(args.runs, receive_ctwing(reports)),
    }
    per_reading = {name: seconds[name] / readings_in[name] * 1e6 for name in seconds}
    base = per_reading["gasguard-json"]
    result = {
        "machine": machine(),
        "readings": readings_in,
        "us_per_reading": {name: round(us, 2) for name, us in per_reading.items()},
        "ratio_to_json": {name: round(us / base, 2) for name, us in per_reading.items()},
    }
    out = args.out or ROOT / "bench" / "results" / f"profiles-{int(time.time())}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    for name, us in per_reading.items():
        print(f"{name:14} {us:7.2f} µs/reading  {us / base:5.2f}x gasguard-json")
    print(f"({out})")


if __name__ == "__main__":
    main()
