"""Real processes for fault tests: ``gasguard ingest`` as a subprocess that a test can
SIGKILL, and a load publisher that knows which readings the broker acknowledged."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import paho.mqtt.client as paho

from contract.protocol import topic
from gasguard.servers import die_with_parent_hook, free_port
from telemetry import InfluxTelemetryStore
from tests.helpers import wait_until
from transport.mqtt import MqttEndpoint, MqttSession, Protocol


class IngestProcess:
    """``python -m gasguard.cli ingest`` with a fixed client id (persistent session)."""

    def __init__(
        self,
        folder: Path,
        mqtt_url: str,
        influx_url: str,
        influx_db: str,
        name: str = "ingest",
        **env: str,
    ) -> None:
        self.folder = folder
        self.metrics_port = free_port()
        self.log_path = folder / f"{name}.log"
        self.env = {
            **os.environ,
            "GASGUARD_MQTT_URL": mqtt_url,
            "GASGUARD_INFLUX_URL": influx_url,
            "GASGUARD_INFLUX_DB": influx_db,
            "GASGUARD_INFLUX_TIMEOUT_S": "2",
            "GASGUARD_DATA_DIR": str(folder / "data"),
            "GASGUARD_INGEST__CLIENT_ID": f"ingest-{uuid.uuid4().hex[:8]}",
            "GASGUARD_INGEST__METRICS_PORT": str(self.metrics_port),
            "GASGUARD_INGEST__RETRY_INITIAL_S": "0.2",
            "GASGUARD_INGEST__RETRY_MAX_S": "1",
            "GASGUARD_INGEST__RECONNECT_MIN_S": "0.2",
            "GASGUARD_INGEST__RECONNECT_MAX_S": "2",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.every_process: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        marker = "ingest: subscribed to"
        seen = self.log().count(marker)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gasguard.cli", "--log-level", "INFO", "ingest"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                preexec_fn=die_with_parent_hook(),
            )
        self.every_process.append(self.process)
        wait_until(
            lambda: self.log().count(marker) > seen or self._exited(),
            30,
            "the ingester to subscribe",
        )
        assert not self._exited(), self.log()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """Stop every process this object started; none may outlive the test."""
        for process in self.every_process:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(10)
                    raise AssertionError(
                        f"gasguard ingest did not stop on SIGTERM:\n{self.log()}"
                    ) from None

    def metric(self, name: str) -> float:
        text = httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text
        values = [
            float(line.split()[-1])
            for line in text.splitlines()
            if line.startswith(name + " ") or line.startswith(name + "{")
        ]
        return sum(values)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None


class LoadPublisher:
    """Publishes ``count`` readings over ``meters`` meters at about ``rate`` per second, QoS 1,
    in a thread; ``acknowledged()`` is what the broker confirmed (PUBACK)."""

    def __init__(
        self,
        mqtt_url: str,
        prefix: str,
        meters: int,
        count: int,
        rate: float,
        protocol: Protocol = "5",
    ) -> None:
        self.prefix, self.meters, self.count, self.rate = prefix, meters, count, rate
        self.start_ts = time.time_ns() // 1_000_000 - 3_600_000
        self.session = MqttSession(
            MqttEndpoint.from_url(mqtt_url, protocol=protocol),
            f"load-{uuid.uuid4().hex[:8]}",
            [],
            "load",
        )
        self.session.client.max_inflight_messages_set(1000)
        self.session.client.on_publish = self._on_publish
        self._keys: dict[int, tuple[str, int]] = {}
        self._acked_mids: set[int] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.done = threading.Event()

    def key(self, index: int) -> tuple[str, int]:
        return f"{self.prefix}{index % self.meters:03d}", self.start_ts + (
            index // self.meters
        ) * 1000

    def start(self) -> None:
        self.session.start()
        assert self.session.wait_ready(10)
        self._thread.start()

    def _run(self) -> None:
        began = time.monotonic()
        for index in range(self.count):
            meter, ts = self.key(index)
            body = json.dumps(
                {"ts": ts, "volume_m3": round(100 + index / 1000, 3), "flow_m3h": 0.3}
            )
            info = self.session.client.publish(topic(meter, "telemetry"), body.encode(), qos=1)
            with self._lock:
                self._keys[info.mid] = (meter, ts)
            ahead = (index + 1) / self.rate - (time.monotonic() - began)
            if ahead > 0:
                time.sleep(ahead)
        self.done.set()

    def _on_publish(self, _c: paho.Client, _u: object, mid: int, _rc: object, _p: object) -> None:
        with self._lock:  # PUBACK: the broker has the message (message ids do not wrap here)
            self._acked_mids.add(mid)

    def wait(self, settle_s: float = 10.0) -> None:
        assert self.count < 65_000, "message ids would wrap"
        assert self.done.wait(self.count / self.rate + 60), "publisher did not finish"
        deadline = time.monotonic() + settle_s
        while time.monotonic() < deadline and len(self.acknowledged()) < self.count:
            time.sleep(0.1)

    def acknowledged(self) -> set[tuple[str, int]]:
        with self._lock:
            return {self._keys[mid] for mid in self._acked_mids if mid in self._keys}

    def stop(self) -> None:
        self.session.stop()


def stored_points(store: InfluxTelemetryStore, prefix: str) -> list[tuple[str, int]]:
    """Every (meter, ts) point of meters starting with ``prefix``, with repeats if any."""
    rows = store._select(
        f"SELECT volume_m3, meter_id FROM gas_reading WHERE meter_id =~ /^{prefix}/"
    )
    return [(row[2], int(row[0])) for row in rows]
