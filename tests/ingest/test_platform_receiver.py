"""NB-IoT meters through OneNET and CTWing, end to end: a stand-in platform that pushes as
OneNET documents it (URL verification, plaintext and secure-mode data pushes, online
messages, retrying a push until it gets 200) and as CTWing does (to the subscription URL
with its token) against the receiver, a Mosquitto of its own, the ingester and InfluxDB.
The receiver answers 200 only once the broker has taken the data."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices import onenet
from gasguard import wiring
from gasguard.servers import MosquittoServer
from gasguard.settings import Settings
from ingest.platform_receiver import create_receiver_app
from telemetry import InfluxTelemetryStore
from tests.conftest import sqlite_registry
from tests.helpers import settings_for, start_ingester, wait_until
from tests.platform_stand_in import (
    CTWING_TOKEN,
    ONENET_TOKEN,
    PlatformStandIn,
    ctwing_message,
    serve,
)

KEY_TEXT = base64.b64encode(bytes(range(100, 132))).decode().rstrip("=")
STREAMS = {"volume_m3": "3200_0_5700", "valve": "3200_0_5500", "meter_prefix": "NB"}
CT_PROPERTIES = {
    "volume_m3": "gas_total",
    "valve": "valve_state",
    "meter_prefix": "CT",
    "alarm_field": "alarm",
    "alarm_codes": "2:micro_flow,5:cover_open",  # the vendor's codes
}


def receiver_settings(broker: MosquittoServer, folder: Path, secure: bool) -> Settings:
    profiles = {
        "acme-nb": {
            "codec": "onenet",
            "transport": "platform",
            "report_interval_s": 86_400,
            "window": "wakes",
            "wake_every_s": 86_400,
            "options": STREAMS,
        }
    }
    account = {"token": ONENET_TOKEN, **({"aes_key": KEY_TEXT} if secure else {})}
    profiles["ct-nb"] = {**profiles["acme-nb"], "codec": "ctwing", "options": CT_PROPERTIES}
    receiver = {
        "publish_timeout_s": 2,
        "onenet": {"acme-nb": account},
        "ctwing": {"ct-nb": {"token": CTWING_TOKEN}},
    }
    return settings_for(broker.url, folder, device_profiles=profiles, platform_receiver=receiver)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoServer]:
    """A Mosquitto of this test's own: the test stops it."""
    server = MosquittoServer(tmp_path / "mosquitto")
    yield server
    server.stop()


