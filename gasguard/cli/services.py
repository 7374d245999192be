"""``gasguard demo``, ``ingest``, ``api`` and ``simulate``: the long-running processes."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
import time
from pathlib import Path

from prometheus_client import CollectorRegistry

from connections.timelimits import LOCAL
from gasguard.settings import Settings
from ingest.metrics import ingest_sums
from meters.partition import Partition


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from gasguard.demo import run_demo

    if args.port is not None:
        settings = settings.model_copy(update={"api_port": args.port})
    run_demo(settings, meters=args.meters, interval_s=args.interval)
    return 0


def cmd_ingest(settings: Settings, args: argparse.Namespace) -> int:
    from prometheus_client import start_http_server

    from gasguard import wiring
    from gasguard.runtime import tune_gc_for_streaming, wait_for_signal

    if args.partition is not None:
        settings = with_partition(settings, Partition.parse(args.partition))
    wiring.warn_of_master_key(settings, "ingest")
    registry = wiring.open_registry(settings)
    store = wiring.open_telemetry(settings)
    metrics = CollectorRegistry()
    ingester = wiring.build_ingest_worker(settings, registry, store, metrics)
    if settings.ingest.metrics_port:
        start_http_server(settings.ingest.metrics_port, settings.ingest.metrics_host, metrics)
    tune_gc_for_streaming()
    ingester.start()
    print(f"gasguard ingest: {settings.mqtt_url} -> {type(store).__name__}", flush=True)
    try:
        wait_for_signal(lambda: ingest_status(metrics))
    finally:
        ingester.stop()
        store.close()
    return 0


def cmd_dtu_gateway(settings: Settings, _args: argparse.Namespace) -> int:
    """The TCP listener for CJ/T 188 DTUs that dial in (docs/protocols.md)."""
    import asyncio
    import signal

    from gasguard import wiring

    config = settings.dtu_gateway
    gateway = wiring.build_dtu_gateway(settings)
    gateway.session.start()
    print(
        f"gasguard dtu-gateway: {config.host}:{config.port} -> {settings.mqtt_url}, "
        f"{len(config.dtus)} DTUs configured",
        flush=True,
    )

    async def serve_until_signal() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, gateway.stop)
        await gateway.serve(config.host, config.port)

    try:
        asyncio.run(serve_until_signal())
    finally:
        gateway.session.stop()
    return 0


def cmd_platform_receiver(settings: Settings, _args: argparse.Namespace) -> int:
    """The operator platforms' pushes (OneNET) to the meters' topics (docs/protocols.md)."""
    import uvicorn

    from gasguard import wiring
    from ingest.platform_receiver import create_receiver_app

    config = settings.platform_receiver
    receiver = wiring.build_platform_receiver(settings)
    receiver.session.start()
    print(
        f"gasguard platform-receiver: {config.host}:{config.port} -> {settings.mqtt_url}, "
        f"OneNET profiles {sorted(config.onenet) or 'none'}",
        flush=True,
    )
    app = create_receiver_app(receiver)
    try:
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C after its shutdown
            uvicorn.Server(uvicorn.Config(app, host=config.host, port=config.port)).run()
    finally:
        receiver.session.stop()
    return 0


def cmd_notify(settings: Settings, _args: argparse.Namespace) -> int:
    """The alarms' messages to the configured channels (docs/operations.md)."""
    from gasguard import wiring
    from gasguard.runtime import wait_for_signal

    config = settings.notifications
    if not config.channels:
        print("gasguard notify: no channels configured ([notifications.channels])", flush=True)
        return 2
    registry = wiring.open_registry(settings)
    notifier = wiring.build_notifier(settings, registry)
    notifier.start()
    print(f"gasguard notify: channels {sorted(config.channels)}", flush=True)
    try:
        wait_for_signal()
    finally:
        notifier.stop()
    return 0


def with_partition(settings: Settings, partition: Partition) -> Settings:
    ingest = settings.ingest.model_copy(
        update={"partition": partition.index, "partitions": partition.count}
    )
    return settings.model_copy(update={"ingest": ingest})


def ingest_status(metrics: CollectorRegistry) -> str:
    value = ingest_sums(metrics)
    acknowledged, stored = value("messages_acknowledged_total"), value("readings_stored_total")
    spooled, waiting = value("readings_spooled_total"), value("spool_records")
    return (
        f"gasguard ingest: {acknowledged} messages acknowledged, {stored} readings stored, "
        f"{spooled} spooled (spool holds {waiting} batches), "
        f"{value('dead_letters_total')} dead letters"
    )


