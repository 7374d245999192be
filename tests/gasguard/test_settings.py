from __future__ import annotations

import datetime as dt
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


def test_connection_policies_come_from_settings_with_the_warning_share(tmp_path: Path) -> None:
    from gasguard.settings import load_settings
    from gasguard.wiring import connection_policies

    path = tmp_path / "settings.toml"
    path.write_text(
        "connection_warn_share = 0.7\n"
        "[connection_policies.shenzhen]\n"
        'unit = "working"\n'
        "excludes_pauses = true\n"
        "counts_acceptance_day = true\n"
        'business_day_ends = "18:00"\n'
        'rule = "工作日，从受理当日起计算"\n'
        "fee_list = {indoor_installation = 300}\n"
        "pause_max_days = {construction = 10}\n"
        "days = {none = 2, A = 4, B = 6}\n"
        "stage_days = {one = 1, two = {none = 1, B = 5}}\n"
    )
    policies = connection_policies(load_settings(path))
    assert sorted(policies.by_name) == ["guangzhou", "lingbao", "shenzhen"]
    shenzhen = policies.by_name["shenzhen"]
    assert (shenzhen.unit, shenzhen.days["B"], shenzhen.warn_share) == ("working", 6, 0.7)
    assert shenzhen.counts_acceptance_day and shenzhen.business_day_ends == dt.time(18, 0)
    assert shenzhen.rule == "工作日，从受理当日起计算" and not shenzhen.holiday_extends
    assert shenzhen.fee_list == {"indoor_installation": 300.0}
    assert shenzhen.pause_max_days == {"construction": 10}
    assert shenzhen.stage_days == {  # a number is every category's; a table per category
        "one": {"none": 1, "A": 1, "B": 1},
        "two": {"none": 1, "B": 5},
    }
    assert policies.by_name["guangzhou"].warn_share == 0.7
    path.write_text('[connection_policies.x]\nunit = "natural"\ndays = {none = 2}\n')
    with pytest.raises(SettingsError, match="no days for"):
        connection_policies(load_settings(path))
    path.write_text(
        '[connection_policies.x]\nunit = "natural"\ndays = {none = 2.5, A = 4, B = 6}\n'
    )
    with pytest.raises(SettingsError, match="days"):  # the law counts whole days
        load_settings(path)
