"""``gasguard profiles list``: the device profiles in force (built-in and configured)."""

from __future__ import annotations

import argparse

from gasguard.settings import Settings


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86_400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def cmd_profiles_list(settings: Settings, _args: argparse.Namespace) -> int:
    """One line per profile: name, codec, transport, report interval, command window and
    the command's lifetime, the model's nameplate flow when the profile gives it, and what
    it is for."""
    from gasguard import wiring

    print("profile\tcodec\ttransport\treports every\tcommands\tlifetime\tmax flow\tdescription")
    for profile in sorted(wiring.device_profiles(settings).values(), key=lambda p: p.name):
        window = "always" if not profile.sleeps else f"wakes {_duration(profile.wake_every_s)}"
        ttl = _duration(profile.command_ttl_s) if profile.command_ttl_s else "no commands"
        flow = f"{profile.max_flow_m3h:g} m3/h" if profile.max_flow_m3h else "-"
        print(
            f"{profile.name}\t{profile.codec}\t{profile.transport}\t"
            f"{_duration(profile.report_interval_s)}\t{window}\t{ttl}\t{flow}\t"
            f"{profile.description}"
        )
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    profiles = sub.add_parser("profiles", help="device profiles: what each kind of meter speaks")
    profiles_sub = profiles.add_subparsers(dest="profiles_command", required=True)
    listing = profiles_sub.add_parser("list", help="the profiles in force")
    listing.set_defaults(run=cmd_profiles_list)
