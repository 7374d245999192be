"""``gasguard connections report``: the indicator table of a period."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from connections.timelimits import LOCAL
from gasguard.errors import GasguardError
from gasguard.settings import Settings


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

    from connections.indicators import indicator_rows, to_csv
    from gasguard import wiring

    start, end = _local_day_ms(args.start), _local_day_ms(args.end)
    if end <= start:
        raise GasguardError("--to must be after --from")
    registry = wiring.open_registry(settings)
    policies = wiring.connection_policies(settings)  # built-in and configured cities
    applications = registry.connections.done_between(start, end)
    rows = indicator_rows(applications, policies.by_name, policies.calendar, start, end, args.by)
    if args.csv:
        sys.stdout.write(to_csv(rows))
    else:
        print(json.dumps([asdict(row) for row in rows], ensure_ascii=False, indent=2))
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    connections = sub.add_parser("connections", help="connection applications (报装)")
    connections_sub = connections.add_subparsers(dest="connections_command", required=True)
    report = connections_sub.add_parser("report", help="the indicator table for a period")
    report.add_argument("--from", dest="start", required=True, help="first day, 2026-01-01")
    report.add_argument("--to", dest="end", required=True, help="day after the last one")
    report.add_argument("--csv", action="store_true", help="CSV instead of JSON")
    report.add_argument(
        "--by", choices=["category", "district", "month"], default="category", help="rows per"
    )
    report.set_defaults(run=cmd_connections_report)
