"""``gasguard calendar check``: the holiday schedules (working days) gasguard needs now."""

from __future__ import annotations

import argparse

from gasguard.settings import Settings


def cmd_calendar_check(settings: Settings, _args: argparse.Namespace) -> int:
    """Each year needed (this one, the next from November, and every year an open
    application's count reaches) with where its schedule comes from; exit 1 when one is
    missing, naming the applications that wait for it."""
    from connections.policies import check_calendar
    from gasguard import wiring
    from meters.clock import wall_clock_ms

    registry = wiring.open_registry(settings)
    policies = wiring.connection_policies(settings)
    applications = registry.connections.find("open", limit=100_000)
    check = check_calendar(policies, applications, wall_clock_ms())
    for year, source in check.sources.items():
        if source is not None:
            print(f"{year}\t{source}")
            continue
        waiting = check.waiting.get(year, [])
        names = " ".join(waiting[:10]) + (" ..." if len(waiting) > 10 else "")
        print(f"{year}\tMISSING\t{len(waiting)} applications without a deadline {names}".rstrip())
    if check.missing:
        years = ", ".join(str(year) for year in check.missing)
        print(
            f"load the State Council's holiday schedule for {years} into the holiday file "
            f"(GASGUARD_HOLIDAY_FILE, docs/connections.md); now: {settings.holiday_file or 'none'}"
        )
        return 1
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    calendar = sub.add_parser("calendar", help="the working-day calendar (holiday schedules)")
    calendar_sub = calendar.add_subparsers(dest="calendar_command", required=True)
    check = calendar_sub.add_parser("check", help="the years needed, and those missing")
    check.set_defaults(run=cmd_calendar_check)
