"""Ceiling: a bare paho subscriber (QoS 1, automatic PUBACK) counting messages. Prints one
JSON line: {"messages", "seconds"} from the first message to the last.

    python -m bench.bare_subscriber --url mqtt://127.0.0.1:1883 --topic 'ceiling/#' --idle 3
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid

from transport.mqtt import MqttEndpoint, MqttSession


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument(
        "--idle", type=float, default=3.0, help="stop after this long without messages"
    )
    parser.add_argument("--ready-file", required=True)
    args = parser.parse_args()
    session = MqttSession(
        MqttEndpoint.from_url(args.url), f"bare-{uuid.uuid4().hex[:6]}", [(args.topic, 1)], "bare"
    )
    count = 0
    first = last = 0.0
    lock = threading.Lock()

    def on_message(*_: object) -> None:
        nonlocal count, first, last
        now = time.monotonic()
        with lock:
            if count == 0:
                first = now
            count += 1
            last = now

    session.client.on_message = on_message
    session.start()
    assert session.wait_ready(10)
    with open(args.ready_file, "w") as ready:
        ready.write("ready")
    while True:
        time.sleep(0.2)
        with lock:
            if count and time.monotonic() - last > args.idle:
                break
    session.stop()
    print(json.dumps({"messages": count, "seconds": last - first}))


if __name__ == "__main__":
    main()
