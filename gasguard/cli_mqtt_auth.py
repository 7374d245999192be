"""``gasguard mqtt-auth``: Mosquitto's password file and ACL from the registry, and the
credentials of one meter or server account (docs/security.md)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from gasguard.settings import Settings
from meters.mqtt_auth import SERVICE_ACCOUNTS, Credential, acl_file, derive_password, password_file


def cmd_mqtt_auth(settings: Settings, args: argparse.Namespace) -> int:
    from gasguard import wiring
    from meters.clock import wall_clock_ms
    from meters.views import Actor

    registry = wiring.open_registry(settings)
    key = wiring.mqtt_auth_key(settings)
    accounts = registry.mqtt_accounts
    command = args.mqtt_auth_command
    if command == "export":
        services = ["ingest", *(["simulator"] if args.simulator else [])]
        meters = accounts.credentials()
        names = [SERVICE_ACCOUNTS[s] for s in services]
        write_private(args.out / "passwd", password_file(key, meters, names))
        write_private(args.out / "acl", acl_file(simulator=args.simulator))
        print(
            f"wrote {args.out / 'passwd'} ({len(meters)} meters, {', '.join(names)}) and "
            f"{args.out / 'acl'}; send Mosquitto SIGHUP to load them"
        )
        return 0
    if command == "password":
        name = args.name
        service = SERVICE_ACCOUNTS.get(name)
        credential = Credential(service) if service else accounts.credential(name)
        print(f"{credential.username}\t{derive_password(key, credential)}")
        return 0
    console = Actor(os.environ.get("USER", "console"), "admin", "cli")
    if command == "revoke":
        accounts.revoke(args.meter, console, args.reason, wall_clock_ms())
        print(f"{args.meter}: revoked; export again and reload Mosquitto")
    else:
        credential = accounts.reissue(args.meter, console, args.reason, wall_clock_ms())
        print(f"{credential.username}\t{derive_password(key, credential)}")
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
    password.add_argument("name", help="a meter id, or ingest / simulator")
    for verb, text in (("revoke", "stop a meter logging in"), ("reissue", "a new password")):
        parser = verbs.add_parser(verb, help=text)
        parser.add_argument("meter")
        parser.add_argument("--reason", required=True, help="why (audited)")
