"""The ``gasguard`` command: demo, ingest, api, simulate, replay, rules show."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import sys
import time
from pathlib import Path

from prometheus_client import CollectorRegistry

from gasguard import cli_mqtt_auth
from gasguard.errors import GasguardError
from gasguard.secrets_check import refuse_example_secrets
from gasguard.settings import Settings, load_settings
from ingest.metrics import ingest_sums
from meters.accounts import ROLES
from meters.partition import Partition
from meters.timelimits import LOCAL
from safety.config import RulesConfig

log = logging.getLogger(__name__)


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


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    from gasguard import doctor

    return doctor.run(settings, args.probe_queue, security_only=args.security)


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from gasguard import wiring

    wiring.open_registry(settings)
    where = settings.registry_url.split("@")[-1]  # never print a password
    print(f"gasguard migrate: registry at the newest schema ({where})")
    return 0


def _rules(path: Path | None, settings: Settings) -> RulesConfig:
    from gasguard import wiring

    return wiring.rules_config(
        settings if path is None else settings.model_copy(update={"rules_file": path})
    )


def cmd_replay(settings: Settings, args: argparse.Namespace) -> int:
    from gasguard.replay import replay
    from gasguard.runtime import tune_gc_for_streaming

    tune_gc_for_streaming()
    config = _rules(args.config, settings)
    with open(args.input, encoding="utf-8") as source:
        stats = replay(source, sys.stdout, config)
    print(
        f"replay: {stats.lines} lines, {stats.readings} readings, {stats.events} events, "
        f"{stats.rejected} rejected, {stats.decisions} decisions",
        file=sys.stderr,
    )
    return 0


def cmd_rules_show(settings: Settings, args: argparse.Namespace) -> int:
    print(json.dumps(_rules(args.config, settings).as_dict(), indent=2))
    return 0


def _read_password(args: argparse.Namespace) -> str:
    """From stdin with --password-stdin (scripts), else typed twice at the terminal."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass(f"password for {args.username}: ")
    if getpass.getpass("again: ") != first:
        raise GasguardError("the two passwords differ")
    return first


def cmd_users(settings: Settings, args: argparse.Namespace) -> int:
    from gasguard import wiring
    from meters.clock import wall_clock_ms
    from meters.views import Actor

    registry = wiring.open_registry(settings)
    accounts = registry.accounts
    command = args.users_command
    if command == "list":
        for user in accounts.list():
            state = " (disabled)" if user.disabled else ""
            print(f"{user.username}\t{user.role}{state}\t{user.display_name}")
        return 0
    console = Actor(os.environ.get("USER", "console"), "admin", "cli")
    now_ms = wall_clock_ms()
    if command == "add":
        user = accounts.add(args.username, _read_password(args), args.role, now_ms, args.name)
        detail = {"role": user.role}
        registry.audit(console, "user.add", f"user:{user.username}", "", detail, now_ms)
        print(f"added {user.username} ({user.role})")
    elif command == "passwd":
        accounts.set_password(args.username, _read_password(args))
        registry.audit(console, "user.password", f"user:{args.username}", "", {}, now_ms)
        print(f"password of {args.username} changed")
    elif command == "unlock":
        accounts.get(args.username)
        registry.attempt_limits.clear(f"user:{args.username}")
        registry.audit(console, "user.unlock", f"user:{args.username}", "", {}, now_ms)
        print(f"{args.username} may sign in again")
    elif command == "sign-out":
        accounts.sign_out_everywhere(args.username)
        target = f"user:{args.username}"
        registry.audit(console, "user.sign_out_everywhere", target, "", {}, now_ms)
        print(f"every session of {args.username} ended")
    else:
        disabled = command == "disable"
        accounts.set_disabled(args.username, disabled)
        registry.audit(console, f"user.{command}", f"user:{args.username}", "", {}, now_ms)
        print(f"{args.username} {command}d")
    return 0


def _local_day_ms(text: str) -> int:
    try:
        day = dt.date.fromisoformat(text)
    except ValueError as exc:
        raise GasguardError(f"{text!r}: expected a date like 2026-01-31") from exc
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=LOCAL).timestamp() * 1000)


def cmd_connections_report(settings: Settings, args: argparse.Namespace) -> int:
    """The indicator table for applications with gas-on from FROM to TO (local dates, TO
    excluded), as CSV or JSON on stdout."""
    from dataclasses import asdict

    from gasguard import wiring
    from meters.indicators import indicator_rows, to_csv

    start, end = _local_day_ms(args.start), _local_day_ms(args.end)
    if end <= start:
        raise GasguardError("--to must be after --from")
    registry = wiring.open_registry(settings)
    policies = wiring.connection_policies(settings)  # built-in and configured cities
    applications = registry.connections.done_between(start, end)
    rows = indicator_rows(applications, policies.by_name, policies.calendar, start, end)
    if args.csv:
        sys.stdout.write(to_csv(rows))
    else:
        print(json.dumps([asdict(row) for row in rows], ensure_ascii=False, indent=2))
    return 0


