"""The audit log (supervisor): who changed what, when, from where and why; newest first.
And the accounts an operator can hand an alarm to (operator)."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth import Operator, Supervisor
from api.deps import RegistryDep
from api.params import Limit, Offset
from api.schemas import UserOut
from contract.roles import role_at_least
from meters.views import AuditView

router = APIRouter(tags=["audit"])


@router.get("/audit", response_model=list[AuditView])
def audit_log(
    _supervisor: Supervisor, registry: RegistryDep, offset: Offset = 0, limit: Limit = 100
) -> list[AuditView]:
    return registry.audit.entries(offset, limit)


@router.get("/users", response_model=list[UserOut])
def assignable_users(_operator: Operator, registry: RegistryDep) -> list[UserOut]:
    """Enabled accounts of role operator or above (who can take an alarm)."""
    return [
        UserOut(username=u.username, role=u.role, display_name=u.display_name)
        for u in registry.accounts.list()
        if not u.disabled and role_at_least(u.role, "operator")
    ]
