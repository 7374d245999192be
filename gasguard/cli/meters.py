"""``gasguard meters import FILE [--dry-run]``: the factory's delivery file (CSV or Excel)
into the registry, every row checked, all or nothing (docs/meters.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gasguard.cli.console import console_actor
from gasguard.settings import Settings


def cmd_meters_import(settings: Settings, args: argparse.Namespace) -> int:
    from gasguard import wiring
    from meters.clock import wall_clock_ms
    from meters.delivery_files import import_delivery

    registry = wiring.open_registry(settings)
    path: Path = args.file
    models = wiring.rules_config(settings).models
    report = import_delivery(
        registry.meters,
        path.read_bytes(),
        path.name,
        models,
        wiring.device_profiles(settings),
        console_actor(),
        wall_clock_ms(),
        dry_run=args.dry_run,
    )
    if report.errors:
        for error in report.errors:
            print(f"{path.name}: {error}")
        print(f"{path.name}: nothing imported ({len(report.errors)} problems)")
        return 1
    verb = "would create" if report.dry_run else "created"
    print(
        f"{path.name}: {verb} {len(report.created)} meters in stock, "
        f"{len(report.unchanged)} already there as the file says"
    )
    return 0


def cmd_meters_keys(settings: Settings, args: argparse.Namespace) -> int:
    """One work order's command keys for the installer's tool, as JSON (0600)."""
    import json

    from gasguard import wiring
    from gasguard.cli.mqtt_auth import write_private
    from meters.clock import wall_clock_ms

    registry = wiring.open_registry(settings)
    meter_ids = [m for part in args.meters for m in part.split(",") if m]
    keys = registry.meters.export_keys(meter_ids, args.work_order, console_actor(), wall_clock_ms())
    body = {"work_order": args.work_order, "keys": keys}
    write_private(args.out, json.dumps(body, indent=2) + "\n")
    print(f"wrote {len(keys)} keys of work order {args.work_order} to {args.out} (0600)")
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    meters = sub.add_parser("meters", help="the meters: bring a factory's delivery in")
    verbs = meters.add_subparsers(dest="meters_command", required=True)
    importing = verbs.add_parser("import", help="a delivery file (CSV or Excel): all or nothing")
    importing.add_argument("file", type=Path, help="CSV or .xlsx with a header row")
    importing.add_argument("--dry-run", action="store_true", help="check every row, change nothing")
    importing.set_defaults(run=cmd_meters_import)
    keys = verbs.add_parser("keys", help="one work order's command keys for the installer")
    keys.add_argument("--work-order", required=True, help="the installer's job (audited)")
    keys.add_argument(
        "--meters", nargs="+", required=True, help="its meters (in stock or installed)"
    )
    keys.add_argument("--out", type=Path, required=True, help="JSON file, written 0600")
    keys.set_defaults(run=cmd_meters_keys)
