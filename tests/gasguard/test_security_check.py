"""``gasguard doctor --security`` against real brokers: an open deployment is told every
hole it leaves, a locked-down one passes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gasguard.doctor import run
from gasguard.servers import MosquittoServer
from gasguard.settings import load_settings
from meters.mqtt_auth import INGEST_ACCOUNT
from tests.gasguard.conftest import Broker, password
from tests.helpers import gasguard
from tests.tls import make_ca

pytestmark = pytest.mark.integration


def test_an_open_deployment_is_told_every_hole(mosquitto: MosquittoServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "api-secret.key").write_text("x" * 64)
    os.chmod(data / "api-secret.key", 0o644)  # a key copied with cp -r by an admin
    (data / "mqtt-auth.key").write_text("y" * 64)
    os.chmod(data / "mqtt-auth.key", 0o600)
    env = {
        "GASGUARD_DATA_DIR": str(data),
        "GASGUARD_MQTT_URL": f"mqtt://{INGEST_ACCOUNT}:pw-of-its-own@127.0.0.1:{mosquitto.port}",
        "GASGUARD_MQTT_AUTH_KEY": "change-me-mqtt-password-derivation-key-of-32-characters",
        "GASGUARD_API_HOST": "0.0.0.0",
        "GASGUARD_API_SECURE_COOKIES": "false",
        "GASGUARD_INFLUX_URL": "http://127.0.0.1:9",
    }
    result = gasguard("doctor", "--security", env=env)
    out = result.stdout
    assert result.returncode == 2, out + result.stderr
    expected = [
        "[FAIL] security: GASGUARD_MQTT_AUTH_KEY still holds the example value",
        f"[FAIL] security: the broker at mqtt://127.0.0.1:{mosquitto.port} lets clients in "
        "without a password",
        "[note] security: MQTT without TLS",  # loopback: a note, not a warning
        "[WARN] security: the API serves plain HTTP on 0.0.0.0:8000",
        "[WARN] security: session cookies without Secure",
        f"[FAIL] security: {data / 'api-secret.key'} is open to other users (mode 0644)",
        f"change: chmod 600 {data / 'api-secret.key'}",
        "[WARN] security: this environment holds GASGUARD_MQTT_AUTH_KEY",
        f"[WARN] security: the MQTT master key is kept in {data / 'mqtt-auth.key'}",
        "[WARN] security: InfluxDB at http://127.0.0.1:9 is used without credentials",
    ]
    for line in expected:
        assert line in out, f"{line!r} missing from:\n{out}"
    assert "mqtt-auth.key is open" not in out  # 0600 is right
    assert "broker: in-flight" not in out  # --security: that section only


def test_a_locked_down_deployment_passes(
    broker: Broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GASGUARD_MQTT_AUTH_KEY")  # the export job's secret, not ingest's
    api_tls = make_ca(tmp_path / "api-tls", name="api")
    data = tmp_path / "ingest-data"
    settings = load_settings(
        None,
        data_dir=data,
        mqtt_url=f"mqtts://{INGEST_ACCOUNT}@127.0.0.1:{broker.server.port}",
        mqtt_ca_file=str(broker.ca.ca_cert),
        mqtt_password=password(INGEST_ACCOUNT),
        api_host="0.0.0.0",
        api_tls_cert_file=api_tls.server_cert,
        api_tls_key_file=api_tls.server_key,
    )
    os.chmod(api_tls.server_key, 0o600)
    lines: list[str] = []
    assert run(settings, False, lines.append, security_only=True) == 0, "\n".join(lines)
    text = "\n".join(lines)
    assert "refuses anonymous clients" in text and "the API serves HTTPS" in text
    assert "no MQTT master key in this environment" in text
    os.chmod(api_tls.server_key, 0o640)  # and the check can fail
    assert run(settings, False, lines.append, security_only=True) == 2


def test_the_full_doctor_includes_the_security_section(
    mosquitto: MosquittoServer, tmp_path: Path
) -> None:
    lines: list[str] = []
    settings = load_settings(None, mqtt_url=mosquitto.url, data_dir=tmp_path)
    assert run(settings, False, lines.append) == 2
    assert any(line.startswith("[ok  ] broker: in-flight window") for line in lines)
    assert any("lets clients in without a password" in line for line in lines)
