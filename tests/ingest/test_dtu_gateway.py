"""The DTU gateway on real Mosquitto and InfluxDB: a DTU dials in over TCP, registers,
forwards its meters' CJ/T 188 frames (with heartbeats and noise between them) and gets
the requests for its meters back on the same connection; a DTU with a wrong token, or a
frame of another DTU's meter, gets nothing through."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract.profiles import MeterProfile
from contract.readings import ValveState
from devices import cjt188
from gasguard import wiring
from gasguard.servers import MosquittoServer
from gasguard.settings import Settings
from ingest.dtu_gateway import DtuGateway
from meters.command_store import NewCommand
from meters.views import Actor
from telemetry import InfluxTelemetryStore
from tests.conftest import sqlite_registry
from tests.helpers import settings_for, start_ingester, wait_until

MINE, THEIRS = "20260000000011", "20260000000012"
TOKEN = "dtu-token-0042"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def gateway_settings(mosquitto: MosquittoServer, folder: Path) -> Settings:
    dtus = {"dtu-42": {"token": TOKEN, "meters": [MINE]}}
    return settings_for(
        mosquitto.url, folder, dtu_gateway={"port": 0, "idle_timeout_s": 30, "dtus": dtus}
    )


@pytest.fixture
def gateway(mosquitto: MosquittoServer, tmp_path: Path) -> Iterator[DtuGateway]:
    settings = gateway_settings(mosquitto, tmp_path)
    built = wiring.build_dtu_gateway(settings)
    built.session.start()
    assert built.session.wait_ready(10)
    started = threading.Event()
    thread = threading.Thread(
        target=lambda: asyncio.run(built.serve("127.0.0.1", 0, started)), daemon=True
    )
    thread.start()
    assert started.wait(10)
    yield built
    built.stop()
    thread.join(10)
    built.session.stop()


def answer(address: str, volume: float, at_ms: int, valve: ValveState = "open") -> bytes:
    data = cjt188.MeterData(
        address, 0, volume, 0.0, at_ms, valve, False, cjt188.status_bits(valve, False)
    )
    return cjt188.encode_frame(cjt188.meter_data_frame(data, "2004"))


def read_requests(dtu: socket.socket, count: int) -> list[cjt188.Request]:
    """The requests the gateway wrote to the DTU's connection, ``count`` of them."""
    buffer, found = b"", []
    deadline = time.monotonic() + 20
    while len(found) < count and time.monotonic() < deadline:
        buffer += dtu.recv(4096)
        frames, buffer, _ = cjt188.split_frames(buffer)
        found += [cjt188.parse_request(f) for f in frames]
    assert len(found) >= count, f"only {len(found)} requests arrived"
    return found


def test_a_dtu_dials_in_its_frames_are_stored_and_a_close_reaches_it(
    mosquitto: MosquittoServer,
    influx_store: InfluxTelemetryStore,
    gateway: DtuGateway,
    tmp_path: Path,
) -> None:
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile(MINE, device_profile="cjt188")], now_ms())
    ingester = start_ingester(settings_for(mosquitto.url, tmp_path), registry, influx_store)
    start = (now_ms() // 1000 - 600) * 1000
    try:
        with socket.create_connection(("127.0.0.1", gateway.port), timeout=20) as dtu:
            dtu.sendall(b"dtu-42:" + TOKEN.encode() + b"\n")
            wait_until(lambda: gateway.connected() == ["dtu-42"], what="the DTU registered")
            first, second = answer(MINE, 7.5, start), answer(MINE, 7.52, start + 60_000)
            dtu.sendall(b"\x00HB\x00" + first[:10])  # a heartbeat, half a frame
            time.sleep(0.2)
            dtu.sendall(first[10:] + b"\x68\x68noise" + second + answer(THEIRS, 1.0, start))
            wait_until(lambda: influx_store.count(MINE) == 2, what="the DTU's two readings")
            assert influx_store.count(THEIRS) == 0  # another DTU's meter: dropped
            assert gateway.garbage_bytes > 0
            close, _ = registry.commands.create(
                NewCommand(MINE, "close", "leak reported by phone", "maintenance"),
                Actor("otto", "operator", "test"),
                now_ms(),
                3_600_000,
            )
            (valve,) = read_requests(dtu, 1)
            assert (valve.address, valve.di, valve.values) == (MINE, cjt188.DI_VALVE, b"\x99")
            ack = cjt188.write_ack_frame(MINE, cjt188.DI_VALVE, valve.serial, 0, "2004")
            dtu.sendall(cjt188.encode_frame(ack))
            (reading,) = read_requests(dtu, 1)  # the reading asked for after the answer
            assert reading.di == cjt188.DI_METER_DATA
            dtu.sendall(answer(MINE, 7.52, now_ms() // 1000 * 1000 + 1000, "closed"))
            wait_until(
                lambda: registry.commands.get(close.id).state == "succeeded", what="succeeded"
            )
    finally:
        ingester.stop()
    assert registry.meters.get(MINE).valve == "closed"
    assert registry.dead_letters.count() == 0


def test_a_dtu_with_a_wrong_token_is_disconnected_and_nothing_it_sends_is_published(
    gateway: DtuGateway,
) -> None:
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as dtu:
        dtu.sendall(b"dtu-42:not-the-token\n" + answer(MINE, 1.0, now_ms()))
        assert dtu.recv(100) == b""  # closed by the gateway
    assert gateway.connected() == [] and gateway.frames_published == 0
