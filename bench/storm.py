"""Alarm storm benchmark on real Mosquitto and InfluxDB (a benchmark, not a test).

A fleet of ``--meters`` meters reports in rounds, one reading per meter a round, published
back to back as fast as the broker takes them. Normal rounds step event time by one report
interval (60 s). One storm round steps it by ``--gap-s`` (2,000 s, longer than the offline
limit of 10 intervals): as soon as the watermark's quorum of meters has reported, every
other meter is silent past its deadline and gets an ``offline`` alarm; as each one is heard
again in the same round, gasguard clears it. Normal rounds follow.

It checks, from the registry and the ingester's log: every offline alarm opened once and
cleared once, automatically, with its cause, never logged as an operator's; and it measures the
ingester's stored readings/s round by round, reporting the storm rounds' rate as a ratio to
the normal rounds' rate (the target: at least 0.5).

    .venv/bin/python -m bench.storm                   # 20,000 meters
    .venv/bin/python -m bench.storm --meters 2000     # a quick look
Writes bench/results/storm-<timestamp>.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench.common import ROOT, machine, metric_sum, spawn_ingest, status
from bench.loadgen import Acks, connect_packet, publish_packet
from contract.protocol import topic
from gasguard.servers import InfluxServer, MosquittoServer, free_port
from meters.db import make_engine
from meters.models import Alarm, AuditEntry
from transport.mqtt import MqttEndpoint

INTERVAL_MS = 60_000


def publish_rounds(url: str, meters: int, offsets_ms: list[int], window: int = 5000) -> int:
    """One reading per meter per round, round ``k`` at event time base + offsets_ms[k];
    QoS 1 over a raw socket, at most ``window`` unacknowledged. Returns how many the broker
    acknowledged."""
    endpoint = MqttEndpoint.from_url(url)
    sock = socket.create_connection((endpoint.host, endpoint.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(connect_packet(f"storm-{uuid.uuid4().hex[:6]}"))
    connack = sock.recv(4)
    if len(connack) < 4 or connack[3] != 0:
        raise SystemExit(f"broker refused the connection: {connack!r}")
    acks = Acks(sock)
    acks.start()
    topics = [topic(f"STORM{m:06d}", "telemetry") for m in range(meters)]
    base = time.time_ns() // 1_000_000 - offsets_ms[-1] - 3_600_000
    sent = 0
    for round_index, offset in enumerate(offsets_ms):
        chunk = []
        for meter in range(meters):
            while sent - acks.count >= window:
                time.sleep(0.0005)
            body = {"ts": base + offset, "volume_m3": 100.0 + round_index / 1000, "flow_m3h": 0.0}
            payload = json.dumps(body, separators=(",", ":")).encode()
            chunk.append(publish_packet(topics[meter], sent % 65535 + 1, payload))
            sent += 1
            if len(chunk) == 500:
                sock.sendall(b"".join(chunk))
                chunk = []
        if chunk:
            sock.sendall(b"".join(chunk))
    settle = time.monotonic() + 120
    while acks.count < sent and time.monotonic() < settle:
        time.sleep(0.05)
    sock.sendall(b"\xe0\x00")
    sock.close()
    return acks.count


class StoredTimeline(threading.Thread):
    """Samples the ingester's stored-readings counter every 0.1 s."""

    def __init__(self, metrics_url: str) -> None:
        super().__init__(daemon=True)
        self.url = metrics_url
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.1):
            try:
                text = httpx.get(self.url, timeout=5).text
            except httpx.HTTPError:
                continue
            stored = metric_sum(text, "gasguard_ingest_readings_stored_total")
            self.samples.append((time.monotonic(), stored))

    def reached(self, count: float) -> float | None:
        return next((t for t, stored in self.samples if stored >= count), None)


def phase_rate(
    timeline: StoredTimeline, meters: int, first_round: int, last_round: int, began: float
) -> float | None:
    """Stored readings/s over rounds ``first_round`` .. ``last_round`` (inclusive): their
    readings over the time from the round before them being stored to the last of them."""
    start = began if first_round == 0 else timeline.reached(first_round * meters)
    end = timeline.reached((last_round + 1) * meters)
    if start is None or end is None or end <= start:
        return None
    return (last_round - first_round + 1) * meters / (end - start)


