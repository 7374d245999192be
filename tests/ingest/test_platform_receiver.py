"""NB-IoT meters through OneNET, end to end: a stand-in platform that pushes as OneNET
documents it (URL verification, plaintext and secure-mode data pushes, online messages,
retrying a push until it gets 200) against the receiver, a Mosquitto of its own, the
ingester and InfluxDB. The receiver answers 200 only once the broker has taken the data."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from devices import onenet
from gasguard import wiring
from gasguard.servers import MosquittoServer, free_port
from gasguard.settings import Settings
from ingest.platform_receiver import Receiver, create_receiver_app
from telemetry import InfluxTelemetryStore
from tests.conftest import sqlite_registry
from tests.helpers import settings_for, start_ingester, wait_until

TOKEN = "onenet-push-token"
KEY_TEXT = base64.b64encode(bytes(range(100, 132))).decode().rstrip("=")
STREAMS = {"volume_m3": "3200_0_5700", "valve": "3200_0_5500", "meter_prefix": "NB"}


class StandInPlatform:
    """OneNET's push client, as documented: GET to verify the URL, then signed POSTs;
    a push that does not get 200 is pushed again."""

    def __init__(self, url: str, key: bytes | None) -> None:
        self.url, self.key = url, key
        self.http = httpx.Client(timeout=30)

    def verify(self, msg: str = "verify-me", nonce: str = "nOnCe123") -> httpx.Response:
        signature = onenet.signature(TOKEN, nonce, msg)
        return self.http.get(self.url, params={"msg": msg, "nonce": nonce, "signature": signature})

    def push(self, messages: object, nonce: str = "n0nce") -> httpx.Response:
        text = onenet.compact(messages)
        if self.key is None:
            body = {"msg": messages, "msg_signature": onenet.signature(TOKEN, nonce, text)}
        else:
            sealed = onenet.encrypt(text, self.key, b"0123456789abcdef")
            body = {"enc_msg": sealed, "msg_signature": onenet.signature(TOKEN, nonce, sealed)}
        return self.http.post(self.url, content=onenet.compact({**body, "nonce": nonce}))


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
    account = {"token": TOKEN, **({"aes_key": KEY_TEXT} if secure else {})}
    receiver = {"publish_timeout_s": 2, "onenet": {"acme-nb": account}}
    return settings_for(broker.url, folder, device_profiles=profiles, platform_receiver=receiver)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoServer]:
    """A Mosquitto of this test's own: the test stops it."""
    server = MosquittoServer(tmp_path / "mosquitto")
    yield server
    server.stop()


def serve(receiver: Receiver) -> tuple[uvicorn.Server, threading.Thread, int]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_receiver_app(receiver), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, what="the receiver")
    return server, thread, port


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
    server, thread, port = serve(receiver)
    platform = StandInPlatform(
        f"http://127.0.0.1:{port}/onenet/acme-nb", onenet.aes_key(KEY_TEXT) if secure else None
    )
    at = (time.time_ns() // 1_000_000) - 3_600_000
    try:
        verified = platform.verify()
        assert (verified.status_code, verified.text) == (200, "verify-me")
        assert platform.verify(msg="other").status_code == 200
        forged = platform.http.get(
            platform.url, params={"msg": "x", "nonce": "n", "signature": "AAAA"}
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
        answer = platform.push(day)
        assert (answer.status_code, answer.text) == (200, "ok 2")  # status, one batch
        wait_until(lambda: influx_store.count("NB861") == 3, what="the day's readings")
        readings = influx_store.readings("NB861", at, at + 3 * 3_600_000, 10)
        assert [r.volume_m3 for r in readings] == [40.0, 40.01, 40.02]
        assert readings[0].valve == "open"
        wait_until(
            lambda: any(m.id == "NB861" and m.status == "online" for m in registry.meters.find()),
            what="the meter online",
        )
        wrong = dict(json.loads(platform.push(day[1:2]).request.content))
        wrong["msg_signature"] = onenet.signature("guess", wrong["nonce"], "x")
        refused = platform.http.post(platform.url, content=onenet.compact(wrong))
        assert refused.status_code == 403 and "bad_signature" in refused.text
        huge = platform.http.post(platform.url, content=b"x" * 1_000_001)
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
        assert platform.push(late).status_code == 503
        broker.start()
        wait_until(lambda: receiver.session.ready, what="the receiver back on the broker")
        wait_until(lambda: platform.push(late).status_code == 200, what="a push taken")
        wait_until(lambda: influx_store.count("NB861") == 4, what="the retried push stored")
    finally:
        server.should_exit = True
        thread.join(10)
        receiver.session.stop()
        ingester.stop()
    assert influx_store.count("NB861") == 4  # a retried push is stored once
    assert registry.dead_letters.count() == 0
