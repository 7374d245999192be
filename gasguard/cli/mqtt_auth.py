"""``gasguard mqtt-auth``: Mosquitto's password file and ACL from the registry, and the
credentials of one meter or server account (docs/security.md)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from gasguard.cli.console import console_actor
from gasguard.settings import Settings
from meters.mqtt_auth import (
    SERVICE_ACCOUNTS,
    acl_file,
    concentrator_account,
    derive_password,
    password_file,
)


def cmd_mqtt_auth(settings: Settings, args: argparse.Namespace) -> int:
    from gasguard import wiring
    from meters.clock import wall_clock_ms

    registry = wiring.open_registry(settings)
    key = wiring.mqtt_auth_key(settings)
    accounts = registry.mqtt_accounts
    command = args.mqtt_auth_command
    concentrators = {
        concentrator_account(name): spec.meters
        for name, spec in settings.mqtt_concentrators.items()
    }
    if command == "export":
        services = [s for s in SERVICE_ACCOUNTS if s != "simulator" or args.simulator]
        meters = accounts.credentials()
        servers = accounts.service_credentials(
            [*(SERVICE_ACCOUNTS[s] for s in services), *concentrators]
        )
        write_private(args.out / "passwd", password_file(key, meters, servers))
        acl = acl_file(simulator=args.simulator, concentrators=concentrators)
        write_private(args.out / "acl", acl)
        names = ", ".join(f"{c.username} (generation {c.generation})" for c in servers)
        print(
            f"wrote {args.out / 'passwd'} ({len(meters)} meters, {names}) and "
            f"{args.out / 'acl'}; send Mosquitto SIGHUP to load them"
        )
        return 0
    service = SERVICE_ACCOUNTS.get(args.name)
    if args.name in concentrators:  # by its account's name
        service = args.name
    if command == "password":
        if service:
            (credential,) = accounts.service_credentials([service])
        else:
            credential = accounts.credential(args.name)
        print(f"{credential.username}\t{derive_password(key, credential)}")
        return 0
    console = console_actor()
    if command == "revoke":
        if service:
            print(f"{service} is a server account: reissue it instead", file=sys.stderr)
            return 2
        accounts.revoke(args.name, console, args.reason, wall_clock_ms())
        print(f"{args.name}: revoked; export again and reload Mosquitto")
        return 0
    if service:
        credential = accounts.reissue_service(service, console, args.reason, wall_clock_ms())
        then = f"give the {args.name} process this password (GASGUARD_MQTT_PASSWORD)"
    else:
        credential = accounts.reissue(args.name, console, args.reason, wall_clock_ms())
        then = "load it into the meter"
    print(f"{credential.username}\t{derive_password(key, credential)}")
    print(f"export again and reload Mosquitto, then {then}", file=sys.stderr)
    return 0


def write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by the owner only, replacing ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text)
    os.replace(partial, path)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mqtt_auth = sub.add_parser("mqtt-auth", help="Mosquitto credentials and ACL for the meters")
    mqtt_auth.set_defaults(run=cmd_mqtt_auth)
    verbs = mqtt_auth.add_subparsers(dest="mqtt_auth_command", required=True)
    export = verbs.add_parser("export", help="write Mosquitto's password file and ACL")
    export.add_argument("--out", type=Path, required=True, help="folder for passwd and acl")
    export.add_argument(
        "--simulator", action="store_true", help="add an account that acts as every meter"
    )
    password = verbs.add_parser("password", help="the password of a meter or server account")
    password.add_argument(
        "name", help="a meter id, a server account (ingest, dtu-gateway, ...) or a concentrator's"
    )
    for verb, text in (
        ("revoke", "stop a meter logging in"),
        ("reissue", "a new password: the next generation (a meter, or ingest / simulator)"),
    ):
        parser = verbs.add_parser(verb, help=text)
        parser.add_argument("name", help="a meter id (reissue: or ingest / simulator)")
        parser.add_argument("--reason", required=True, help="why (audited)")
