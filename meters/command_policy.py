"""Who may command a valve, and when. Pure.

A valve closed for safety (by a rule, or by an operator for a safety reason) is never
opened remotely: the server may only ``arm`` it, and the customer opens it at the meter,
where someone can smell gas. ``open`` is for closures that were not for safety (billing,
maintenance), by a supervisor.

A meter's closure is the **set** of reasons of every close confirmed since its last
confirmed open: a billing close confirmed after a leak shutoff adds "billing" to
{"safety"}, it does not replace it. The set empties only when the valve is confirmed open:
a remote open that succeeded (allowed only without a safety reason), or the customer
opening it at the meter after an arm (event ``valve_opened`` or a reading with
``valve: open`` at or after the arm).
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.roles import role_at_least
from meters.closures import closures_text

REMOTELY_OPENABLE = frozenset({"billing", "maintenance"})


def role_refusal(action: str, role: str) -> str | None:
    """Why ``role`` may not send ``action`` at all (403), or None."""
    if action in ("close", "arm"):
        return None if role_at_least(role, "operator") else f"{action} needs the operator role"
    return None if role_at_least(role, "supervisor") else "open needs the supervisor role"


@dataclass(frozen=True, slots=True)
class OpenFacts:
    """What the registry knows of a meter when someone asks to open its valve remotely."""

    closures: frozenset[str]
    valve: str | None = None  # its stored valve state
    open_shutoff_rules: tuple[str, ...] = ()  # rules of its open alarms whose action is shutoff
    closes_in_flight: tuple[str, ...] = ()  # the closure reasons of closes not yet finished


def open_refusal(facts: OpenFacts) -> str | None:
    """Why the valve may not be opened remotely now (409), or None."""
    unsafe = sorted(facts.closures - REMOTELY_OPENABLE)
    if unsafe:
        why = "for safety" if unsafe == ["safety"] else f"for {', '.join(unsafe)}"
        return (
            f"the valve was closed {why}: it is never opened remotely; arm it and let the "
            "customer open it at the meter"
        )
    if facts.closes_in_flight:
        reasons = closures_text(facts.closes_in_flight) or "unknown"
        return f"a close ({reasons}) is in flight: an open never overtakes a pending close"
    if facts.open_shutoff_rules:
        rules = ", ".join(sorted(set(facts.open_shutoff_rules)))
        return f"a shutoff alarm is open on the meter ({rules}): clear it first, or arm the valve"
    if not facts.closures and facts.valve != "open":
        return (
            "the valve was not closed by a command (the meter itself, or for an unknown "
            "reason): it is never opened remotely; arm it and let the customer open it"
        )
    return None
