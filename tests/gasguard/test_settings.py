from __future__ import annotations

from pathlib import Path

import pytest

from gasguard.settings import SettingsError, load_settings


def test_embedded_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    settings = load_settings()
    assert settings.influx_url is None and settings.influx_db == "gasguard"
    assert settings.registry_url == f"sqlite:///{tmp_path / 'gasguard' / 'registry.sqlite3'}"
    assert settings.api_port == 8000


def test_environment_then_settings_file_on_top(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GASGUARD_MQTT_URL", "mqtts://meter:s3cret@broker.example:8883")
    monkeypatch.setenv("GASGUARD_INFLUX_URL", "http://influx:8086")
    monkeypatch.setenv("GASGUARD_DB_URL", "postgresql://gasguard@db/gasguard")
    monkeypatch.setenv("GASGUARD_INGEST__BATCH_MAX_MESSAGES", "50")
    path = tmp_path / "gasguard.toml"
    path.write_text(
        'influx_db = "city"\nmqtt_url = "mqtt://file-broker:1883"\n'
        '[ingest]\nclient_id = "ingest-7"\n'
    )
    settings = load_settings(path)
    assert settings.mqtt_url == "mqtt://file-broker:1883"
    assert settings.influx_url == "http://influx:8086" and settings.influx_db == "city"
    assert settings.registry_url == "postgresql://gasguard@db/gasguard"
    assert settings.ingest.client_id == "ingest-7"


@pytest.mark.parametrize(
    "text", ["api_port = 'x'\n", "nonsense = 1\n", "[ingest]\nbatch_max_messages = 0\n", "[oops\n"]
)
def test_bad_settings_are_a_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "gasguard.toml"
    path.write_text(text)
    with pytest.raises(SettingsError):
        load_settings(path)
