"""The live fleet runner on real Mosquitto: meters that send several readings at once,
meters whose clocks are off, re-sent messages, and meters on their own connection whose
last will marks them offline when the simulator dies."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from gasguard import wiring
from gasguard.servers import MosquittoServer
from simulators.fleet import build_fleet
from tests.conftest import sqlite_registry
from tests.helpers import MqttProbe, quiet_fleet, settings_for, wait_until

pytestmark = pytest.mark.integration


def test_batched_readings_skewed_clocks_and_resends(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    config = quiet_fleet(3, "NETB", readings_per_message=3, clock_skew_s=3600, resend_every=2)
    plan = build_fleet(config, time.time_ns() // 1_000_000)
    offsets = {m.meter_id: m.clock_offset_ms for m in plan.meters}
    assert all(abs(offset) <= 3_600_000 for offset in offsets.values())
    assert any(abs(offset) > 60_000 for offset in offsets.values())
    probe = MqttProbe(mosquitto.url, ("gas/v1/meters/+/telemetry",))
    runner = wiring.build_fleet_runner(
        settings_for(mosquitto.url, tmp_path, simulator=config), plan
    )
    arrivals: list[tuple[str, bytes, int]] = []
    try:
        runner.start()
        assert runner.wait_connected(10)

        def collected() -> bool:
            arrivals[:] = [(t.split("/")[3], p) for t, p in probe.messages("/NETB")]
            per_meter = Counter(meter for meter, _ in arrivals)
            return len(per_meter) == 3 and min(per_meter.values()) >= 3

        wait_until(collected, 30, "three messages from each meter")
        collected_ms = time.time_ns() // 1_000_000
    finally:
        runner.stop()
        probe.close()
    assert all(len(json.loads(p)["readings"]) == 3 for _, p in arrivals)  # 3 intervals each
    for meter_id, offset in offsets.items():
        payloads = [p for m, p in arrivals if m == meter_id]
        # The meter's own clock, not the true time: its last message (sent at most one
        # batch, 3 s, before the collection ended) is stamped off by its offset.
        newest = max(r["ts"] for r in json.loads(payloads[-1])["readings"])
        assert abs(newest - collected_ms - offset) < 5_000
        assert Counter(payloads).most_common(1)[0][1] == 2, "every second message twice"


def simulate(
    mosquitto: MosquittoServer, data_dir: Path, **simulator: str
) -> subprocess.Popen[bytes]:
    """``gasguard simulate`` as its own process, configured by GASGUARD_SIMULATOR__*."""
    env = {
        **os.environ,
        "GASGUARD_MQTT_URL": mosquitto.url,
        "GASGUARD_DATA_DIR": str(data_dir),
        **{f"GASGUARD_SIMULATOR__{key.upper()}": value for key, value in simulator.items()},
    }
    return subprocess.Popen(
        [sys.executable, "-m", "gasguard.cli", "simulate"],
        env=env,
        stdout=(data_dir.parent / f"simulate-{uuid.uuid4().hex[:6]}.log").open("wb"),
        stderr=subprocess.STDOUT,
    )


def test_two_simulate_processes_split_one_fleet(mosquitto: MosquittoServer, tmp_path: Path) -> None:
    sqlite_registry(tmp_path)  # migrated once, as `gasguard migrate` does before a rollout
    probe = MqttProbe(mosquitto.url, ("gas/v1/meters/+/telemetry",))
    common = {"meters": "3", "id_prefix": "SPLT", "report_interval_s": "1"}
    processes = [
        simulate(mosquitto, tmp_path, first_index=str(3 * k), client_id=f"split-{k}", **common)
        for k in range(2)
    ]
    try:
        expected = {f"SPLT{index:06d}" for index in range(6)}
        wait_until(
            lambda: {t.split("/")[3] for t, _ in probe.messages("/SPLT")} == expected,
            60,
            "telemetry from all six meters of the two processes",
        )
    finally:
        probe.close()
        for process in processes:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
    assert [process.returncode for process in processes] == [0, 0]


def test_meters_on_their_own_connection_are_marked_offline_by_their_last_will(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    simulator = simulate(
        mosquitto,
        tmp_path / "data",
        meters="4",
        id_prefix="WILL",
        client_id="will-sim",
        own_connections="2",
    )
    statuses = MqttProbe(mosquitto.url, ("gas/v1/meters/+/status",))
    try:

        def status() -> dict[str, bytes]:
            return {t.split("/")[3]: p for t, p in statuses.messages("/WILL")}

        wait_until(lambda: len(status()) == 4, 30, "every meter online")
        assert set(status().values()) == {b"online"}
        simulator.send_signal(signal.SIGKILL)  # no goodbye: only a last will can tell
        simulator.wait(10)
        own = sorted(status())[:2]  # the first meters of the plan have their own connection
        wait_until(
            lambda: all(status()[meter] == b"offline" for meter in own), 15, "the last wills"
        )
        time.sleep(0.5)
        assert [status()[m] for m in sorted(status())[2:]] == [b"online", b"online"]
    finally:
        statuses.close()
        if simulator.poll() is None:
            simulator.kill()
            simulator.wait(10)
    # Retained: a control room that subscribes now learns it too.
    late = MqttProbe(mosquitto.url, ("gas/v1/meters/+/status",))
    try:
        wait_until(lambda: len(late.messages("/WILL")) == 4, 10, "the retained statuses")
        retained = {t.split("/")[3]: p for t, p in late.messages("/WILL")}
        assert [retained[m] for m in sorted(retained)] == [b"offline"] * 2 + [b"online"] * 2
    finally:
        late.close()


def test_a_meter_out_of_network_uploads_what_it_measured_when_it_is_back(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    config = quiet_fleet(3, "GONE", offline_meters=1, offline_after_s=1, offline_for_s=4)
    plan = build_fleet(config, time.time_ns() // 1_000_000)
    (gone,) = [m.meter_id for m in plan.meters if m.offline is not None]
    probe = MqttProbe(mosquitto.url, ("gas/v1/meters/+/telemetry",))
    runner = wiring.build_fleet_runner(
        settings_for(mosquitto.url, tmp_path, simulator=config), plan
    )

    def bodies(meter_id: str) -> list[dict]:  # type: ignore[type-arg]
        return [json.loads(p) for t, p in probe.messages(f"/{meter_id}/")]

    try:
        runner.start()
        assert runner.wait_connected(10)
        wait_until(
            lambda: any(len(b.get("readings", [])) >= 3 for b in bodies(gone)),
            30,
            "the buffered upload after the outage",
        )
        time.sleep(1.5)
    finally:
        runner.stop()
        probe.close()
    readings = sorted(r["ts"] for body in bodies(gone) for r in body.get("readings", [body]))
    assert len(readings) >= 6
    gaps = [later - earlier for earlier, later in itertools.pairwise(readings)]
    assert max(gaps) <= 1_500, "it measured through the outage: no hole in its readings"
    others = [b for m in plan.meters if m.meter_id != gone for b in bodies(m.meter_id)]
    assert others and all("readings" not in body for body in others)
