"""gasguard refuses the example secrets of .env.example everywhere but in the demo."""

from __future__ import annotations

import pytest

from gasguard.cli import main
from gasguard.secrets_check import example_secrets, refuse_example_secrets
from gasguard.settings import SettingsError, load_settings

EXAMPLE = "CHANGE-ME-to-a-long-random-secret-0123456789"


@pytest.mark.parametrize(
    ("override", "name"),
    [
        ({"api_secret_key": EXAMPLE}, "GASGUARD_API_SECRET_KEY"),
        ({"mqtt_auth_key": EXAMPLE}, "GASGUARD_MQTT_AUTH_KEY"),
        ({"influx_token": f"gasguard:{EXAMPLE}"}, "GASGUARD_INFLUX_TOKEN"),
        ({"db_url": f"postgresql://gasguard:{EXAMPLE}@db/gasguard"}, "GASGUARD_DB_URL (password)"),
        (
            {"mqtt_url": f"mqtts://gasguard-ingest:{EXAMPLE}@mq:8883"},
            "GASGUARD_MQTT_URL (password)",
        ),
    ],
)
def test_each_example_secret_is_found(override: dict[str, str], name: str) -> None:
    settings = load_settings(None, **override)
    assert example_secrets(settings) == [name]
    with pytest.raises(SettingsError, match="example secrets"):
        refuse_example_secrets(settings)


def test_real_secrets_pass() -> None:
    settings = load_settings(
        None,
        api_secret_key="k" * 40,
        db_url="postgresql://gasguard:s3cret-long-password@db/gasguard",
        mqtt_url="mqtts://gasguard-ingest@mq:8883",
    )
    assert example_secrets(settings) == []
    refuse_example_secrets(settings)


def test_the_command_line_refuses_them(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    monkeypatch.setenv("GASGUARD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GASGUARD_API_SECRET_KEY", EXAMPLE)
    assert main(["migrate"]) == 1
    assert "GASGUARD_API_SECRET_KEY" in capsys.readouterr().err
