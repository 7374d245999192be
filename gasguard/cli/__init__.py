"""The ``gasguard`` command. Each group of subcommands is a module of this package with an
``add_parser``: services (demo, ingest, api, simulate), checks (doctor, migrate), rules
(replay, rules show), users, connections, calendar, mqtt_auth, profiles."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from gasguard.cli import (
    calendar,
    checks,
    connections,
    meters,
    mqtt_auth,
    profiles,
    rules,
    services,
    users,
)
from gasguard.errors import GasguardError
from gasguard.secrets_check import refuse_example_secrets
from gasguard.settings import load_settings

GROUPS = (services, checks, rules, users, connections, calendar, mqtt_auth, profiles, meters)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gasguard", description="gasguard: the server for a city's smart gas meters"
    )
    parser.add_argument(
        "--settings", type=Path, help="TOML settings file (overrides GASGUARD_* variables)"
    )
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING, ... (default from settings)")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_parser(sub)
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
        if not getattr(args, "example_secrets_ok", False):  # the demo; doctor reports them
            refuse_example_secrets(settings)
        return int(args.run(settings, args))
    except (GasguardError, OSError) as exc:  # every package's errors share the one root
        print(f"gasguard: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
