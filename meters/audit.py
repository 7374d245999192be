"""Writing the audit log: one entry per change, in the transaction that makes the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from meters.db import Transactions, as_view
from meters.models import AuditEntry
from meters.views import Actor, AuditView

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


class AuditLog:
    """The audit log on its own: an entry for a change made elsewhere (a sign-in, a refused
    command), and the entries newest first."""

    def __init__(self, transactions: Transactions) -> None:
        self._run = transactions.run

    def record(
        self,
        actor: Actor,
        action: str,
        target: str,
        reason: str,
        detail: dict[str, Any],
        now_ms: int,
    ) -> None:
        self._run(lambda s: add_audit(s, actor, action, target, reason, now_ms, detail))

    def entries(self, offset: int = 0, limit: int = 100) -> list[AuditView]:
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).offset(offset).limit(limit)
        return self._run(lambda s: [as_view(AuditView, e) for e in s.scalars(query)])

    def history(self, target: str, prefix: str, limit: int = 100) -> list[AuditView]:
        """The entries about ``target`` whose action starts with ``prefix`` (a meter's
        life: ``meter.``), newest first."""
        query = (
            select(AuditEntry)
            .where(AuditEntry.target == target, AuditEntry.action.startswith(prefix))
            .order_by(AuditEntry.id.desc())
            .limit(limit)
        )
        return self._run(lambda s: [as_view(AuditView, e) for e in s.scalars(query)])
