"""Key files and the embedded registry: created 0600, written whole, refused when damaged
(issue 18: an empty mqtt-auth.key, left by a crash between create and write, was accepted
and made every meter's MQTT password publicly computable)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gasguard import wiring
from gasguard.settings import SettingsError, load_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_key_is_64_characters_in_a_0600_file_and_stays_the_same(tmp_path: Path) -> None:
    settings = load_settings(None, data_dir=tmp_path)
    key = wiring.mqtt_auth_key(settings)
    assert len(key) == 64 and mode(tmp_path / "mqtt-auth.key") == 0o600
    assert wiring.mqtt_auth_key(settings) == key
    assert [p.name for p in tmp_path.iterdir()] == ["mqtt-auth.key"]  # no temporary left


@pytest.mark.parametrize("content", ["", "\n", "short", "x" * 63, "x" * 65, "é" * 64, "a b" * 30])
def test_an_empty_short_or_malformed_key_file_is_refused(tmp_path: Path, content: str) -> None:
    settings = load_settings(None, data_dir=tmp_path)
    (tmp_path / "mqtt-auth.key").write_text(content)
    with pytest.raises(SettingsError, match=r"mqtt-auth\.key is damaged"):
        wiring.mqtt_auth_key(settings)
    (tmp_path / "api-secret.key").write_text(content)
    with pytest.raises(SettingsError, match=r"api-secret\.key is damaged"):
        wiring.api_secret(settings)


def test_the_embedded_registry_is_created_0600(tmp_path: Path) -> None:
    registry = wiring.open_registry(load_settings(None, data_dir=tmp_path))
    registry.engine.dispose()
    assert mode(tmp_path / "registry.sqlite3") == 0o600
