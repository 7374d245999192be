"""The broker probes against a stock-configured Mosquitto and the deployment's tuned one."""

from __future__ import annotations

import pytest

from gasguard.servers import MosquittoServer
from tests.helpers import wait_until
from transport.mqtt import MqttEndpoint
from transport.probe import probe_queue, probe_window, read_sys

pytestmark = pytest.mark.integration


def endpoint(server: MosquittoServer) -> MqttEndpoint:
    return MqttEndpoint.from_url(server.url, protocol="3.1.1")


def test_the_stock_broker_shows_its_window_of_20_and_queue_of_1000(
    stock_mosquitto: MosquittoServer,
) -> None:
    window = probe_window(endpoint(stock_mosquitto), count=1000)
    assert window.limited and window.delivered == 20
    assert read_sys(endpoint(stock_mosquitto)).dropped == 0  # the window probe drops nothing
    queue = probe_queue(endpoint(stock_mosquitto), count=1500)
    assert queue.limited and queue.delivered == 1000
    # $SYS is republished every sys_interval (1 s here), retained: wait for the new value
    wait_until(lambda: read_sys(endpoint(stock_mosquitto)).dropped == 500, what="500 drops")
    assert "mosquitto" in (read_sys(endpoint(stock_mosquitto)).version or "")


def test_the_tuned_broker_does_not_limit_gasguard(mosquitto: MosquittoServer) -> None:
    assert not probe_window(endpoint(mosquitto), count=1000).limited
    assert not probe_queue(endpoint(mosquitto), count=1500).limited
