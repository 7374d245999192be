"""Writing the audit log: one entry per change, in the transaction that makes the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from meters.models import AuditEntry
from meters.views import Actor

AUDIT: Table = AuditEntry.__table__  # type: ignore[assignment]


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
    session.add(AuditEntry(**audit_row(actor, action, target, reason, now_ms, detail)))


def audit_row(
    actor: Actor,
    action: str,
    target: str,
    reason: str,
    now_ms: int,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One audit entry's columns (``add_audit`` adds one, ``add_audits`` many at once)."""
    return {
        "at_ms": now_ms,
        "actor": actor.username,
        "action": action,
        "target": target,
        "detail": {"role": actor.role, **(detail or {})},
        "source": actor.source,
        "reason": reason,
    }


def add_audits(session: Session, rows: list[dict[str, Any]]) -> None:
    """Many audit entries in one statement (a storm of automatic changes)."""
    if rows:
        session.execute(insert(AUDIT), rows)