def registry_counts(db_url: str) -> dict[str, Any]:
    engine = make_engine(db_url)
    with engine.connect() as connection:
        offline = select(func.count()).select_from(Alarm).where(Alarm.rule == "offline")
        opened = connection.scalar(offline) or 0
        cleared = (
            connection.scalar(
                offline.where(Alarm.state == "cleared", Alarm.cleared_by == "gasguard-safety")
            )
            or 0
        )
        per_meter = connection.execute(
            select(Alarm.meter_id, func.count())
            .where(Alarm.rule == "offline")
            .group_by(Alarm.meter_id)
        ).all()
        clears = connection.execute(
            select(AuditEntry.target, func.count())
            .where(AuditEntry.action == "alarm.clear")
            .group_by(AuditEntry.target)
        ).all()
        reasons = set(
            connection.scalars(
                select(AuditEntry.reason).where(AuditEntry.action == "alarm.clear").distinct()
            )
        )
    engine.dispose()
    return {
        "offline_alarms": opened,
        "cleared_automatically": cleared,
        "meters_with_more_than_one": sum(1 for _m, n in per_meter if n > 1),
        "alarms_cleared_more_than_once": sum(1 for _t, n in clears if n > 1),
        "clear_audit_entries": sum(n for _t, n in clears),
        "clear_reasons": sorted(reasons),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meters", type=int, default=20_000)
    parser.add_argument("--normal-rounds", type=int, default=6, help="before and after")
    parser.add_argument("--gap-s", type=float, default=2_000)
    parser.add_argument("--db-url", help="registry (default: SQLite in the data folder)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    before = [k * INTERVAL_MS for k in range(args.normal_rounds)]
    storm_at = before[-1] + int(args.gap_s * 1000)
    after = [storm_at + k * INTERVAL_MS for k in range(args.normal_rounds + 3)]
    offsets = before + after  # after[0] is the storm round
    # the storm round opens the alarms; the clears follow at the next sightings flush, so
    # the storm phase is that round and the two after it
    storm_first, storm_last = args.normal_rounds, args.normal_rounds + 2
    with tempfile.TemporaryDirectory(prefix="gasguard-storm-") as tmp:
        folder = Path(tmp)
        mosquitto = MosquittoServer(folder / "mosquitto")
        influx = InfluxServer(folder / "influxd")
        data = folder / "data"
        db_url = args.db_url or f"sqlite:///{data / 'registry.sqlite3'}"
        metrics_port = free_port()
        env = {
            **os.environ,
            "GASGUARD_MQTT_URL": mosquitto.url,
            "GASGUARD_INFLUX_URL": influx.url,
            "GASGUARD_INFLUX_DB": "storm",
            "GASGUARD_DATA_DIR": str(data),
            "GASGUARD_DB_URL": db_url,
            "GASGUARD_INGEST__CLIENT_ID": "storm-ingest",
            "GASGUARD_INGEST__METRICS_PORT": str(metrics_port),
        }
        log_path = folder / "ingest.log"
        ingest = spawn_ingest(env, log_path, "INFO")
        try:
            while "ingest: subscribed" not in log_path.read_text():
                if ingest.poll() is not None:
                    raise RuntimeError(log_path.read_text())
                time.sleep(0.1)
            timeline = StoredTimeline(f"http://127.0.0.1:{metrics_port}/metrics")
            timeline.start()
            status(
                f"storm: {args.meters:,} meters, {len(offsets)} rounds, storm after round "
                f"{args.normal_rounds} ({args.gap_s:.0f} s of event time)"
            )
            began = time.monotonic()
            acknowledged = publish_rounds(mosquitto.url, args.meters, offsets)
            total = args.meters * len(offsets)
            deadline = time.monotonic() + 600
            while (timeline.reached(total) is None) and time.monotonic() < deadline:
                stored = timeline.samples[-1][1] if timeline.samples else 0
                status(f"storm: {stored:,.0f} of {total:,} readings stored")
                time.sleep(2)
            time.sleep(6)  # the last sightings flush and clears poll
            timeline.stop.set()
            rates = {
                # rounds 0 and 1 register 20,000 new meters (the first sightings flushes)
                "before": phase_rate(timeline, args.meters, 2, storm_first - 1, began),
                "storm": phase_rate(timeline, args.meters, storm_first, storm_last, began),
                "after": phase_rate(timeline, args.meters, storm_last + 1, len(offsets) - 1, began),
            }
        finally:
            ingest.send_signal(signal.SIGTERM)
            ingest.wait(60)
            influx.stop()
            mosquitto.stop()
        counts = registry_counts(db_url)
        log_text = log_path.read_text()
    normal = [r for r in (rates["before"], rates["after"]) if r is not None]
    normal_rate = statistics.mean(normal) if normal else float("nan")
    storm = rates["storm"]
    report = {
        "machine": machine(),
        "meters": args.meters,
        "rounds": len(offsets),
        "gap_s": args.gap_s,
        "acknowledged_by_broker": acknowledged,
        "stored_readings": int(timeline.samples[-1][1]) if timeline.samples else 0,
        "readings_per_s_before_storm": round(rates["before"] or 0),
        "readings_per_s_storm": round(storm or 0),
        "readings_per_s_after_storm": round(rates["after"] or 0),
        "storm_ratio_to_normal": round(storm / normal_rate, 3) if storm else None,
        "storm_ratio_to_best_normal": round(storm / max(normal), 3) if storm and normal else None,
        "round_stored_at_s": [
            round(t - began, 2) if t is not None else None
            for t in (timeline.reached((k + 1) * args.meters) for k in range(len(offsets)))
        ],
        "ingest_log_lines": log_text.count("\n"),
        "log_lines_cleared_by_an_operator": log_text.count("cleared by an operator"),
        **counts,
    }
    out = args.out or ROOT / "bench" / "results" / f"storm-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    status(f"wrote {out}")


if __name__ == "__main__":
    main()
