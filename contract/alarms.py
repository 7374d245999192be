"""An alarm's states and what an operator's action does to them. Pure.

``active`` (raised) → ``acknowledged`` (someone is on it) → ``cleared`` (handled; the
rule may fire again). Acknowledging an acknowledged alarm only adds its note; a cleared
alarm can only be commented on: acknowledging, assigning or clearing it again is refused.
"""

from __future__ import annotations

from typing import Literal, get_args

from contract.errors import ContractError

AlarmState = Literal["active", "acknowledged", "cleared"]
ALARM_STATES: tuple[AlarmState, ...] = get_args(AlarmState)
ALARM_OPEN_STATES: tuple[AlarmState, ...] = ("active", "acknowledged")  # not cleared
AlarmAction = Literal["acknowledge", "clear", "assign", "comment"]

_ON_CLEARED = {
    "acknowledge": "is cleared; there is nothing to acknowledge",
    "clear": "is already cleared",
    "assign": "is cleared; there is nothing to assign",
}


class AlarmRefused(ContractError):
    """The action does not apply to the alarm's state (its text completes "alarm N …")."""


def after(state: str, action: AlarmAction) -> str:
    """The alarm's state after ``action``; ``AlarmRefused`` when it does not apply."""
    if action == "comment":
        return state
    if state == "cleared":
        raise AlarmRefused(_ON_CLEARED[action])
    if action == "acknowledge":
        return "acknowledged"
    if action == "clear":
        return "cleared"
    return state
