"""Meter network security on a real Mosquitto: TLS with a test CA, the password file and
ACL that `gasguard mqtt-auth export` generates from the registry, and gasguard's own
ingester connecting over mqtts:// with its account."""

from __future__ import annotations

import json
import ssl
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gasguard import wiring
from gasguard.cli import main
from gasguard.settings import SettingsError
from meters.mqtt_auth import INGEST_ACCOUNT
from telemetry import SqliteTelemetryStore
from tests.gasguard.conftest import CONCENTRATED, Broker, password
from tests.helpers import settings_for, start_ingester, wait_until
from tests.tls import make_ca

pytestmark = pytest.mark.integration

NOT_AUTHORIZED = 135  # MQTT 5 reason code 0x87


class Client:
    """A bare MQTT 5 client over TLS that records what the broker answered."""

    def __init__(
        self, broker: Broker, username: str | None, secret: str | None, ca: Path | None = None
    ) -> None:
        self.paho = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}", protocol=paho.MQTTv5
        )
        self.paho.tls_set(ca_certs=str(ca or broker.ca.ca_cert))
        if username is not None:
            self.paho.username_pw_set(username, secret)
        self.connected = threading.Event()
        self.connack: int | None = None
        self.acks: dict[int, int] = {}
        self.granted: dict[int, list[int]] = {}
        self.received: list[str] = []
        self.paho.on_connect = self._on_connect
        self.paho.on_publish = lambda _c, _u, mid, rc, _p: self.acks.__setitem__(mid, rc.value)
        self.paho.on_subscribe = lambda _c, _u, mid, codes, _p: self.granted.__setitem__(
            mid, [c.value for c in codes]
        )
        self.paho.on_message = lambda _c, _u, msg: self.received.append(msg.topic)
        self.paho.connect("127.0.0.1", broker.server.port)
        self.paho.loop_start()
        assert self.connected.wait(10), "no CONNACK"

    def _on_connect(self, _c: object, _u: object, _f: object, rc: object, _p: object) -> None:
        self.connack = rc.value  # type: ignore[attr-defined]
        self.connected.set()

    def publish(self, topic: str) -> int:
        reading = {"ts": time.time_ns() // 1_000_000, "volume_m3": 1.0}
        info = self.paho.publish(topic, json.dumps(reading).encode(), qos=1)
        wait_until(lambda: info.mid in self.acks, 5, f"PUBACK for {topic}")
        return self.acks[info.mid]

    def subscribe(self, topic: str) -> int:
        _rc, mid = self.paho.subscribe(topic, qos=1)
        wait_until(lambda: mid in self.granted, 5, f"SUBACK for {topic}")
        return self.granted[mid][0]

    def close(self) -> None:
        self.paho.loop_stop()
        self.paho.disconnect()


def test_a_meter_reaches_only_its_own_topics(broker: Broker) -> None:
    ingest = Client(broker, INGEST_ACCOUNT, password(INGEST_ACCOUNT))
    m1 = Client(broker, "M1", password("M1"))
    m2 = Client(broker, "M2", password("M2"))
    try:
        assert (ingest.connack, m1.connack, m2.connack) == (0, 0, 0)
        assert ingest.subscribe("gas/v1/meters/+/telemetry") == 1
        assert m1.subscribe("gas/v1/meters/M1/commands") == 1
        assert m2.subscribe("gas/v1/meters/M2/commands") == 1
        assert m1.publish("gas/v1/meters/M1/telemetry") == 0
        wait_until(lambda: "gas/v1/meters/M1/telemetry" in ingest.received, 5, "M1's reading")
        # Publishing into another meter's topics, or a command: refused, never delivered.
        assert m1.publish("gas/v1/meters/M2/telemetry") == NOT_AUTHORIZED
        assert m1.publish("gas/v1/meters/M2/commands") == NOT_AUTHORIZED  # forged command
        assert m1.publish("gas/v1/meters/M1/commands") == NOT_AUTHORIZED
        # Listening to another meter's commands: Mosquitto may grant the subscription,
        # but its ACL filters what it delivers. M2 hearing its command is the control.
        m1.subscribe("gas/v1/meters/M2/commands")
        m1.subscribe("gas/v1/meters/+/commands")
        assert ingest.publish("gas/v1/meters/M2/commands") == 0
        wait_until(lambda: "gas/v1/meters/M2/commands" in m2.received, 5, "M2's command")
        assert ingest.publish("gas/v1/meters/M1/commands") == 0
        wait_until(lambda: "gas/v1/meters/M1/commands" in m1.received, 5, "M1's command")
        time.sleep(0.3)
        assert "gas/v1/meters/M2/commands" not in m1.received
        assert m2.received == ["gas/v1/meters/M2/commands"]
        assert ingest.received == ["gas/v1/meters/M1/telemetry"]
    finally:
        for client in (ingest, m1, m2):
            client.close()


def test_a_concentrator_writes_only_its_own_meters_frames_and_edge_accounts_log_in(
    broker: Broker,
) -> None:
    """One account for the meters behind an MQTT concentrator: their cjt188-up and
    cjt188-down, not another meter's, not the JSON topics. The edge processes' accounts
    (DTU gateway, platform receiver, wmbusmeters gateway) are in the export too."""
    account = "gasguard-concentrator-block-7"
    ingest = Client(broker, INGEST_ACCOUNT, password(INGEST_ACCOUNT))
    concentrator = Client(broker, account, password(account))
    try:
        assert concentrator.connack == 0
        assert ingest.subscribe("gas/v1/meters/+/cjt188-up") == 1
        assert concentrator.publish(f"gas/v1/meters/{CONCENTRATED}/cjt188-up") == 0
        wait_until(
            lambda: f"gas/v1/meters/{CONCENTRATED}/cjt188-up" in ingest.received, 5, "its frame"
        )
        for other in ("gas/v1/meters/20260000000003/cjt188-up", "gas/v1/meters/M1/telemetry"):
            assert concentrator.publish(other) == NOT_AUTHORIZED
        concentrator.subscribe(f"gas/v1/meters/{CONCENTRATED}/cjt188-down")
        assert ingest.publish(f"gas/v1/meters/{CONCENTRATED}/cjt188-down") == 0
        wait_until(lambda: concentrator.received, 5, "a request for its meter")
        for edge in ("gasguard-dtu-gateway", "gasguard-platforms", "gasguard-wmbus"):
            client = Client(broker, edge, password(edge))
            assert client.connack == 0, edge
            client.close()
    finally:
        ingest.close()
        concentrator.close()
    assert main(["mqtt-auth", "password", account]) == 0


def test_unknown_clients_are_refused_and_a_revoked_meter_after_re_export(
    broker: Broker,
) -> None:
    for username, secret in ((None, None), ("M1", "guess"), ("M9", password("M9"))):
        client = Client(broker, username, secret)
        assert client.connack not in (None, 0), username
        client.close()
    assert main(["mqtt-auth", "revoke", "M2", "--reason", "meter reported stolen"]) == 0
    broker.export()
    revoked = Client(broker, "M2", password("M2"))
    assert revoked.connack not in (None, 0)
    revoked.close()
    still = Client(broker, "M1", password("M1"))
    assert still.connack == 0
    still.close()
    (entry,) = [e for e in broker.registry.audit.entries() if e.action == "mqtt.revoke"]
    assert (entry.target, entry.reason) == ("meter:M2", "meter reported stolen")
    # Reissued: the new password works, the old one does not.
    assert main(["mqtt-auth", "reissue", "M2", "--reason", "meter recovered"]) == 0
    broker.export()
    assert Client(broker, "M2", password("M2", 1)).connack == 0
    assert Client(broker, "M2", password("M2")).connack not in (None, 0)


def test_tls_is_verified_against_the_configured_ca(broker: Broker, tmp_path: Path) -> None:
    stranger = make_ca(tmp_path / "other", name="other")
    with pytest.raises(ssl.SSLCertVerificationError):
        Client(broker, "M1", password("M1"), ca=stranger.ca_cert)


def test_gasguard_ingest_connects_over_mqtts_with_only_its_own_password(
    broker: Broker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The ingester used to derive its password from the master key, so the long-running
    container held the key to every meter's account. Now it holds its own password only:
    without the key (and without creating one) it logs in and stores a meter's reading."""
    assert main(["mqtt-auth", "password", "ingest"]) == 0
    account, own_password = capsys.readouterr().out.split()
    assert account == INGEST_ACCOUNT
    monkeypatch.delenv("GASGUARD_MQTT_AUTH_KEY")
    url = f"mqtts://{INGEST_ACCOUNT}@127.0.0.1:{broker.server.port}"
    folder = tmp_path / "ingest"
    ca = str(broker.ca.ca_cert)
    with pytest.raises(SettingsError, match="GASGUARD_MQTT_PASSWORD"):  # said, not guessed
        wiring.mqtt_endpoint(settings_for(url, folder, mqtt_ca_file=ca))
    settings = settings_for(url, folder, mqtt_ca_file=ca, mqtt_password=own_password)
    assert settings.mqtt_auth_key is None
    store = SqliteTelemetryStore(tmp_path / "telemetry.sqlite3")
    ingester = start_ingester(settings, broker.registry, store)
    meter = Client(broker, "M1", password("M1"))
    try:
        assert meter.publish("gas/v1/meters/M1/telemetry") == 0
        wait_until(lambda: store.count("M1") == 1, 10, "the reading stored")
    finally:
        meter.close()
        ingester.stop()
        store.close()
    assert not list(folder.glob("*.key"))  # no master key made or kept by ingest


def test_a_server_account_is_rotated_on_its_own(
    broker: Broker, capsys: pytest.CaptureFixture[str]
) -> None:
    assert Client(broker, INGEST_ACCOUNT, password(INGEST_ACCOUNT)).connack == 0
    assert main(["mqtt-auth", "reissue", "ingest", "--reason", "ingest host replaced"]) == 0
    _account, new_password = capsys.readouterr().out.split()
    assert new_password == password(INGEST_ACCOUNT, 1)
    assert Client(broker, INGEST_ACCOUNT, password(INGEST_ACCOUNT)).connack == 0  # until export
    broker.export()
    assert "gasguard-ingest (generation 1)" in capsys.readouterr().out
    assert Client(broker, INGEST_ACCOUNT, password(INGEST_ACCOUNT)).connack not in (None, 0)
    assert Client(broker, INGEST_ACCOUNT, new_password).connack == 0
    assert Client(broker, "M1", password("M1")).connack == 0  # the meters are untouched
    assert main(["mqtt-auth", "password", "ingest"]) == 0
    assert capsys.readouterr().out.split()[1] == new_password
    (entry,) = [e for e in broker.registry.audit.entries() if e.action == "mqtt.reissue"]
    assert (entry.target, entry.reason) == ("service:gasguard-ingest", "ingest host replaced")
    assert main(["mqtt-auth", "revoke", "ingest", "--reason", "no"]) == 2  # reissue instead
