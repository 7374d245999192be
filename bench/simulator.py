"""Simulator scale benchmark (a benchmark, not a test): one ``gasguard simulate`` process
driving a big fleet on a real Mosquitto, counted by a bare subscriber.

    .venv/bin/python -m bench.simulator --meters 100000 --interval 60 --duration 120
Reports the start-up time (registering and keying the fleet, first publish), telemetry
messages/s received against the rate the fleet should produce (meters / interval), and
the simulator's CPU share and peak RSS. Writes bench/results/simulator-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import ROOT, machine, peak_rss_mb, status
from gasguard.servers import MosquittoServer
from transport.mqtt import MqttEndpoint, MqttSession


class Counter:
    """Telemetry messages per second, from a subscriber on every meter's telemetry."""

    def __init__(self, url: str) -> None:
        self.per_second: dict[int, int] = {}
        self._lock = threading.Lock()
        self.session = MqttSession(
            MqttEndpoint.from_url(url),
            f"count-{uuid.uuid4().hex[:6]}",
            [("gas/v1/meters/+/telemetry", 0)],
            "count",
        )
        self.session.client.on_message = self._on_message

    def _on_message(self, *_: object) -> None:
        second = int(time.monotonic())
        with self._lock:
            self.per_second[second] = self.per_second.get(second, 0) + 1

    def rate(self, since: float, until: float) -> float:
        with self._lock:
            total = sum(n for s, n in self.per_second.items() if since <= s < until)
        return total / max(1.0, until - since)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meters", type=int, default=100_000)
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds measured")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gasguard-bench-") as tmp:
        folder = Path(tmp)
        mosquitto = MosquittoServer(folder / "mosquitto")
        counter = Counter(mosquitto.url)
        counter.session.start()
        assert counter.session.wait_ready(10)
        env = {
            **os.environ,
            "GASGUARD_MQTT_URL": mosquitto.url,
            "GASGUARD_DATA_DIR": str(folder / "data"),
            "GASGUARD_SIMULATOR__LEAK_FAULTS": "0",
            "GASGUARD_SIMULATOR__OVER_FLOW_FAULTS": "0",
            "GASGUARD_SIMULATOR__MICRO_FLOW_FAULTS": "0",
        }
        argv = [sys.executable, "-m", "gasguard.cli", "simulate"]
        argv += ["--meters", str(args.meters), "--interval", str(args.interval)]
        started = time.monotonic()
        status(f"simulate: {args.meters:,} meters every {args.interval:g} s")
        process = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        try:
            while not counter.per_second and process.poll() is None:
                time.sleep(0.2)
            first_message = time.monotonic() - started
            status(f"first telemetry after {first_message:.1f} s; measuring {args.duration:g} s")
            # one interval to reach the steady rate (first reports are spread over it)
            time.sleep(args.interval)
            since, cpu_before = time.monotonic(), cpu_seconds(process.pid)
            time.sleep(args.duration)
            until, cpu_after = time.monotonic(), cpu_seconds(process.pid)
            report: dict[str, Any] = {
                "machine": machine(),
                "meters": args.meters,
                "interval_s": args.interval,
                "startup_seconds": round(first_message, 1),
                "expected_messages_per_s": round(args.meters / args.interval, 1),
                "received_messages_per_s": round(counter.rate(since, until), 1),
                "simulator_cpu_share": round((cpu_after - cpu_before) / (until - since), 3),
                "simulator_peak_rss_mb": peak_rss_mb(process.pid),
            }
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)
            counter.session.stop()
            mosquitto.stop()
    out = (
        args.out or ROOT / "bench" / "results" / f"simulator-{time.strftime('%Y%m%dT%H%M%S')}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
