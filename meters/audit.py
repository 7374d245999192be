"""Writing the audit log: one entry per change, in the transaction that makes the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from meters.models import AuditEntry
from meters.views import Actor


def add_audit(
    session: Session,
    actor: Actor,
    action: str,
    target: str,
    reason: str,
    now_ms: int,
    detail: dict[str, Any] | None = None,
) -> None:
    """Who (and with which role, from where), what, on what, when and why."""
    session.add(
        AuditEntry(
            at_ms=now_ms,
            actor=actor.username,
            action=action,
            target=target,
            detail={"role": actor.role, **(detail or {})},
            source=actor.source,
            reason=reason,
        )
    )
