"""``gasguard dtu-gateway`` and ``gasguard platform-receiver`` as their own processes, the
way a utility runs them: configured by a settings file, serving, stopping cleanly on
a signal (SIGTERM for the gateway; SIGINT, Ctrl-C, for the receiver, which uvicorn
serves: uvicorn ends a process on SIGTERM by that signal once it has shut down)."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from devices import cjt188, onenet
from gasguard.servers import MosquittoServer, free_port
from tests.helpers import MqttProbe, wait_until

TOKEN = "edge-process-token"


def start(command: str, settings: str, folder: Path, mqtt_url: str) -> subprocess.Popen[bytes]:
    path = folder / f"{command}.toml"
    path.write_text(settings)
    env = {**os.environ, "GASGUARD_MQTT_URL": mqtt_url, "GASGUARD_DATA_DIR": str(folder)}
    return subprocess.Popen(
        [sys.executable, "-m", "gasguard.cli", "--settings", str(path), command],
        env=env,
        stdout=(folder / f"{command}.log").open("wb"),
        stderr=subprocess.STDOUT,
    )


def stop(
    process: subprocess.Popen[bytes], folder: Path, command: str, signum: int = signal.SIGTERM
) -> None:
    process.send_signal(signum)
    code = process.wait(timeout=20)
    assert code == 0, (folder / f"{command}.log").read_text()


def connectable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def test_the_dtu_gateway_process_forwards_a_dtus_frame(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    port, address = free_port(), "20260000000031"
    settings = (
        f"[dtu_gateway]\nport = {port}\n"
        f'[dtu_gateway.dtus.dtu-1]\ntoken = "{TOKEN}"\nmeters = ["{address}"]\n'
    )
    probe = MqttProbe(mosquitto.url, ("gas/v1/meters/+/cjt188-up",))
    gateway = start("dtu-gateway", settings, tmp_path, mosquitto.url)
    try:
        wait_until(lambda: connectable(port), what="the gateway listening")
        data = cjt188.MeterData(address, 0, 1.5, 0.0, None, "open", False, 0)
        frame = cjt188.encode_frame(cjt188.meter_data_frame(data, "2004"))
        with socket.create_connection(("127.0.0.1", port), timeout=10) as dtu:
            dtu.sendall(f"dtu-1:{TOKEN}\n".encode() + frame)
            wait_until(lambda: probe.messages(address), what="the frame on cjt188-up")
        assert probe.messages(address)[0][1] == frame[2:]  # as it came, without wake-up bytes
    finally:
        stop(gateway, tmp_path, "dtu-gateway")
        probe.close()


def test_the_platform_receiver_process_answers_the_url_check(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    port = free_port()
    key = base64.b64encode(bytes(32)).decode().rstrip("=")
    settings = (
        '[device_profiles.nb]\ncodec = "onenet"\ntransport = "platform"\n'
        'report_interval_s = 86400\nwindow = "wakes"\nwake_every_s = 86400\n'
        f"[platform_receiver]\nport = {port}\n"
        f'[platform_receiver.onenet.nb]\ntoken = "{TOKEN}"\naes_key = "{key}"\n'
    )
    receiver = start("platform-receiver", settings, tmp_path, mosquitto.url)
    try:
        wait_until(lambda: connectable(port), what="the receiver listening")
        params = {
            "msg": "hello",
            "nonce": "n1",
            "signature": onenet.signature(TOKEN, "n1", "hello"),
        }
        answer = httpx.get(f"http://127.0.0.1:{port}/onenet/nb", params=params, timeout=10)
        assert (answer.status_code, answer.text) == (200, "hello")
        unknown = httpx.get(f"http://127.0.0.1:{port}/onenet/other", params=params, timeout=10)
        assert unknown.status_code == 404
    finally:
        stop(receiver, tmp_path, "platform-receiver", signal.SIGINT)
