"""Alarms: opened or repeated from the engine's decisions (a batch in one transaction),
changed by operators through the transitions of ``contract.alarms`` (each change noted and
audited), cleared automatically when an offline meter is heard again; the lists and counts
the API shows. Each method is one transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import Table, bindparam, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contract.alarms import ALARM_OPEN_STATES, AlarmAction, AlarmRefused, after
from contract.decisions import Decision
from contract.roles import role_at_least
from meters.accounts import Accounts
from meters.audit import AuditLog, add_audit, add_audits, audit_row
from meters.db import Transactions, as_view, changed_since_query, fetch, in_chunks
from meters.errors import Conflict, RegistryError
from meters.models import Alarm, UsedLink
from meters.severity import (
    COMMAND_RULE_PREFIX,
    CRITICAL_RULES,
    INFO_RULES,
    SEVERITIES,
    severity_of,
)
from meters.views import SAFETY_ACTOR, Actor, AlarmCount, AlarmView, ClearedAlarm

ALARMS: Table = Alarm.__table__  # type: ignore[assignment]
# meters.severity.severity_of as SQL, for "newest critical first": 0 critical, 1 warning, 2 info
SEVERITY_RANK = case(
    (
        or_(
            Alarm.action == "shutoff",
            Alarm.rule.startswith(COMMAND_RULE_PREFIX),
            Alarm.rule.in_(sorted(CRITICAL_RULES)),
        ),
        0,
    ),
    (Alarm.rule.in_(sorted(INFO_RULES)), 2),
    else_=1,
)


def _acknowledged_by(actor: Actor, now_ms: int) -> Callable[[Alarm], None]:
    """The change an acknowledgement makes: an active alarm becomes acknowledged, by whom
    and when (an acknowledged one keeps both)."""

    def acknowledge(alarm: Alarm) -> None:
        state = _after(alarm, "acknowledge")
        if state != alarm.state:  # it was active: who acknowledged it, and when
            alarm.state = state
            alarm.acknowledged_by, alarm.acknowledged_ms = actor.username, now_ms

    return acknowledge


def _alarm(session: Session, alarm_id: int) -> Alarm:
    return fetch(session, Alarm, alarm_id, f"alarm {alarm_id} does not exist")


HEARD_AGAIN = "meter heard again"


def _change(
    session: Session, alarm: Alarm, actor: Actor, action: str, text: str, now_ms: int
) -> None:
    """The note and the audit entry of a change to ``alarm`` (made by the caller)."""
    alarm.note = _append_note(alarm.note, actor, text, now_ms)
    alarm.updated_ms = now_ms
    add_audit(session, actor, action, f"alarm:{alarm.id}", text, now_ms)


def _mark_cleared(alarm: Alarm, actor: Actor, now_ms: int) -> None:
    alarm.state = "cleared"
    alarm.cleared_by, alarm.cleared_ms = actor.username, now_ms


ALARM_FIELDS = [f.name for f in fields(AlarmView) if f.name != "severity"]
REPEAT_KEYS = ("id", "last_ts_ms", "repeat_count", "detail", "updated_ms")
ALARM_REPEAT = (
    update(ALARMS)
    .where(ALARMS.c.id == bindparam("b_id"))
    .values(
        last_ts_ms=bindparam("b_last_ts_ms"),
        repeat_count=bindparam("b_repeat_count"),
        detail=bindparam("b_detail", type_=ALARMS.c.detail.type),
        updated_ms=bindparam("b_updated_ms"),
    )
)


def _new_alarm_row(decision: Decision, now_ms: int) -> dict[str, Any]:
    return {
        "meter_id": decision.meter_id,
        "rule": decision.rule,
        "action": decision.action,
        "state": "active",
        "opened_ts_ms": decision.ts_ms,
        "last_ts_ms": decision.ts_ms,
        "repeat_count": 1,
        "detail": dict(decision.detail),
        "created_ms": now_ms,
        "note": "",
        "updated_ms": now_ms,
        "acknowledged_by": None,
        "acknowledged_ms": None,
        "cleared_by": None,
        "cleared_ms": None,
        "assigned_to": None,
        "assigned_ms": None,
    }


def _open_alarm_rows(
    session: Session, keys: Mapping[tuple[str, str], object]
) -> dict[tuple[str, str], dict[str, Any]]:
    """The open alarm of each (meter, rule) in ``keys`` that has one, as a row; one SELECT
    per thousand meters."""
    meters = sorted({meter for meter, _rule in keys})
    rules = sorted({rule for _meter, rule in keys})
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for chunk in in_chunks(meters):
        query = select(*(ALARMS.c[name] for name in ALARM_FIELDS)).where(
            ALARMS.c.meter_id.in_(chunk),
            ALARMS.c.rule.in_(rules),
            ALARMS.c.state.in_(ALARM_OPEN_STATES),
        )
        for row in session.execute(query).mappings():
            key = (row["meter_id"], row["rule"])
            if key in keys and key not in found:
                found[key] = dict(row)
    return found


def _alarm_view(row: Mapping[str, Any]) -> AlarmView:
    return AlarmView(
        **{name: row[name] for name in ALARM_FIELDS},
        severity=severity_of(row["rule"], row["action"]),
    )


def _append_note(notes: str, actor: Actor, text: str, now_ms: int) -> str:
    """Notes accumulate, one line each: time, who, what they wrote."""
    if not text:
        return notes
    line = f"{now_ms} {actor.username}: {text}"
    return f"{notes}\n{line}" if notes else line


def _after(alarm: Alarm, action: AlarmAction) -> str:
    """The alarm's state after an operator's action (contract.alarms); a refusal is a
    Conflict naming the alarm."""
    try:
        return after(alarm.state, action)
    except AlarmRefused as exc:
        raise Conflict(f"alarm {alarm.id} {exc}") from exc


class AlarmStore:
    def __init__(self, transactions: Transactions, accounts: Accounts, audit: AuditLog) -> None:
        self._run = transactions.run
        self._accounts = accounts
        self._audit = audit

    def record(self, decision: Decision, now_ms: int) -> tuple[AlarmView, bool]:
        """Open an alarm for the decision's (meter, rule), or update the one still open.
        Returns the alarm and whether it is new."""
        return self.record_many([decision], now_ms)[0]

    def record_many(
        self, decisions: Sequence[Decision], now_ms: int
    ) -> list[tuple[AlarmView, bool]]:
        """``record`` for a whole batch in one transaction (one SELECT per thousand
        meters, not one transaction per alarm: a storm of offline alarms opens in one
        go). Decisions on the same (meter, rule) update the alarm the first one opened."""
        if not decisions:
            return []

        def work(session: Session) -> list[tuple[AlarmView, bool]]:
            groups: dict[tuple[str, str], list[Decision]] = {}
            for decision in decisions:
                groups.setdefault((decision.meter_id, decision.rule), []).append(decision)
            rows = _open_alarm_rows(session, groups)
            inserts, updates = [], []
            for key, same in groups.items():
                row = rows.get(key)
                if row is None:
                    row = rows[key] = _new_alarm_row(same[0], now_ms)
                    row["repeat_count"] = len(same)
                    inserts.append(row)
                else:
                    row["repeat_count"] += len(same)
                    updates.append(row)
                row["last_ts_ms"] = max(row["last_ts_ms"], *(d.ts_ms for d in same))
                row["detail"] = dict(same[-1].detail)
                row["updated_ms"] = now_ms
            if inserts:
                ids = session.execute(
                    insert(ALARMS).returning(ALARMS.c.id, sort_by_parameter_order=True), inserts
                ).scalars()
                for row, alarm_id in zip(inserts, ids, strict=True):
                    row["id"] = alarm_id
            if updates:
                session.execute(
                    ALARM_REPEAT, [{f"b_{k}": row[k] for k in REPEAT_KEYS} for row in updates]
                )
            new_keys = {(row["meter_id"], row["rule"]) for row in inserts}
            results = []
            for decision in decisions:
                key = (decision.meter_id, decision.rule)
                created = key in new_keys
                new_keys.discard(key)  # only the first decision of a new alarm opened it
                results.append((_alarm_view(rows[key]), created))
            return results

        return self._run(work)

    def acknowledge(self, alarm_id: int, actor: Actor, note: str, now_ms: int) -> AlarmView:
        """active -> acknowledged (who, when, an optional note), audited in the same
        transaction. Acknowledging an acknowledged alarm again only adds the note."""

        acknowledge = _acknowledged_by(actor, now_ms)
        return self._change_alarm(alarm_id, actor, "alarm.acknowledge", note, now_ms, acknowledge)

    def acknowledge_by_link(
        self, alarm_id: int, nonce: str, actor: Actor, now_ms: int
    ) -> AlarmView:
        """The acknowledgement of a link in a notification (notify.links), as ``actor``:
        the link's nonce is spent in the same transaction, so a link acts once; a second
        use is ``Conflict`` (and audited as a refusal)."""

        acknowledge = _acknowledged_by(actor, now_ms)
        note = "by the link in a notification"
        try:
            return self._change_alarm(
                alarm_id, actor, "alarm.acknowledge", note, now_ms, acknowledge, spend=nonce
            )
        except RegistryError as exc:  # spent at the same moment by another request
            if isinstance(exc.__cause__, IntegrityError):
                raise Conflict("this link has been used already") from exc
            raise

    def clear(self, alarm_id: int, actor: Actor, reason: str, now_ms: int) -> AlarmView:
        """active or acknowledged -> cleared (who, when, why), audited in the same
        transaction. The ingester then lets the rule fire again for the meter."""

        def clear(alarm: Alarm) -> None:
            _after(alarm, "clear")
            _mark_cleared(alarm, actor, now_ms)

        return self._change_alarm(alarm_id, actor, "alarm.clear", reason, now_ms, clear)

    def clear_offline_heard_again(self, heard: Mapping[str, int], now_ms: int) -> list[AlarmView]:
        """Open ``offline`` alarms of meters heard again (``heard``: meter id -> when a
        message of it was received; it counts at or after the alarm was recorded): cleared
        at ``now_ms`` by gasguard with that reason, audited, so the alarms of a network
        outage end with it. They stay in the alarm history."""
        return self.clear_when_over("offline", heard, now_ms, HEARD_AGAIN)

    def clear_when_over(
        self, rule: str, over: Mapping[str, int], now_ms: int, reason: str
    ) -> list[AlarmView]:
        """Open alarms of ``rule`` whose condition gasguard saw end (``over``: meter id ->
        when; it counts at or after the alarm was recorded), cleared by gasguard with
        ``reason``, audited (a network outage over, a meter's clock back on time)."""
        heard = over
        if not heard:
            return []
        line = f"{now_ms} {SAFETY_ACTOR.username}: {reason}"

        def work(session: Session) -> list[AlarmView]:
            meters = sorted(heard)
            changes: list[dict[str, Any]] = []
            audits: list[dict[str, Any]] = []
            for chunk in in_chunks(meters):
                query = select(ALARMS.c.id, ALARMS.c.meter_id, ALARMS.c.created_ms, ALARMS.c.note)
                query = query.where(
                    ALARMS.c.meter_id.in_(chunk),
                    ALARMS.c.rule == rule,
                    ALARMS.c.state.in_(ALARM_OPEN_STATES),
                )
                for alarm_id, meter_id, created_ms, note in session.execute(query):
                    if heard[meter_id] < created_ms:
                        continue
                    changes.append(
                        {"b_id": alarm_id, "b_note": f"{note}\n{line}" if note else line}
                    )
                    audits.append(
                        audit_row(SAFETY_ACTOR, "alarm.clear", f"alarm:{alarm_id}", reason, now_ms)
                    )
            if not changes:
                return []
            session.execute(
                update(ALARMS)
                .where(ALARMS.c.id == bindparam("b_id"))
                .values(
                    state="cleared",
                    cleared_by=SAFETY_ACTOR.username,
                    cleared_ms=now_ms,
                    updated_ms=now_ms,
                    note=bindparam("b_note"),
                ),
                changes,
            )
            add_audits(session, audits)
            ids = [change["b_id"] for change in changes]
            return [
                as_view(AlarmView, alarm)
                for chunk in in_chunks(ids)
                for alarm in session.scalars(select(Alarm).where(Alarm.id.in_(chunk)))
            ]

        return self._run(work)

    def assign(
        self, alarm_id: int, assignee: str, actor: Actor, note: str, now_ms: int
    ) -> AlarmView:
        """Give an open alarm to an operator (an enabled account of role operator or
        above), audited. Reassigning replaces the assignee."""
        account = self._accounts.get(assignee)
        if account.disabled or not role_at_least(account.role, "operator"):
            raise Conflict(f"{assignee} cannot take alarms (disabled, or not an operator)")

        def assign(alarm: Alarm) -> None:
            _after(alarm, "assign")
            alarm.assigned_to, alarm.assigned_ms = assignee, now_ms

        text = f"assigned to {assignee}" + (f": {note}" if note else "")
        return self._change_alarm(alarm_id, actor, "alarm.assign", text, now_ms, assign)

    def comment(self, alarm_id: int, actor: Actor, text: str, now_ms: int) -> AlarmView:
        """Add a comment to an alarm's notes (any state: also after it was cleared)."""
        return self._change_alarm(alarm_id, actor, "alarm.comment", text, now_ms, lambda _: None)

    def _change_alarm(
        self,
        alarm_id: int,
        actor: Actor,
        action: str,
        text: str,
        now_ms: int,
        change: Callable[[Alarm], None],
        spend: str | None = None,
    ) -> AlarmView:
        """One operator change of an alarm: the change, the note and the audit entry in
        one transaction (``spend``: an acknowledgement link's nonce, spent in it)."""

        def work(session: Session) -> AlarmView:
            alarm = _alarm(session, alarm_id)
            if spend is not None:
                if session.get(UsedLink, spend) is not None:
                    raise Conflict("this link has been used already")
                session.add(
                    UsedLink(
                        nonce=spend, alarm_id=alarm_id, username=actor.username, used_ms=now_ms
                    )
                )
                session.flush()
            change(alarm)
            _change(session, alarm, actor, action, text, now_ms)
            session.flush()
            return as_view(AlarmView, alarm)

        try:
            return self._run(work)
        except Conflict as exc:  # acting on a cleared alarm: refused, and on the record
            detail = {"refused": str(exc)}
            self._audit.record(
                actor, f"{action}.refused", f"alarm:{alarm_id}", text, detail, now_ms
            )
            raise

    def get(self, alarm_id: int) -> AlarmView:
        return self._run(lambda s: as_view(AlarmView, _alarm(s, alarm_id)))

    def cleared_since(self, since_ms: int) -> list[ClearedAlarm]:
        """Alarms cleared at or after ``since_ms`` whose (meter, rule) has no open alarm
        now: the safety engine may let those rules fire again."""
        cleared = ALARMS.alias("cleared")
        open_alarm = ALARMS.alias("open_alarm")
        query = (
            select(
                cleared.c.meter_id,
                cleared.c.rule,
                cleared.c.cleared_ms,
                cleared.c.id,
                cleared.c.cleared_by,
            )
            .where(cleared.c.state == "cleared", cleared.c.cleared_ms >= since_ms)
            .where(
                ~select(open_alarm.c.id)
                .where(
                    open_alarm.c.meter_id == cleared.c.meter_id,
                    open_alarm.c.rule == cleared.c.rule,
                    open_alarm.c.state.in_(ALARM_OPEN_STATES),
                )
                .exists()
            )
            .order_by(cleared.c.cleared_ms, cleared.c.id)
        )
        return self._run(lambda s: [ClearedAlarm(*row) for row in s.execute(query).all()])

    def changed_since(self, since_ms: int, limit: int = 500) -> list[AlarmView]:
        """Alarms changed at or after ``since_ms``, oldest change first (the live feed)."""
        query = changed_since_query(Alarm, since_ms, limit)
        return self._run(lambda s: [as_view(AlarmView, a) for a in s.scalars(query)])

    def find(
        self,
        state: str | None = None,
        meter_id: str | None = None,
        offset: int = 0,
        limit: int = 100,
        rule: str | None = None,
        assigned_to: str | None = None,
        critical_first: bool = False,
    ) -> list[AlarmView]:
        """Newest first; with ``critical_first``, by severity, then newest first."""
        order = (SEVERITY_RANK, Alarm.id.desc()) if critical_first else (Alarm.id.desc(),)
        query = select(Alarm).order_by(*order).offset(offset).limit(limit)
        if state == "open":
            query = query.where(Alarm.state.in_(ALARM_OPEN_STATES))
        elif state is not None:
            query = query.where(Alarm.state == state)
        if meter_id is not None:
            query = query.where(Alarm.meter_id == meter_id)
        if rule is not None:
            query = query.where(Alarm.rule == rule)
        if assigned_to is not None:
            query = query.where(Alarm.assigned_to == assigned_to)
        return self._run(lambda s: [as_view(AlarmView, a) for a in s.scalars(query)])

    def open_counts(self) -> list[AlarmCount]:
        """Open alarms (active or acknowledged) by rule and action, most first."""
        query = (
            select(
                Alarm.rule,
                Alarm.action,
                func.count(),
                func.sum(case((Alarm.state == "active", 1), else_=0)),
            )
            .where(Alarm.state.in_(ALARM_OPEN_STATES))
            .group_by(Alarm.rule, Alarm.action)
        )

        def work(session: Session) -> list[AlarmCount]:
            counts = [
                AlarmCount(rule, action, severity_of(rule, action), int(n), int(active or 0))
                for rule, action, n, active in session.execute(query).all()
            ]
            return sorted(counts, key=lambda c: (SEVERITIES.index(c.severity), -c.open, c.rule))

        return self._run(work)
