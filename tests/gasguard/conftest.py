"""The locked-down broker of the security tests: Mosquitto on TLS with a test CA, no
anonymous clients, and the password file and ACL that `gasguard mqtt-auth export` writes
from a registry of two meters (M1, M2). The CLI's environment points at that registry."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from contract.profiles import MeterProfile
from gasguard.cli import main
from gasguard.servers import MosquittoServer
from meters.mqtt_auth import Credential, derive_password
from meters.registry import Registry
from tests.conftest import sqlite_registry
from tests.tls import Authority, make_ca

KEY = "a-test-key-for-mqtt-passwords-0123456789"


@dataclass
class Broker:
    server: MosquittoServer
    ca: Authority
    folder: Path
    registry: Registry
    env: dict[str, str] = field(default_factory=dict)

    def export(self) -> None:
        assert main(["mqtt-auth", "export", "--out", str(self.folder / "auth")]) == 0
        self.server.reload()
        time.sleep(0.5)  # Mosquitto reloads between two network loops


@pytest.fixture
def broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Broker]:
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("M1"), MeterProfile("M2")], 1_790_000_000_000)
    monkeypatch.setenv("GASGUARD_DB_URL", f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    monkeypatch.setenv("GASGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GASGUARD_MQTT_AUTH_KEY", KEY)
    # a CJ/T 188 concentrator on MQTT, in front of two meters (docs/security.md)
    concentrator = {"block-7": {"meters": [CONCENTRATED, "20260000000002"]}}
    monkeypatch.setenv("GASGUARD_MQTT_CONCENTRATORS", json.dumps(concentrator))
    ca = make_ca(tmp_path / "tls")
    auth = tmp_path / "auth"
    assert main(["mqtt-auth", "export", "--out", str(auth)]) == 0
    assert (auth / "passwd").stat().st_mode & 0o077 == 0  # hashes: owner only
    server = MosquittoServer(
        tmp_path / "mosquitto",
        security=[
            f"cafile {ca.ca_cert}",
            f"certfile {ca.server_cert}",
            f"keyfile {ca.server_key}",
            "allow_anonymous false",
            f"password_file {auth / 'passwd'}",
            f"acl_file {auth / 'acl'}",
        ],
    )
    yield Broker(server, ca, tmp_path, registry)
    server.stop()


CONCENTRATED = "20260000000001"  # a meter behind the concentrator


def password(username: str, generation: int = 0) -> str:
    return derive_password(KEY.encode(), Credential(username, generation))
