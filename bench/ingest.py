"""Ingest benchmark on real Mosquitto and InfluxDB (a benchmark, not a test).

Measures, in one run on this machine:
  * ceilings: Mosquitto -> bare paho subscriber messages/s (same load generator), and
    InfluxDB bulk-write points/s (one writer, 5,000-point line-protocol batches);
  * `gasguard ingest` (a subprocess) under a load generator (another subprocess) for
    single-reading messages and 10-reading batches: messages/s, readings/s, loss (broker-
    acknowledged vs. counted in InfluxDB), publish->stored latency p50/p99 of probe
    readings, and the ingester's peak RSS; each as a ratio to its ceiling.

    .venv/bin/python -m bench.ingest --duration 60        # the issue's figure
    .venv/bin/python -m bench.ingest --duration 10        # a quick look
Writes bench/results/ingest-<timestamp>.json and prints a markdown table.
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

import httpx

from bench.common import (
    ROOT,
    machine,
    metric_sum,
    peak_rss_mb,
    percentile,
    run_json,
    spawn_ingest,
    status,
)
from contract.protocol import topic
from contract.readings import Reading
from gasguard.servers import InfluxServer, MosquittoServer, free_port
from telemetry import InfluxTelemetryStore
from telemetry.lineprotocol import encode
from transport.mqtt import MqttEndpoint, MqttSession


def loadgen_argv(
    url: str, duration: float, batch: int, meters: int, **options: object
) -> list[str]:
    argv = [sys.executable, "-m", "bench.loadgen", "--url", url, "--duration", str(duration)]
    argv += ["--batch", str(batch), "--meters", str(meters)]
    for name, value in options.items():
        if value:
            argv += [f"--{name.replace('_', '-')}", str(value)]
    return argv


def mqtt_ceiling(url: str, duration: float, meters: int, folder: Path) -> dict[str, Any]:
    status(f"ceiling: Mosquitto -> bare paho subscriber for {duration:.0f} s")
    ready = folder / "bare.ready"
    bare = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.bare_subscriber",
            "--url",
            url,
            "--topic",
            "ceiling/#",
            "--ready-file",
            str(ready),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    while not ready.exists():
        time.sleep(0.05)
    published = run_json(loadgen_argv(url, duration, 1, meters, topic_prefix="ceiling"))
    received = json.loads(bare.communicate(timeout=120)[0].strip().splitlines()[-1])
    return {
        "published_messages": published["messages"],
        "publisher_messages_per_s": round(published["messages"] / published["seconds"]),
        "received_messages": received["messages"],
        "messages_per_s": round(received["messages"] / received["seconds"]),
    }


def influx_ceiling(url: str, seconds: float) -> dict[str, Any]:
    status(f"ceiling: InfluxDB bulk writes for {seconds:.0f} s")
    store = InfluxTelemetryStore(url, "ceiling", timeout_s=30)
    store.ensure_database()
    base = time.time_ns() // 1_000_000 - 86_000_000
    points = 0
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        batch = [
            Reading(
                f"CEIL{(points + i) % 2000:06d}",
                base + (points + i) // 2000 * 10,
                1.0 + i / 1000,
                0.3,
            )
            for i in range(5000)
        ]
        store._request(
            "POST", "/write", params={"db": "ceiling", "precision": "ms"}, content=encode(batch)
        )
        points += len(batch)
    elapsed = time.monotonic() - began
    store.close()
    return {"points": points, "points_per_s": round(points / elapsed)}


class LatencyProbe:
    """Publishes a probe reading every ``period_s`` and polls InfluxDB for it; latency is
    publish -> visible in InfluxDB, measured to about the polling period (20 ms)."""

    def __init__(self, url: str, store: InfluxTelemetryStore, period_s: float = 0.2) -> None:
        self.session = MqttSession(
            MqttEndpoint.from_url(url), f"probe-{uuid.uuid4().hex[:6]}", [], "probe"
        )
        self.store = store
        self.period_s = period_s
        self.sent: dict[int, float] = {}
        self.latencies_ms: list[float] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._publish, daemon=True),
            threading.Thread(target=self._poll, daemon=True),
        ]

    def start(self) -> None:
        self.session.start()
        assert self.session.wait_ready(10)
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        time.sleep(2)
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self.session.stop()

    def _publish(self) -> None:
        ts = time.time_ns() // 1_000_000 - 86_000_000
        while not self._stop.wait(self.period_s):
            ts += 1
            self.sent[ts] = time.monotonic()
            body = json.dumps({"ts": ts, "volume_m3": 1.0})
            self.session.client.publish(topic("LATENCY", "telemetry"), body, qos=1)

    def _poll(self) -> None:
        seen: set[int] = set()
        while not self._stop.wait(0.02):
            if not self.sent:
                continue
            start = min(set(self.sent) - seen, default=None)
            if start is None:
                continue
            try:
                found = self.store.readings("LATENCY", start, start + 1_000_000, 10_000)
            except Exception:
                continue
            now = time.monotonic()
            for reading in found:
                if reading.ts_ms not in seen and reading.ts_ms in self.sent:
                    seen.add(reading.ts_ms)
                    self.latencies_ms.append((now - self.sent[reading.ts_ms]) * 1000)


def load_count(store: InfluxTelemetryStore) -> int:
    rows = store._select(
        "SELECT count(volume_m3) FROM gas_reading WHERE meter_id =~ /^(LOAD|9999)/"
    )
    return int(rows[0][1]) if rows else 0


def ingest_run(
    mosquitto: MosquittoServer,
    influx: InfluxServer,
    batch: int,
    duration: float,
    meters: int,
    folder: Path,
    rate: float,
    workers: int = 1,
    cjt188_every: int = 0,
) -> dict[str, Any]:
    """One run; ``cjt188_every``: a mixed fleet, every n-th meter speaking CJ/T 188."""
    label = f"{batch}" + (f"-mixed{cjt188_every}" if cjt188_every else "")
    database = f"bench_batch{label}".replace("-", "_")
    store = InfluxTelemetryStore(influx.url, database, timeout_s=30)
    store.ensure_database()
    metrics_ports = [free_port() for _ in range(workers)]
    processes = []
    for index, metrics_port in enumerate(metrics_ports):
        env = {
            **os.environ,
            "GASGUARD_MQTT_URL": mosquitto.url,
            "GASGUARD_INFLUX_URL": influx.url,
            "GASGUARD_INFLUX_DB": database,
            "GASGUARD_DATA_DIR": str(folder / f"ingest-{label}"),
            "GASGUARD_INGEST__CLIENT_ID": f"bench-ingest-{label}",
            "GASGUARD_INGEST__METRICS_PORT": str(metrics_port),
            "GASGUARD_INGEST__PARTITION": str(index),
            "GASGUARD_INGEST__PARTITIONS": str(workers),
        }
        log_path = folder / f"ingest-{label}-{index}.log"
        ingest = spawn_ingest(env, log_path, "INFO")
        while "ingest: subscribed" not in log_path.read_text():
            if ingest.poll() is not None:
                raise RuntimeError(log_path.read_text())
            time.sleep(0.1)
        processes.append(ingest)
    probe = LatencyProbe(mosquitto.url, store)
    probe.start()
    status(f"ingest: {batch}-reading messages offered at {rate:,.0f}/s for {duration:.0f} s")
    began = time.monotonic()
    argv = loadgen_argv(
        mosquitto.url, duration, batch, meters, rate=rate, cjt188_every=cjt188_every
    )
    published = run_json(argv)
    expected = published["acknowledged"] * batch
    stored = 0
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        stored = load_count(store)
        if stored >= expected:
            break
        status(f"ingest: {stored} of {expected} readings stored")
        time.sleep(1)
    finished = time.monotonic()
    probe.stop()
    rss = [peak_rss_mb(ingest.pid) for ingest in processes]
    metrics = "\n".join(
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text for port in metrics_ports
    )
    for ingest in processes:
        ingest.send_signal(signal.SIGTERM)
    for ingest in processes:
        ingest.wait(30)
    store.close()
    seconds = finished - began
    return {
        "readings_per_message": batch,
        "cjt188_every": cjt188_every,
        "ingest_workers": workers,
        "offered_messages_per_s": rate,
        "published_messages": published["messages"],
        "publisher_messages_per_s": round(published["messages"] / published["seconds"]),
        "acknowledged_by_broker": published["acknowledged"],
        "stored_readings": stored,
        "lost_readings": max(0, published["acknowledged"] * batch - stored),
        "seconds_until_all_stored": round(seconds, 1),
        "messages_per_s": round(published["messages"] / seconds),
        "readings_per_s": round(stored / seconds),
        "latency_ms_p50": percentile(probe.latencies_ms, 0.50),
        "latency_ms_p99": percentile(probe.latencies_ms, 0.99),
        "latency_probes": len(probe.latencies_ms),
        "ingest_peak_rss_mb": max(rss),  # of each worker
        "spooled_readings": metric_sum(metrics, "gasguard_ingest_readings_spooled_total"),
        # time the worker spent waiting for InfluxDB writes, as a share of the run
        "store_write_seconds": round(
            metric_sum(metrics, "gasguard_ingest_store_write_seconds_sum"), 1
        ),
    }


def markdown(report: dict[str, Any]) -> str:
    host, mqtt, influx = (
        report["machine"],
        report["ceilings"]["mqtt"],
        report["ceilings"]["influxdb"],
    )
    lines = [
        f"Measured {host['date']} on {host['cpus']} × {host['cpu_model']}, "
        f"{host['memory_gib']} GiB, Python {host['python']}; "
        f"{report['duration_s']:.0f} s of load per run.",
        "",
        f"Ceilings: Mosquitto → bare paho subscriber **{mqtt['messages_per_s']:,} messages/s**; "
        f"InfluxDB bulk write **{influx['points_per_s']:,} points/s**.",
        "",
        "| messages | offered msg/s | messages/s | readings/s | vs MQTT ceiling "
        "| vs InfluxDB ceiling | lost | latency p50 / p99 ms | peak RSS |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in report["runs"]:
        cells = [
            f"{run['readings_per_message']} reading(s)"
            + (f", {run['ingest_workers']} workers" if run.get("ingest_workers", 1) > 1 else "")
            + (f", 1 in {run['cjt188_every']} CJ/T 188" if run.get("cjt188_every") else ""),
            f"{run['offered_messages_per_s']:,.0f}",
            f"{run['messages_per_s']:,}",
            f"{run['readings_per_s']:,}",
            f"{run['ratio_to_mqtt_ceiling']:.2f}",
            f"{run['ratio_to_influx_ceiling']:.2f}",
            str(run["lost_readings"]),
            f"{run['latency_ms_p50']} / {run['latency_ms_p99']}",
            f"{run['ingest_peak_rss_mb']} MB",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--meters", type=int, default=2000)
    parser.add_argument(
        "--single-rate", type=float, default=16_500, help="offered msg/s, 1 reading each"
    )
    parser.add_argument(
        "--batch-rate", type=float, default=6_600, help="offered msg/s, 10 readings each"
    )
    parser.add_argument(
        "--batches", default="1,10", help="readings per message of each run, e.g. 10 alone"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="ingest processes in partitioned mode (K of N)"
    )
    parser.add_argument(
        "--stock-broker",
        action="store_true",
        help="Mosquitto with its own limits (in-flight 20, queue 1,000) instead of the tuned one",
    )
    parser.add_argument(
        "--mixed-every",
        type=int,
        default=0,
        help="also a mixed-fleet run: single readings, every n-th meter speaking CJ/T 188",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rates = {1: args.single_rate, 10: args.batch_rate}
    runs = [(int(b), rates[int(b)], 0) for b in args.batches.split(",")]
    if args.mixed_every:
        runs.append((1, args.single_rate, args.mixed_every))
    with tempfile.TemporaryDirectory(prefix="gasguard-bench-") as tmp:
        folder = Path(tmp)
        mosquitto = MosquittoServer(folder / "mosquitto", stock=args.stock_broker)
        influx = InfluxServer(folder / "influxd")
        try:
            report: dict[str, Any] = {
                "machine": machine(),
                "duration_s": args.duration,
                "broker": "stock" if args.stock_broker else "tuned",
                "mqtt_protocol": os.environ.get("GASGUARD_MQTT_PROTOCOL", "auto"),
            }
            report["ceilings"] = {
                "mqtt": mqtt_ceiling(mosquitto.url, args.duration, args.meters, folder),
                "influxdb": influx_ceiling(influx.url, min(args.duration, 30)),
            }
            report["runs"] = []
            for batch, rate, mixed in runs:
                run = ingest_run(
                    mosquitto,
                    influx,
                    batch,
                    args.duration,
                    args.meters,
                    folder,
                    rate,
                    args.workers,
                    mixed,
                )
                run["ratio_to_mqtt_ceiling"] = round(
                    run["messages_per_s"] / report["ceilings"]["mqtt"]["messages_per_s"], 3
                )
                run["ratio_to_influx_ceiling"] = round(
                    run["readings_per_s"] / report["ceilings"]["influxdb"]["points_per_s"], 3
                )
                report["runs"].append(run)
                status(json.dumps(run))
        finally:
            influx.stop()
            mosquitto.stop()
    out = args.out or ROOT / "bench" / "results" / f"ingest-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(markdown(report))
    status(f"wrote {out}")


if __name__ == "__main__":
    main()