@pytest.mark.parametrize("secure", [False, True], ids=["plaintext", "secure"])
def test_pushed_data_points_reach_influxdb_and_only_a_taken_push_gets_200(
    broker: MosquittoServer,
    influx_store: InfluxTelemetryStore,
    tmp_path: Path,
    secure: bool,
) -> None:
    settings = receiver_settings(broker, tmp_path, secure)
    registry = sqlite_registry(tmp_path)
    ingester = start_ingester(settings_for(broker.url, tmp_path), registry, influx_store)
    receiver = wiring.build_platform_receiver(settings)
    receiver.session.start()
    assert receiver.session.wait_ready(10)
    server = serve(create_receiver_app(receiver))
    port = server.port
    platform = PlatformStandIn(
        f"http://127.0.0.1:{port}", onenet.aes_key(KEY_TEXT) if secure else None
    )
    at = (time.time_ns() // 1_000_000) - 3_600_000
    try:
        verified = platform.verify_onenet()
        assert (verified.status_code, verified.text) == (200, "verify-me")
        assert platform.verify_onenet(msg="other").status_code == 200
        forged = platform.http.get(
            platform.onenet_url, params={"msg": "x", "nonce": "n", "signature": "AAAA"}
        )
        assert forged.status_code == 403
        day = [
            {"type": 2, "dev_id": 861, "status": 1, "login_type": 10, "at": at},
            *(
                {
                    "type": 1,
                    "dev_id": 861,
                    "ds_id": "3200_0_5700",
                    "at": at + i * 3_600_000,
                    "value": 40.0 + i / 100,
                }
                for i in range(3)
            ),
            {"type": 1, "dev_id": 861, "ds_id": "3200_0_5500", "at": at, "value": 1},
        ]
        answer = platform.push_onenet(day)
        assert (answer.status_code, answer.text) == (200, "ok 2")  # status, one batch
        wait_until(lambda: influx_store.count("NB861") == 3, what="the day's readings")
        readings = influx_store.readings("NB861", at, at + 3 * 3_600_000, 10)
        assert [r.volume_m3 for r in readings] == [40.0, 40.01, 40.02]
        assert readings[0].valve == "open"
        wait_until(
            lambda: any(m.id == "NB861" and m.status == "online" for m in registry.meters.find()),
            what="the meter online",
        )
        wrong = dict(json.loads(platform.push_onenet(day[1:2]).request.content))
        wrong["msg_signature"] = onenet.signature("guess", wrong["nonce"], "x")
        refused = platform.http.post(platform.onenet_url, content=onenet.compact(wrong))
        assert refused.status_code == 403 and "bad_signature" in refused.text
        huge = platform.http.post(platform.onenet_url, content=b"x" * 1_000_001)
        assert huge.status_code == 413
        broker.stop()  # the broker is down: the platform gets no 200, and pushes again
        late = [
            {
                "type": 1,
                "dev_id": 861,
                "ds_id": "3200_0_5700",
                "at": at + 4 * 3_600_000,
                "value": 40.05,
            }
        ]
        assert platform.push_onenet(late).status_code == 503
        broker.start()
        wait_until(lambda: receiver.session.ready, what="the receiver back on the broker")
        wait_until(lambda: platform.push_onenet(late).status_code == 200, what="a push taken")
        wait_until(lambda: influx_store.count("NB861") == 4, what="the retried push stored")
    finally:
        server.stop()
        receiver.session.stop()
        ingester.stop()
    assert influx_store.count("NB861") == 4  # a retried push is stored once
    assert registry.dead_letters.count() == 0


def test_ctwing_pushes_with_the_subscriptions_token_are_stored_and_others_refused(
    mosquitto: MosquittoServer, influx_store: InfluxTelemetryStore, tmp_path: Path
) -> None:
    """A data report and an online event reach InfluxDB and the registry; the meter's own
    alarm codes become gasguard's alarms (its micro-leak code the micro_flow rule's alarm,
    its cover code the tamper rule through the contract event); a push without the token
    (403), to a profile of another platform (404) or that is not JSON (400) publishes
    nothing; a command result for no command in flight is dead-lettered."""
    registry = sqlite_registry(tmp_path)
    ingester = start_ingester(settings_for(mosquitto.url, tmp_path), registry, influx_store)
    receiver = wiring.build_platform_receiver(receiver_settings(mosquitto, tmp_path, False))
    receiver.session.start()
    assert receiver.session.wait_ready(10)
    server = serve(create_receiver_app(receiver))
    port = server.port
    platform = PlatformStandIn(f"http://127.0.0.1:{port}")
    device, at = "a1b2c3", time.time_ns() // 1_000_000 - 60_000
    try:
        online = ctwing_message("deviceOnlineOfflineReport", device, at, eventType=1)
        assert platform.push_ctwing(online).text == "ok 1"
        report = ctwing_message(
            "dataReport", device, at, payload={"gas_total": 7.25, "valve_state": 1}
        )
        assert platform.push_ctwing(report).status_code == 200
        wait_until(lambda: influx_store.count(f"CT{device}") == 1, what="the report stored")
        (reading,) = influx_store.readings(f"CT{device}", at, at + 1, 10)
        assert (reading.volume_m3, reading.valve) == (7.25, "open")
        wait_until(
            lambda: any(
                m.id == f"CT{device}" and m.status == "online" for m in registry.meters.find()
            ),
            what="the meter online",
        )
        assert platform.push_ctwing(report, token="guessed-token-123").status_code == 403
        to_onenet = platform.http.post(
            f"http://127.0.0.1:{port}/ctwing/acme-nb", params={"token": CTWING_TOKEN}, content=b"{}"
        )
        assert to_onenet.status_code == 404
        garbage = platform.http.post(
            f"http://127.0.0.1:{port}/ctwing/ct-nb", params={"token": CTWING_TOKEN}, content=b"<x>"
        )
        assert garbage.status_code == 400 and "not_json" in garbage.text
        coded = ctwing_message(
            "dataReport", device, at + 1000, payload={"alarm": 2, "gas_total": 7.3}
        )
        assert platform.push_ctwing(coded).text == "ok 2"  # the reading, the alarm
        opened = ctwing_message("eventReport", device, at + 2000, eventContent={"alarm": 5})
        assert platform.push_ctwing(opened).text == "ok 1"
        wait_until(lambda: len(registry.alarms.find(meter_id=f"CT{device}")) == 2, what="alarms")
        alarms = {a.rule: a for a in registry.alarms.find(meter_id=f"CT{device}")}
        assert alarms["micro_flow"].detail == {"reported_by": "meter", "code": "2"}
        assert (alarms["micro_flow"].action, alarms["micro_flow"].opened_ts_ms) == (
            "alarm",
            at + 1000,
        )
        assert alarms["tamper"].opened_ts_ms == at + 2000
        stray = ctwing_message(
            "commandResponse", device, at, taskId=99, result={"resultCode": "DELIVERED"}
        )
        assert platform.push_ctwing(stray).status_code == 200
        wait_until(lambda: registry.dead_letters.count() == 1, what="the stray result")
        assert registry.dead_letters.find()[0].code == "unknown_command"
    finally:
        server.stop()
        receiver.session.stop()
        ingester.stop()
    assert influx_store.count(f"CT{device}") == 2
