"""API latency under load (used by bench/commands.py): ``gasguard api`` as its own
process on the benchmark's registry and InfluxDB, an operator account, and a thread that
calls the main endpoints in turn and times each call."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import ROOT, peak_rss_mb, percentile
from gasguard.servers import free_port

ENDPOINTS = (
    "/api/v1/overview",
    "/api/v1/meters?limit=50",
    "/api/v1/alarms?state=open&order=critical&limit=50",
    "/api/v1/commands?limit=50",
    "/api/v1/meters/{meter}",
    "/api/v1/meters/{meter}/readings?start={start}&end={end}",
)


class ApiProbe:
    def __init__(self, env: dict[str, str], folder: Path, meter_id: str) -> None:
        self.port = free_port()
        self.meter_id = meter_id
        self.latencies_ms: dict[str, list[float]] = {e.split("?")[0]: [] for e in ENDPOINTS}
        self.errors = 0
        self._stop = threading.Event()
        env = {**env, "GASGUARD_API_HOST": "127.0.0.1", "GASGUARD_API_PORT": str(self.port)}
        password = "bench-" + os.urandom(6).hex()
        subprocess.run(
            [sys.executable, "-m", "gasguard.cli", "users", "add", "bench", "--role", "operator",
             "--password-stdin"],
            input=password, text=True, env=env, cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        self._log = (folder / "api.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gasguard.cli", "--log-level", "WARNING", "api"],
            env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)
        self._sign_in(password)
        self._thread = threading.Thread(target=self._run, name="api-probe", daemon=True)

    def _sign_in(self, password: str) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = self.client.post(
                    "/api/v1/auth/token", data={"username": "bench", "password": password}
                )
                answer.raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.5)
        self.client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for endpoint in ENDPOINTS:
                now_ms = time.time_ns() // 1_000_000
                path = endpoint.format(meter=self.meter_id, start=now_ms - 600_000, end=now_ms)
                began = time.perf_counter()
                try:
                    self.client.get(path).raise_for_status()
                except httpx.HTTPError:
                    self.errors += 1
                    continue
                self.latencies_ms[endpoint.split("?")[0]].append(
                    (time.perf_counter() - began) * 1000
                )
            self._stop.wait(0.2)

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join(timeout=60)
        rss = peak_rss_mb(self.process.pid)
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)
        self._log.close()
        return {
            "api_peak_rss_mb": rss,
            "errors": self.errors,
            "endpoints": {
                path: {
                    "calls": len(values),
                    "latency_ms_p50": percentile(values, 0.5),
                    "latency_ms_p99": percentile(values, 0.99),
                }
                for path, values in self.latencies_ms.items()
            },
        }