def _connections_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    connections = sub.add_parser("connections", help="connection applications (报装)")
    connections_sub = connections.add_subparsers(dest="connections_command", required=True)
    report = connections_sub.add_parser("report", help="the indicator table for a period")
    report.add_argument("--from", dest="start", required=True, help="first day, 2026-01-01")
    report.add_argument("--to", dest="end", required=True, help="day after the last one")
    report.add_argument("--csv", action="store_true", help="CSV instead of JSON")
    report.set_defaults(run=cmd_connections_report)


def _users_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = sub.add_parser("users", help="operator accounts (first: users add NAME --role admin)")
    users.set_defaults(run=cmd_users)
    users_sub = users.add_subparsers(dest="users_command", required=True)
    users_sub.add_parser("list", help="accounts and their roles")
    add = users_sub.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--name", default="", help="display name")
    passwd = users_sub.add_parser("passwd", help="set a new password")
    passwd.add_argument("username")
    for parser in (add, passwd):
        parser.add_argument(
            "--password-stdin", action="store_true", help="read the password from stdin"
        )
    for verb in ("disable", "enable"):
        users_sub.add_parser(verb, help=f"{verb} an account").add_argument("username")
    users_sub.add_parser(
        "sign-out", help="end every session of an account now (its tokens are revoked)"
    ).add_argument("username")
    users_sub.add_parser(
        "unlock", help="let an account locked out by failed sign-ins try again now"
    ).add_argument("username")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gasguard", description=__doc__)
    parser.add_argument(
        "--settings", type=Path, help="TOML settings file (overrides GASGUARD_* variables)"
    )
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING, ... (default from settings)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="everything on embedded defaults, with a simulated fleet")
    demo.add_argument("--meters", type=int, default=200)
    demo.add_argument(
        "--interval", type=float, default=5.0, help="report interval of simulated meters, s"
    )
    demo.add_argument("--port", type=int, help="API and dashboard port (default 8000)")
    demo.set_defaults(run=cmd_demo)

    ingest = sub.add_parser("ingest", help="MQTT -> telemetry store + safety engine")
    ingest.add_argument(
        "--partition",
        metavar="K/N",
        help="worker K (0-based) of N: handle only the meters whose id hashes to K "
        "(docs/scaling.md); default: every meter",
    )
    ingest.set_defaults(run=cmd_ingest)
    sub.add_parser("api", help="the HTTP API and dashboard").set_defaults(run=cmd_api)
    doctor = sub.add_parser(
        "doctor",
        help="check the broker, InfluxDB, the registry, clocks and what the deployment "
        "leaves open; what to change",
    )
    doctor.add_argument(
        "--probe-queue",
        action="store_true",
        help="also measure the broker's queue limit (a stock broker drops probe messages)",
    )
    doctor.add_argument(
        "--security",
        action="store_true",
        help="only what the deployment leaves open (anonymous MQTT, no TLS, example "
        "secrets, open key files, the master key where it is not needed, cookies)",
    )
    doctor.set_defaults(run=cmd_doctor)
    migrate = sub.add_parser("migrate", help="bring the registry schema up to date")
    migrate.set_defaults(run=cmd_migrate)

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

    replay = sub.add_parser("replay", help="run the safety rules over a recorded JSONL file")
    replay.add_argument("input", type=Path)
    replay.add_argument("--config", type=Path, help="rules TOML file")
    replay.set_defaults(run=cmd_replay)

    rules = sub.add_parser("rules", help="the safety rules configuration")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True)
    show = rules_sub.add_parser("show", help="print the effective rule configuration")
    show.add_argument("--config", type=Path, help="rules TOML file")
    show.set_defaults(run=cmd_rules_show)
    _users_parser(sub)
    _connections_parser(sub)
    cli_mqtt_auth.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.settings)
        logging.basicConfig(
            level=(args.log_level or settings.log_level).upper(),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        for chatty in ("alembic", "httpx"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
        if args.run not in (cmd_demo, cmd_doctor):  # doctor reports them instead
            refuse_example_secrets(settings)
        return int(args.run(settings, args))
    except (GasguardError, OSError) as exc:  # every package's errors share the one root
        print(f"gasguard: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
