"""Command latency benchmark (a benchmark, not a test): from the message that trips a
safety rule to the signed close command arriving at the meter, with the ingest path under
load. Real Mosquitto, real InfluxDB, ``gasguard ingest`` as its own process.

    .venv/bin/python -m bench.commands --duration 60 --load 8000

``--load`` is the background of single-reading messages per second (default 8,000: half
of the 16,137 messages/s measured in docs/benchmarks.md in session 2; the machine's speed
varies between days, so ``bench.run`` passes half of what its own ingest run measured).
With ``--api``, ``gasguard api`` runs too and its main endpoints are timed during the load
(bench/api_probe.py). Every ``--every`` seconds a provisioned meter that has not tripped
yet sends a ``detector_alarm`` event; a subscriber on the meters' command topics takes the
time the close arrives. Writes bench/results/commands-<timestamp>.json and prints a
summary.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from bench.api_probe import ApiProbe
from bench.common import ROOT, machine, peak_rss_mb, percentile, spawn_ingest, status
from bench.ingest import loadgen_argv
from contract.profiles import MeterProfile
from contract.protocol import parse_command, topic
from gasguard.servers import InfluxServer, MosquittoServer, free_port
from meters.db import make_engine, migrate
from meters.registry import Registry
from transport.mqtt import MqttEndpoint, MqttSession

TARGET_P99_MS = 250.0


class Tripwire:
    """Sends one detector alarm per meter and times the close that comes back."""

    def __init__(self, url: str, meters: list[str]) -> None:
        self.meters = meters
        self.sent: dict[str, float] = {}
        self.latencies_ms: list[float] = []
        self._lock = threading.Lock()
        self.session = MqttSession(
            MqttEndpoint.from_url(url, protocol="3.1.1"),
            "bench-tripwire",
            [("gas/v1/meters/+/commands", 1)],
            "tripwire",
        )
        self.session.client.on_message = self._on_command
        self.session.start()
        if not self.session.wait_ready(10):
            raise RuntimeError("tripwire could not subscribe")

    def trip(self, index: int) -> None:
        meter_id = self.meters[index]
        body = json.dumps({"ts": time.time_ns() // 1_000_000, "event": "detector_alarm"})
        with self._lock:
            self.sent[meter_id] = time.monotonic()
        self.session.client.publish(topic(meter_id, "events"), body.encode(), qos=1)

    def _on_command(self, _c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        arrived = time.monotonic()
        meter_id = msg.topic.split("/")[3]
        command = parse_command(meter_id, bytes(msg.payload))
        with self._lock:
            sent = self.sent.pop(meter_id, None)
        if sent is not None and command.action == "close":
            self.latencies_ms.append((arrived - sent) * 1000)

    def stop(self) -> None:
        self.session.stop()


def run(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    mosquitto = MosquittoServer(folder / "mosquitto")
    influx = InfluxServer(folder / "influxd")
    registry_url = f"sqlite:///{folder / 'registry.sqlite3'}"
    engine = make_engine(registry_url)
    migrate(engine)
    trip_meters = [f"TRIP{i:05d}" for i in range(args.trips)]
    Registry(engine).meters.provision([MeterProfile(m) for m in trip_meters], 0)
    env = {
        **os.environ,
        "GASGUARD_MQTT_URL": mosquitto.url,
        "GASGUARD_INFLUX_URL": influx.url,
        "GASGUARD_INFLUX_DB": "bench_commands",
        "GASGUARD_DB_URL": registry_url,
        "GASGUARD_DATA_DIR": str(folder / "ingest"),
        "GASGUARD_INGEST__METRICS_PORT": str(free_port()),
    }
    log_path = folder / "ingest.log"
    ingest = spawn_ingest(env, log_path, "WARNING")
    tripwire = None
    probe = ApiProbe(env, folder, trip_meters[0]) if args.api else None
    api: dict[str, Any] | None = None
    try:
        time.sleep(3)  # subscribed (WARNING level: no line to wait for)
        if ingest.poll() is not None:
            raise RuntimeError(log_path.read_text())
        tripwire = Tripwire(mosquitto.url, trip_meters)
        argv = loadgen_argv(mosquitto.url, args.duration, 1, args.meters, rate=args.load)
        load = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        status(f"commands: load {args.load:,.0f} msg/s, a trip every {args.every} s")
        time.sleep(2)  # let the load settle
        if probe is not None:
            probe.start()
        trips = 0
        began = time.monotonic()
        while time.monotonic() - began < args.duration - 4 and trips < len(trip_meters):
            tripwire.trip(trips)
            trips += 1
            time.sleep(args.every)
        published = json.loads(load.communicate(timeout=args.duration + 120)[0].splitlines()[-1])
        if probe is not None:
            api = probe.stop()
            probe = None
        time.sleep(2)
        latencies = sorted(tripwire.latencies_ms)
        rss = peak_rss_mb(ingest.pid)
    finally:
        if probe is not None:
            probe.stop()
        if tripwire is not None:
            tripwire.stop()
        ingest.send_signal(signal.SIGTERM)
        ingest.wait(30)
        influx.stop()
        mosquitto.stop()
    p99 = percentile(latencies, 0.99)
    return {
        "machine": machine(),
        "load_messages_per_s": args.load,
        "load_published": published["messages"],
        "load_published_per_s": round(published["messages"] / published["seconds"]),
        "trips": trips,
        "closes_received": len(latencies),
        "latency_ms_p50": percentile(latencies, 0.50),
        "latency_ms_p99": p99,
        "latency_ms_max": round(max(latencies), 1) if latencies else None,
        "target_p99_ms": TARGET_P99_MS,
        "p99_vs_target": round(p99 / TARGET_P99_MS, 3) if latencies else None,
        "ingest_peak_rss_mb": rss,
        "api_under_load": api,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--load", type=float, default=8000, help="background msg/s")
    parser.add_argument("--meters", type=int, default=2000, help="background meters")
    parser.add_argument("--trips", type=int, default=500, help="meters that trip, once each")
    parser.add_argument("--every", type=float, default=0.2, help="seconds between trips")
    parser.add_argument(
        "--api", action="store_true", help="also time the API's main endpoints under the load"
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gasguard-bench-") as tmp:
        report = run(args, Path(tmp))
    out = args.out or ROOT / "bench" / "results" / f"commands-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    status(f"wrote {out}")


if __name__ == "__main__":
    main()
