"""The command line: subcommands that are not covered by their own test modules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gasguard.cli import main
from gasguard.servers import InfluxServer


def test_connections_report_prints_the_indicator_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from connections.applications import NewApplication
    from meters.views import Actor
    from tests.conftest import sqlite_registry
    from tests.helpers import gas_on

    registry = sqlite_registry(tmp_path)
    otto = Actor("otto", "operator", "t")
    day = 86_400_000
    start = 1_772_380_800_000  # 2026-03-02 00:00 in Guangzhou
    new = NewApplication("guangzhou", "A", "online", "Li", "13900139000", "Haizhu 1")
    application = registry.connections.create(new, otto, start)
    registry.connections.commission(application.id, "M1", otto, start)
    gas_on(registry, application.id, "M1", start + 4 * day)
    monkeypatch.setenv("GASGUARD_DB_URL", f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    assert (
        main(["connections", "report", "--from", "2026-03-01", "--to", "2026-04-01", "--csv"]) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("policy,by,group,stages") and len(lines) == 3
    assert lines[1].startswith("guangzhou,category,A,1,1,1,1.0,4.0")  # one stage: no survey
    assert main(["connections", "report", "--from", "2026-04-01", "--to", "2026-03-01"]) == 1


def test_connections_report_knows_the_configured_cities(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """It built the built-in policies only, and failed on an application of a city that
    the settings file configures (the API and ingest knew it)."""
    from connections.applications import NewApplication
    from meters.views import Actor
    from tests.conftest import sqlite_registry
    from tests.helpers import gas_on

    registry = sqlite_registry(tmp_path)
    otto = Actor("otto", "operator", "t")
    start = 1_772_380_800_000  # 2026-03-02 00:00 in UTC+8
    new = NewApplication("xian", "none", "online", "Wang", "13900139000", "Yanta 1")
    application = registry.connections.create(new, otto, start)
    registry.connections.commission(application.id, "M1", otto, start)
    gas_on(registry, application.id, "M1", start + 86_400_000)
    settings_file = tmp_path / "gasguard.toml"
    settings_file.write_text(
        '[connection_policies.xian]\nunit = "natural"\ndays = { none = 2, A = 4, B = 6 }\n'
    )
    monkeypatch.setenv("GASGUARD_DB_URL", f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    argv = ["--settings", str(settings_file), "connections", "report", "--csv"]
    assert main([*argv, "--from", "2026-03-01", "--to", "2026-04-01"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("xian,category,all,1,1,1,1.0") for line in lines), lines


def test_calendar_check_lists_the_years_needed_and_fails_on_a_missing_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from connections.applications import NewApplication
    from connections.policies import years_ahead
    from meters.clock import wall_clock_ms
    from meters.views import Actor
    from tests.conftest import sqlite_registry

    registry = sqlite_registry(tmp_path)
    new_years_eve = 1_798_682_400_000  # 2026-12-31 10:00 UTC+8: day 2 is in 2027
    new = NewApplication("lingbao", "none", "counter", "王", "13900139000", "函谷路 1")
    waiting = registry.connections.create(new, Actor("otto", "operator", "t"), new_years_eve)
    monkeypatch.setenv("GASGUARD_DB_URL", f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    assert main(["calendar", "check"]) == 1
    out = capsys.readouterr().out
    assert f"2027\tMISSING\t1 applications without a deadline {waiting.number}" in out
    assert "GASGUARD_HOLIDAY_FILE" in out
    needed = {*years_ahead(wall_clock_ms()), 2026, 2027}  # today's and the application's
    holidays = tmp_path / "holidays.json"
    holidays.write_text(json.dumps({str(y): {"holidays": [], "workdays": []} for y in needed}))
    monkeypatch.setenv("GASGUARD_HOLIDAY_FILE", str(holidays))
    assert main(["calendar", "check"]) == 0
    assert "2027\tholiday file" in capsys.readouterr().out


def test_the_influxdb_timeout_setting_is_used(tmp_path: Path, influxd: InfluxServer) -> None:
    from gasguard import wiring
    from gasguard.settings import load_settings
    from telemetry import InfluxTelemetryStore

    settings = load_settings(None, influx_url=influxd.url, influx_timeout_s=1.5, data_dir=tmp_path)
    store = wiring.open_telemetry(settings)
    try:
        assert isinstance(store, InfluxTelemetryStore)
        assert store.timeout_s == 1.5
    finally:
        store.close()


def test_profiles_list_shows_the_built_in_and_the_configured_profiles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings_file = tmp_path / "gasguard.toml"
    settings_file.write_text(
        '[device_profiles.acme-nb]\ncodec = "onenet"\ntransport = "platform"\n'
        'report_interval_s = 43200\nwindow = "wakes"\nwake_every_s = 43200\n'
        'max_flow_m3h = 4.0\ndescription = "Acme NB-IoT G2.5"\n'
    )
    assert main(["--settings", str(settings_file), "profiles", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split("\t")[0] for line in lines[1:]]
    assert names == [
        "acme-nb",
        "cjt188",
        "ctwing",
        "dlms",
        "gasguard-json",
        "gasguard-json-wakes",
        "onenet",
        "wmbus",
    ]
    acme = lines[1].split("\t")
    assert acme[1:8] == [
        "onenet",
        "platform",
        "12 h",
        "wakes 12 h",
        "1 h",
        "4 m3/h",
        "Acme NB-IoT G2.5",
    ]
    settings_file.write_text('[device_profiles.x]\ncodec = "modbus"\ntransport = "mqtt"\n')
    assert main(["--settings", str(settings_file), "profiles", "list"]) != 0


def test_a_profile_whose_alarm_codes_name_no_rule_or_event_stops_the_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings_file = tmp_path / "gasguard.toml"
    profile = (
        '[device_profiles.acme]\ncodec = "cjt188"\ntransport = "mqtt"\nreport_interval_s = 3600\n'
    )
    settings_file.write_text(
        profile + 'options = {alarm_codes = "ST1.0:micro_flow,ST1.1:leakage"}\n'
    )
    assert main(["--settings", str(settings_file), "profiles", "list"]) != 0
    assert (
        "device profile acme: alarm_codes: leakage is no rule or event" in capsys.readouterr().err
    )
    settings_file.write_text(profile + 'options = {alarm_codes = "ST1.0:micro_flow,ST1.1:tilt"}\n')
    assert main(["--settings", str(settings_file), "profiles", "list"]) == 0


def test_meters_import_names_each_bad_row_and_imports_nothing_then_all_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GASGUARD_DB_URL", f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    monkeypatch.setenv("GASGUARD_DATA_DIR", str(tmp_path / "data"))
    delivery = tmp_path / "delivery.csv"
    header = "meter_id,model,profile,imei\n"
    delivery.write_text(header + "NB0001,G2.5,onenet,868000000000001\nNB0002,G9,onenet,1\n")
    assert main(["meters", "import", str(delivery)]) == 1
    out = capsys.readouterr().out
    assert "line 3, model: 'G9' is not a model of the rules" in out
    assert "line 3, imei: '1' is not 15 digits" in out and "nothing imported (2 problems)" in out
    delivery.write_text(header + "NB0001,G2.5,onenet,868000000000001\n")
    assert main(["meters", "import", str(delivery), "--dry-run"]) == 0
    assert "would create 1 meters in stock" in capsys.readouterr().out
    assert main(["meters", "import", str(delivery)]) == 0
    assert "created 1 meters in stock, 0 already there" in capsys.readouterr().out
    assert main(["meters", "import", str(delivery)]) == 0
    assert "created 0 meters in stock, 1 already there as the file says" in capsys.readouterr().out


def test_meters_keys_writes_one_work_orders_keys_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GASGUARD_DB_URL", f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    monkeypatch.setenv("GASGUARD_DATA_DIR", str(tmp_path / "data"))
    delivery = tmp_path / "delivery.csv"
    delivery.write_text("meter_id,model,profile,imei\nNB0001,G2.5,onenet,868000000000001\n")
    assert main(["meters", "import", str(delivery)]) == 0
    out = tmp_path / "wo-7.json"
    args = ["meters", "keys", "--work-order", "WO-7", "--meters", "NB0001", "--out", str(out)]
    assert main(args) == 0
    body = json.loads(out.read_text())
    assert body["work_order"] == "WO-7" and len(body["keys"]["NB0001"]) == 64
    assert out.stat().st_mode & 0o077 == 0
    assert main([*args[:5], "NB9999", "--out", str(out)]) == 1  # not registered


def test_notify_without_channels_says_so_and_a_route_to_an_unknown_channel_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GASGUARD_DB_URL", f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    assert main(["notify"]) == 2
    assert "no channels configured" in capsys.readouterr().out
    from gasguard.settings import NotificationSettings

    with pytest.raises(ValueError, match="names channel 'pager', which is not configured"):
        NotificationSettings.model_validate({"routes": [{"channels": ["pager"]}]})
    with pytest.raises(ValueError, match="a webhook channel needs its url"):
        NotificationSettings.model_validate({"channels": {"soc": {"kind": "webhook"}}})
    cloud = {"kind": "aliyun-sms", "options": {"key_id": "k"}}  # its own endpoint
    on_call = {"channels": ["on-call"]}  # the rota's: no channel of that name needed
    assert NotificationSettings.model_validate({"channels": {"sms": cloud}, "routes": [on_call]})


def test_the_notification_settings_become_the_notifiers_channels_rota_and_steps(
    tmp_path: Path,
) -> None:
    from gasguard import wiring
    from gasguard.settings import Settings
    from tests.conftest import sqlite_registry

    notifications = {
        "channels": {
            "li-sms": {
                "kind": "tencent-sms",
                "to": ["13800000000"],
                "secret": "s",
                "options": {"key_id": "AKID", "app_id": "1400", "sign_name": "x", "template": "1"},
            },
            "soc": {"kind": "webhook", "url": "https://soc.example/", "ack_as": "otto"},
        },
        "routes": [{"channels": ["on-call", "soc"], "districts": ["天河区"]}],
        "rota": [{"person": "li", "channel": "li-sms", "start_hour": 20, "end_hour": 8}],
        "escalation": [{"after_min": 10, "channels": ["soc"]}],
        "link_secret": "link",
    }
    settings = Settings(data_dir=tmp_path, notifications=notifications)
    channels = wiring.notification_channels(settings)
    assert channels["li-sms"].option("app_id") == "1400" and channels["soc"].ack_as == "otto"
    notifier = wiring.build_notifier(settings, sqlite_registry(tmp_path))
    assert notifier._rota[0].person == "li" and notifier._escalation[0].after_s == 600
    assert notifier._routes[0].districts == ("天河区",)
    assert (
        wiring.build_api_context(settings, sqlite_registry(tmp_path), None, None).ack_link_secret
        == "link"
    )  # type: ignore[arg-type]
