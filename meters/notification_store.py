"""Notifications in the registry (issue 23): each alarm's message on each channel, queued
once (a second enqueue of the same alarm and channel changes nothing), then sent, retried
or failed with the channel's answer, each outcome audited against the alarm. Each method
is one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from meters.audit import add_audit
from meters.db import Transactions, as_view
from meters.models import Notification
from meters.views import Actor

NOTIFIER = Actor("gasguard-notifier", "system", "notifier")


@dataclass(frozen=True, slots=True)
class NotificationView:
    id: int
    alarm_id: int
    channel: str
    state: str  # queued, sent, failed
    attempts: int
    next_attempt_ms: int
    created_ms: int
    updated_ms: int
    sent_ms: int | None
    answer: str


class NotificationStore:
    def __init__(self, transactions: Transactions) -> None:
        self._run = transactions.run

    def enqueue(self, alarm_id: int, channels: Sequence[str], now_ms: int) -> list[str]:
        """Queue the alarm's message on each channel it has none on yet; the channels
        queued now."""

        def work(session: Session) -> list[str]:
            have = set(
                session.scalars(
                    select(Notification.channel).where(Notification.alarm_id == alarm_id)
                )
            )
            new = [c for c in channels if c not in have]
            for channel in new:
                session.add(
                    Notification(
                        alarm_id=alarm_id,
                        channel=channel,
                        state="queued",
                        attempts=0,
                        next_attempt_ms=now_ms,
                        created_ms=now_ms,
                        updated_ms=now_ms,
                        answer="",
                    )
                )
            return new

        return self._run(work)

    def due(self, now_ms: int, limit: int = 200) -> list[NotificationView]:
        query = (
            select(Notification)
            .where(Notification.state == "queued", Notification.next_attempt_ms <= now_ms)
            .order_by(Notification.next_attempt_ms, Notification.id)
            .limit(limit)
        )
        return self._run(lambda s: [as_view(NotificationView, n) for n in s.scalars(query)])

    def record(
        self, notification_id: int, ok: bool, answer: str, now_ms: int, retry_at_ms: int | None
    ) -> NotificationView:
        """One attempt's outcome: sent; or queued again at ``retry_at_ms``; or (None)
        failed. Sent and failed are audited against the alarm."""

        def work(session: Session) -> NotificationView:
            row = session.get(Notification, notification_id)
            assert row is not None, notification_id
            row.attempts += 1
            row.answer, row.updated_ms = answer[:500], now_ms
            if ok:
                row.state, row.sent_ms = "sent", now_ms
            elif retry_at_ms is not None:
                row.state, row.next_attempt_ms = "queued", retry_at_ms
            else:
                row.state = "failed"
            if row.state != "queued":
                detail = {"channel": row.channel, "attempts": row.attempts, "answer": row.answer}
                target = f"alarm:{row.alarm_id}"
                action = f"notification.{row.state}"
                add_audit(session, NOTIFIER, action, target, row.channel, now_ms, detail)
            return as_view(NotificationView, row)

        return self._run(work)

    def for_alarm(self, alarm_id: int) -> list[NotificationView]:
        query = (
            select(Notification).where(Notification.alarm_id == alarm_id).order_by(Notification.id)
        )
        return self._run(lambda s: [as_view(NotificationView, n) for n in s.scalars(query)])
