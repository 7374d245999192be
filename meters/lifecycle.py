"""A meter's life, from the factory's delivery to its removal. Pure: which step may follow
which, and what each needs.

    in_stock --install--> installed --(its first verified uplink: commission)--> commissioned
        --activate--> active <--resume-- suspended <--suspend-- active
    installed, commissioned, active, suspended --remove--> removed
    commissioned, active, suspended --replace (by a meter in stock)--> replaced

``install`` needs the installer; ``remove`` and ``replace`` the register's reading at that
moment (what the customer is billed up to), ``replace`` also the new meter's register at
its start, so that consumption continues across the swap. A removed or replaced meter
can no longer log in (its MQTT account is revoked)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Step = Literal["install", "commission", "activate", "suspend", "resume", "remove", "replace"]
STATES = (
    "in_stock",
    "installed",
    "commissioned",
    "active",
    "suspended",
    "removed",
    "replaced",
)
MOVES: dict[str, tuple[frozenset[str], str]] = {
    "install": (frozenset({"in_stock"}), "installed"),
    "commission": (frozenset({"installed"}), "commissioned"),
    "activate": (frozenset({"commissioned"}), "active"),
    "suspend": (frozenset({"active"}), "suspended"),
    "resume": (frozenset({"suspended"}), "active"),
    "remove": (frozenset({"installed", "commissioned", "active", "suspended"}), "removed"),
    "replace": (frozenset({"commissioned", "active", "suspended"}), "replaced"),
}
ENDED = frozenset({"removed", "replaced"})


@dataclass(frozen=True, slots=True)
class LifecycleStep:
    """What an operator records: the step and what it needs."""

    step: Step
    reason: str
    installer: str | None = None  # install
    location: str | None = None  # install: where, when the delivery file did not say
    register_m3: float | None = None  # remove, replace: the register now
    new_meter_id: str | None = None  # replace: the meter in stock that takes its place
    new_register_m3: float | None = None  # replace: the new meter's register at its start


def refusal(current: str, request: LifecycleStep) -> str | None:
    """Why the step cannot be taken from ``current`` (409/422), or None."""
    allowed, _ = MOVES[request.step]
    if current not in allowed:
        return f"a meter {current} cannot be {_past(request.step)}"
    if request.step == "install" and not request.installer:
        return "install needs the installer"
    if request.step in ("remove", "replace") and (
        request.register_m3 is None or request.register_m3 < 0
    ):
        return f"{request.step} needs the register's reading now (register_m3)"
    if request.step == "replace":
        if not request.new_meter_id:
            return "replace needs the meter that takes its place (new_meter_id)"
        if request.new_register_m3 is None or request.new_register_m3 < 0:
            return "replace needs the new meter's register at its start (new_register_m3)"
    return None


def next_state(request: LifecycleStep) -> str:
    return MOVES[request.step][1]


def _past(step: str) -> str:
    return {
        "install": "installed",
        "commission": "commissioned",
        "activate": "activated",
        "suspend": "suspended",
        "resume": "resumed",
        "remove": "removed",
        "replace": "replaced",
    }[step]
