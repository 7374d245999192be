"""Who may command a valve, and when. Pure.

A valve closed for safety (by a rule, or by an operator for a safety reason) is never
opened remotely: the server may only ``arm`` it, and the customer opens it at the meter,
where someone can smell gas. ``open`` is for closures that were not for safety (billing,
maintenance), by a supervisor.
"""

from __future__ import annotations

from meters.accounts import role_at_least

REMOTELY_OPENABLE = ("billing", "maintenance")


def refusal(action: str, role: str, closure: str | None) -> tuple[int, str] | None:
    """(HTTP status, why) when the caller may not do this now; None when allowed."""
    if action in ("close", "arm"):
        if not role_at_least(role, "operator"):
            return 403, f"{action} needs the operator role"
        return None
    if not role_at_least(role, "supervisor"):
        return 403, "open needs the supervisor role"
    if closure not in REMOTELY_OPENABLE:
        why = "for safety" if closure == "safety" else "for an unknown reason"
        return 409, (
            f"the valve was closed {why}: it is never opened remotely; arm it and let the "
            "customer open it at the meter"
        )
    return None
