"""An alarm's states and what each operator action does to them. Pure: no fixtures."""

from __future__ import annotations

import pytest

from contract.alarms import ALARM_OPEN_STATES, ALARM_STATES, AlarmRefused, after
from contract.roles import ROLES, role_at_least


def test_the_actions_move_an_alarm_forward_only() -> None:
    assert after("active", "acknowledge") == "acknowledged"
    assert after("acknowledged", "acknowledge") == "acknowledged"  # only the note is added
    assert after("active", "clear") == after("acknowledged", "clear") == "cleared"
    assert after("active", "assign") == "active"
    assert [after(s, "comment") for s in ALARM_STATES] == list(ALARM_STATES)
    assert set(ALARM_OPEN_STATES) == set(ALARM_STATES) - {"cleared"}


@pytest.mark.parametrize("action", ["acknowledge", "clear", "assign"])
def test_a_cleared_alarm_can_only_be_commented_on(action: str) -> None:
    with pytest.raises(AlarmRefused, match="cleared"):
        after("cleared", action)  # type: ignore[arg-type]


def test_roles_are_ordered_least_to_most() -> None:
    assert ROLES == ("viewer", "operator", "supervisor", "admin")
    assert role_at_least("admin", "supervisor") and not role_at_least("operator", "supervisor")
    assert not role_at_least("root", "viewer")  # not a role at all
