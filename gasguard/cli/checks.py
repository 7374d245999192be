"""``gasguard doctor`` and ``migrate``: what the deployment will do, and its schema."""

from __future__ import annotations

import argparse

from gasguard.settings import Settings


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    from gasguard import doctor

    return doctor.run(settings, args.probe_queue, security_only=args.security)


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from gasguard import wiring

    wiring.open_registry(settings)
    where = settings.registry_url.split("@")[-1]  # never print a password
    print(f"gasguard migrate: registry at the newest schema ({where})")
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    doctor.set_defaults(run=cmd_doctor, example_secrets_ok=True)  # it reports them
    migrate = sub.add_parser("migrate", help="bring the registry schema up to date")
    migrate.set_defaults(run=cmd_migrate)
