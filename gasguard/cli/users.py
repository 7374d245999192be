"""``gasguard users``: operator accounts."""

from __future__ import annotations

import argparse
import sys

from contract.roles import ROLES
from gasguard.cli.console import console_actor
from gasguard.errors import GasguardError
from gasguard.settings import Settings


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

    registry = wiring.open_registry(settings)
    accounts = registry.accounts
    command = args.users_command
    if command == "list":
        for user in accounts.list():
            state = " (disabled)" if user.disabled else ""
            print(f"{user.username}\t{user.role}{state}\t{user.display_name}")
        return 0
    console = console_actor()
    now_ms = wall_clock_ms()
    if command == "add":
        user = accounts.add(args.username, _read_password(args), args.role, now_ms, args.name)
        detail = {"role": user.role}
        registry.audit.record(console, "user.add", f"user:{user.username}", "", detail, now_ms)
        print(f"added {user.username} ({user.role})")
    elif command == "passwd":
        accounts.set_password(args.username, _read_password(args))
        registry.audit.record(console, "user.password", f"user:{args.username}", "", {}, now_ms)
        print(f"password of {args.username} changed")
    elif command == "unlock":
        registry.accounts.unlock(args.username, console, now_ms)
        print(f"{args.username} may sign in again")
    elif command == "sign-out":
        registry.accounts.sign_out(args.username, console, now_ms)
        print(f"every session of {args.username} ended")
    else:
        disabled = command == "disable"
        accounts.set_disabled(args.username, disabled)
        registry.audit.record(console, f"user.{command}", f"user:{args.username}", "", {}, now_ms)
        print(f"{args.username} {command}d")
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