def cmd_api(settings: Settings, _args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from gasguard import wiring

    wiring.warn_of_master_key(settings, "api")
    registry = wiring.open_registry(settings)
    store = wiring.open_telemetry(settings)
    app = create_app(wiring.build_api_context(settings, registry, store, CollectorRegistry()))
    try:
        with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C after its shutdown
            uvicorn.Server(wiring.api_server_config(settings, app)).run()
    finally:
        store.close()
    return 0


def cmd_simulate(settings: Settings, args: argparse.Namespace) -> int:
    if args.to_file is not None:
        return simulate_to_file(args)
    from gasguard import wiring
    from gasguard.runtime import wait_for_signal
    from simulators.fleet import build_fleet

    updates = {
        k: v for k, v in (("meters", args.meters), ("report_interval_s", args.interval)) if v
    }
    settings = settings.model_copy(
        update={"simulator": settings.simulator.model_copy(update=updates)}
    )
    wiring.warn_of_master_key(settings, "simulate")
    plan = build_fleet(settings.simulator, int(time.time() * 1000))
    # The simulated meters are registered (and given their keys) in the same registry
    # the ingester uses: GASGUARD_DB_URL must point both at it.
    wiring.provision_fleet(wiring.open_registry(settings), plan, int(time.time() * 1000))
    runner = wiring.build_fleet_runner(settings, plan)
    runner.start()
    print(f"gasguard simulate: {len(plan.meters)} meters -> {settings.mqtt_url}", flush=True)
    for meter_id, kind, start_ms in plan.labels:
        print(f"gasguard simulate: fault {kind} on {meter_id} from {start_ms}", flush=True)
    try:
        wait_for_signal(
            lambda: (
                f"gasguard simulate: {runner.published} messages, "
                f"{runner.commands_obeyed} commands obeyed"
            )
        )
    finally:
        runner.stop()
    return 0


def simulate_to_file(args: argparse.Namespace) -> int:
    """Fast-forward: the scenario library (a normal population plus a meter for every
    fault) into a replay file, and its ground truth beside it; no broker."""
    from simulators.library import library
    from simulators.replay_file import Written, write_replay

    start = dt.datetime.combine(args.start, dt.time(), tzinfo=LOCAL)
    meters = library(
        int(start.timestamp() * 1000), args.days, args.households, args.restaurants, args.industries
    )
    labels_path = args.labels or args.to_file.with_suffix(".labels.jsonl")

    def progress(written: Written) -> None:
        print(f"simulate: {written.readings:,} readings written", file=sys.stderr, flush=True)

    with args.to_file.open("w") as out, labels_path.open("w") as labels:
        written = write_replay(meters, out, labels, progress)
    print(
        f"simulate: {written.meters} meters, {written.readings} readings, {written.events} "
        f"events -> {args.to_file}; {written.labels} faults -> {labels_path}",
        file=sys.stderr,
    )
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo", help="everything on embedded defaults, with a simulated fleet")
    demo.add_argument("--meters", type=int, default=200)
    demo.add_argument(
        "--interval", type=float, default=5.0, help="report interval of simulated meters, s"
    )
    demo.add_argument("--port", type=int, help="API and dashboard port (default 8000)")
    demo.set_defaults(run=cmd_demo, example_secrets_ok=True)

    ingest = sub.add_parser("ingest", help="MQTT -> telemetry store + safety engine")
    ingest.add_argument(
        "--partition",
        metavar="K/N",
        help="worker K (0-based) of N: handle only the meters whose id hashes to K "
        "(docs/scaling.md); default: every meter",
    )
    ingest.set_defaults(run=cmd_ingest)
    sub.add_parser("api", help="the HTTP API and dashboard").set_defaults(run=cmd_api)
    sub.add_parser(
        "dtu-gateway", help="TCP listener for CJ/T 188 DTUs that dial in (-> MQTT)"
    ).set_defaults(run=cmd_dtu_gateway)
    sub.add_parser(
        "platform-receiver", help="the operator platforms' pushes (OneNET) -> MQTT"
    ).set_defaults(run=cmd_platform_receiver)
    sub.add_parser(
        "notify", help="send the alarms' messages to the configured channels"
    ).set_defaults(run=cmd_notify)
    simulate = sub.add_parser(
        "simulate", help="publish a simulated fleet to the broker, or write it to a replay file"
    )
    simulate.add_argument("--meters", type=int)
    simulate.add_argument("--interval", type=float, help="report interval, s")
    simulate.add_argument(
        "--to-file",
        type=Path,
        help="fast-forward the scenario library into this replay file (no broker)",
    )
    simulate.add_argument("--labels", type=Path, help="ground truth (default: FILE.labels.jsonl)")
    simulate.add_argument("--households", type=int, default=30, help="with --to-file")
    simulate.add_argument("--restaurants", type=int, default=6, help="with --to-file")
    simulate.add_argument(
        "--industries", type=int, default=2, help="small factories (with --to-file)"
    )
    simulate.add_argument("--days", type=int, default=35, help="with --to-file")
    simulate.add_argument(
        "--start",
        type=dt.date.fromisoformat,
        default=dt.date(2026, 3, 2),
        help="with --to-file: first day (local midnight, UTC+8)",
    )
    simulate.set_defaults(run=cmd_simulate)
