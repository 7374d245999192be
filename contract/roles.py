"""Operators' roles, least to most: a viewer reads, an operator acts on alarms and valves,
a supervisor opens valves, an admin manages accounts. Pure."""

from __future__ import annotations

from typing import Literal, get_args

Role = Literal["viewer", "operator", "supervisor", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)


def role_at_least(role: str, minimum: Role) -> bool:
    return role in ROLES and ROLES.index(role) >= ROLES.index(minimum)
