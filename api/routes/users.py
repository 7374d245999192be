"""Operator accounts, as far as the API changes them: an admin ends every session of an
account at once (a stolen cookie, a lost laptop), or unlocks an account locked out by
failed sign-ins. Accounts are created and changed with ``gasguard users``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from api.auth import Admin
from api.deps import ContextDep

router = APIRouter(prefix="/users", tags=["users"])

Username = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]


@router.post("/{username}/sign-out", status_code=status.HTTP_204_NO_CONTENT)
def sign_out_everywhere(username: Username, admin: Admin, context: ContextDep) -> None:
    """Revoke every token of the account now; its open live feeds close. Audited."""
    context.registry.accounts.sign_out(username, admin, context.clock())  # 404 when unknown


@router.post("/{username}/unlock", status_code=status.HTTP_204_NO_CONTENT)
def unlock(username: Username, admin: Admin, context: ContextDep) -> None:
    """Let a locked-out account try to sign in again now (its failures are forgotten).
    Audited."""
    context.registry.accounts.unlock(username, admin, context.clock())  # 404 when unknown
