"""Load generator: publishes telemetry as fast as the broker acknowledges it, for a
duration, then prints one JSON line: {"messages", "readings", "acknowledged", "seconds"}.

It speaks MQTT 3.1.1 over a raw socket with pre-encoded PUBLISH packets (QoS 1) and at
most ``--window`` of them unacknowledged, so that the generator is not what limits a
benchmark (a paho publisher tops out near 8,000 messages/s on the 2-core machine).

    python -m bench.loadgen --url mqtt://127.0.0.1:1883 --duration 60 --batch 10 --meters 2000
"""

from __future__ import annotations

import argparse
import json
import socket
import struct
import threading
import time
import uuid

from contract.protocol import topic
from devices import cjt188
from transport.mqtt import MqttEndpoint

CJT188_PREFIX = "9999"  # a mixed run's CJ/T 188 meters: addresses 9999xxxxxxxxxx


def cjt188_address(meter: int) -> str:
    return f"{CJT188_PREFIX}{meter:010d}"


def cjt188_payload(meter: int, volume_m3: float, ts_ms: int) -> bytes:
    """A DI 901F answer as a DTU forwards it (one reading; the meter's time in seconds)."""
    data = cjt188.MeterData(
        cjt188_address(meter), 0, round(volume_m3, 2), 0.0, ts_ms, "open", False, 0
    )
    return cjt188.encode_frame(cjt188.meter_data_frame(data, "2004"))


def remaining_length(length: int) -> bytes:
    encoded = bytearray()
    while True:
        byte, length = length % 128, length // 128
        encoded.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(encoded)


def packet(first_byte: int, body: bytes) -> bytes:
    return bytes([first_byte]) + remaining_length(len(body)) + body


def utf8(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">H", len(data)) + data


def connect_packet(client_id: str) -> bytes:
    variable = utf8("MQTT") + bytes([4, 0x02]) + struct.pack(">H", 60)  # 3.1.1, clean session
    return packet(0x10, variable + utf8(client_id))


def publish_packet(topic_name: str, mid: int, payload: bytes) -> bytes:
    return packet(0x32, utf8(topic_name) + struct.pack(">H", mid) + payload)  # QoS 1


class Acks(threading.Thread):
    """Counts PUBACKs (0x40 0x02 mid mid) from the socket."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(daemon=True)
        self.sock = sock
        self.count = 0

    def run(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            whole = len(buffer) // 4
            for offset in range(0, whole * 4, 4):
                if buffer[offset] == 0x40:
                    self.count += 1
            buffer = buffer[whole * 4 :]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--batch", type=int, default=1, help="readings per message")
    parser.add_argument("--meters", type=int, default=2000)
    parser.add_argument("--prefix", default="LOAD")
    parser.add_argument("--topic-prefix", default="", help="publish to '<prefix>/...' (ceilings)")
    parser.add_argument("--window", type=int, default=5000, help="published, not yet acknowledged")
    parser.add_argument(
        "--rate", type=float, default=0, help="messages/s to offer (0: as fast as acknowledged)"
    )
    parser.add_argument(
        "--cjt188-every", type=int, default=0, help="every n-th meter speaks CJ/T 188 (0: none)"
    )
    args = parser.parse_args()
    if args.cjt188_every and args.batch != 1:
        raise SystemExit("--cjt188-every needs --batch 1: a CJ/T 188 answer is one reading")

    endpoint = MqttEndpoint.from_url(args.url)
    sock = socket.create_connection((endpoint.host, endpoint.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(connect_packet(f"loadgen-{uuid.uuid4().hex[:6]}"))
    connack = sock.recv(4)
    if len(connack) < 4 or connack[0] != 0x20 or connack[3] != 0:
        raise SystemExit(f"broker refused the connection: {connack!r}")
    acks = Acks(sock)
    acks.start()
    speaks_cjt188 = [
        bool(args.cjt188_every) and m % args.cjt188_every == 0 for m in range(args.meters)
    ]
    topics = [
        topic(cjt188_address(m), "cjt188-up")
        if speaks_cjt188[m]
        else topic(f"{args.prefix}{m:06d}", "telemetry")
        for m in range(args.meters)
    ]
    if args.topic_prefix:
        topics = [f"{args.topic_prefix}/{name}" for name in topics]
    last_ts = [0] * args.meters  # event time follows the wall clock, strictly per meter
    sent = 0
    began = time.monotonic()
    deadline = began + args.duration
    while time.monotonic() < deadline:
        room = args.window - (sent - acks.count)
        if args.rate:
            room = min(room, int(args.rate * (time.monotonic() - began)) - sent)
        if room <= 0:
            time.sleep(0.0002)
            continue
        chunk = []
        now_ms = time.time_ns() // 1_000_000
        for _ in range(min(room, 500)):
            meter = sent % args.meters
            slot = (sent // args.meters) * args.batch
            if speaks_cjt188[meter]:  # whole seconds on the wire: one second apart at least
                ts = max(now_ms // 1000 * 1000, last_ts[meter] + 1000)
                last_ts[meter] = ts
                payload = cjt188_payload(meter, 100.0 + slot / 100, ts)
                chunk.append(publish_packet(topics[meter], sent % 65535 + 1, payload))
                sent += 1
                continue
            first_ts = max(now_ms, last_ts[meter] + 1)
            last_ts[meter] = first_ts + (args.batch - 1) * 10
            readings = [
                {
                    "ts": first_ts + k * 10,
                    "volume_m3": 100.0 + (slot + k) / 1000,
                    "flow_m3h": 0.3,
                }
                for k in range(args.batch)
            ]
            body = readings[0] if args.batch == 1 else {"seq": sent, "readings": readings}
            payload = json.dumps(body, separators=(",", ":")).encode()
            chunk.append(publish_packet(topics[meter], sent % 65535 + 1, payload))
            sent += 1
        sock.sendall(b"".join(chunk))
    publish_seconds = time.monotonic() - began
    settle = time.monotonic() + 60
    while acks.count < sent and time.monotonic() < settle:
        time.sleep(0.05)
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    sock.close()
    result = {
        "messages": sent,
        "readings": sent * args.batch,
        "acknowledged": acks.count,
        "seconds": publish_seconds,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
