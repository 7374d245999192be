"""``gasguard demo``: the whole system on embedded defaults in one process.

A broker (Mosquitto if installed, else amqtt), the SQLite telemetry store (or InfluxDB
when GASGUARD_INFLUX_URL is set), the registry, the ingester with the safety engine, a
simulated mixed fleet with a few injected faults (its NB-IoT meters behind simulated
OneNET and CTWing platforms and gasguard's platform receiver), and the API with the
dashboard.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import tempfile
import time
from pathlib import Path

import uvicorn
from prometheus_client import CollectorRegistry

from api.app import create_app
from gasguard import wiring
from gasguard.runtime import StatusPrinter
from gasguard.servers import AmqttServer, HttpAppThread, embedded_broker
from gasguard.settings import (
    CtwingApiSettings,
    CtwingPushSettings,
    OneNetApiSettings,
    PlatformApiConfig,
    PlatformReceiverConfig,
    PushAccountSettings,
    Settings,
)
from ingest.platform_receiver import create_receiver_app
from meters.errors import NotFound
from meters.registry import Registry
from simulators.fleet import build_fleet
from simulators.platform import PlatformAccounts, SimulatedPlatform
from telemetry.base import TelemetryStore

log = logging.getLogger(__name__)


def demo_data_dir(settings: Settings) -> Path:
    """GASGUARD_DATA_DIR when set, else a fresh temporary folder for this run."""
    if "GASGUARD_DATA_DIR" in os.environ or "data_dir" in settings.model_fields_set:
        return settings.data_dir
    return Path(tempfile.mkdtemp(prefix="gasguard-demo-"))


def status_line(started: float, registry: Registry, store: TelemetryStore) -> str:
    closed = registry.meters.find(limit=10, valve="closed")
    alarms = registry.alarms.find(state="active", limit=10)
    rules = ", ".join(f"{a.meter_id} {a.rule}" for a in alarms[:5])
    closed_ids = ", ".join(m.id for m in closed)
    return (
        f"[demo {time.monotonic() - started:4.0f}s] readings stored {store.count()} · "
        f"active alarms {len(alarms)}{f' ({rules})' if rules else ''} · "
        f"valves closed {len(closed)}{f' ({closed_ids})' if closed_ids else ''}"
    )


DEMO_USER = "demo"


def demo_account(registry: Registry) -> str:
    """A supervisor account for the person trying the demo, with a new password each run
    (printed once; the demo's data folder is the only place it works)."""
    password = secrets.token_urlsafe(9)
    try:
        registry.accounts.set_password(DEMO_USER, password)
    except NotFound:
        registry.accounts.add(DEMO_USER, password, "supervisor", int(time.time() * 1000), "Demo")
    return password


MIXED_FLEET = {
    "cjt188": "speak CJ/T 188 behind a DTU",
    "dlms": "speak DLMS/COSEM",
    "wmbus": "are wireless M-Bus meters behind a wmbusmeters gateway",
    "onenet": "are NB-IoT meters asleep behind OneNET",
    "ctwing": "are NB-IoT meters asleep behind CTWing",
}


def demo_platform_accounts() -> PlatformAccounts:
    """Fresh secrets for this run's simulated platforms and gasguard's side of them."""
    token = secrets.token_urlsafe
    ctwing = {
        "app_key": "gasguard-demo",
        "app_secret": token(16),
        "master_key": token(16),
        "product_id": "15081413",
    }
    return PlatformAccounts(token(16), token(16), token(16), ctwing)


def with_platforms(settings: Settings, accounts: PlatformAccounts, api_url: str) -> Settings:
    """The demo's NB-IoT profiles (the built-in onenet and ctwing) wired to its simulated
    platforms: their command APIs at ``api_url``, their pushes to the receiver."""
    api = PlatformApiConfig(
        onenet={"onenet": OneNetApiSettings(url=api_url, api_key=accounts.onenet_api_key)},
        ctwing={"ctwing": CtwingApiSettings(url=api_url, **accounts.ctwing)},
    )
    receiver = PlatformReceiverConfig(
        onenet={"onenet": PushAccountSettings(token=accounts.onenet_token)},
        ctwing={"ctwing": CtwingPushSettings(token=accounts.ctwing_token)},
    )
    return settings.model_copy(update={"platform_api": api, "platform_receiver": receiver})


def run_demo(
    settings: Settings, meters: int, interval_s: float, status_every_s: float = 5.0
) -> None:
    data_dir = demo_data_dir(settings)
    print(f"gasguard demo: data in {data_dir}", flush=True)
    broker = embedded_broker(data_dir / "broker")
    print(f"gasguard demo: MQTT broker {type(broker).__name__} at {broker.url}", flush=True)
    simulator = settings.simulator.model_copy(
        update={
            "meters": meters,
            "report_interval_s": interval_s,
            # a mixed fleet (docs/protocols.md): one meter in twenty speaks CJ/T 188, one in
            # forty DLMS/COSEM and one in forty is a wireless M-Bus meter
            "cjt188_meters": settings.simulator.cjt188_meters or max(1, meters // 20),
            "dlms_meters": settings.simulator.dlms_meters or max(1, meters // 40),
            "wmbus_meters": settings.simulator.wmbus_meters or max(1, meters // 40),
            # and NB-IoT meters asleep behind OneNET and CTWing, waking every 20 s
            "onenet_meters": settings.simulator.onenet_meters or max(1, meters // 40),
            "ctwing_meters": settings.simulator.ctwing_meters or max(1, meters // 40),
            # and as many asleep on MQTT (gasguard-json-wakes): their commands wait for
            # the window each upload opens
            "sleeping_meters": settings.simulator.sleeping_meters or max(1, meters // 40),
        }
    )
    protocol = "3.1.1" if isinstance(broker, AmqttServer) else settings.mqtt_protocol
    settings = settings.model_copy(
        update={
            "mqtt_url": broker.url,
            "mqtt_protocol": protocol,
            "data_dir": data_dir,
            "simulator": simulator,
            # plain HTTP on loopback unless a certificate is configured
            "api_secure_cookies": settings.api_tls_cert_file is not None,
        }
    )
    accounts = demo_platform_accounts()
    platform = SimulatedPlatform("", accounts)
    with contextlib.ExitStack() as stack:
        stack.callback(broker.stop)
        platform_api = HttpAppThread(platform.app)
        stack.callback(platform_api.stop)
        settings = with_platforms(settings, accounts, platform_api.url)
        registry = wiring.open_registry(settings)
        store = wiring.open_telemetry(settings)
        stack.callback(store.close)
        plan = build_fleet(settings.simulator, int(time.time() * 1000))
        wiring.provision_fleet(registry, plan, int(time.time() * 1000))
        for profile, how in MIXED_FLEET.items():
            mixed = [m.meter_id for m in plan.meters if m.profile.device_profile == profile]
            if mixed:
                print(
                    f"gasguard demo: {len(mixed)} meters {how} (profile {profile}), "
                    f"{mixed[0]} the first",
                    flush=True,
                )
        for meter_id, kind, _start in plan.labels:
            print(f"gasguard demo: injected fault {kind} on meter {meter_id}", flush=True)
        metrics = CollectorRegistry()
        ingester = wiring.build_ingest_worker(settings, registry, store, metrics)
        ingester.start()
        stack.callback(ingester.stop)
        receiver = wiring.build_platform_receiver(settings)
        receiver.session.start()
        stack.callback(receiver.session.stop)
        receiver_server = HttpAppThread(create_receiver_app(receiver))
        stack.callback(receiver_server.stop)
        platform.receiver_url = receiver_server.url
        runner = wiring.build_fleet_runner(settings, plan, platform)
        runner.start()
        stack.callback(runner.stop)
        started = time.monotonic()
        printer = StatusPrinter(lambda: status_line(started, registry, store), status_every_s)
        printer.start()
        stack.callback(printer.stop)
        app = create_app(wiring.build_api_context(settings, registry, store, metrics))
        password = demo_account(registry)
        scheme = "https" if settings.api_tls_cert_file else "http"
        print(
            f"gasguard demo: dashboard on {scheme}://{settings.api_host}:{settings.api_port}/ "
            f"- sign in as {DEMO_USER} / {password} (Ctrl-C stops everything)",
            flush=True,
        )
        server = uvicorn.Server(wiring.api_server_config(settings, app, "warning"))
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C after its shutdown
            server.run()
        print("gasguard demo: stopping", flush=True)
    print("gasguard demo: stopped cleanly", flush=True)
