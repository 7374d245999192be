"""The registry: meters, alarms, commands, dead letters, events and the audit log.

Every method runs in one transaction and returns frozen views (``meters.views``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal, TypeVar

from sqlalchemy import (
    BigInteger,
    Engine,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from contract.alarms import ALARM_OPEN_STATES, AlarmAction, AlarmRefused, after
from contract.decisions import Decision
from contract.events import MeterEvent
from contract.profiles import MeterProfile
from contract.roles import role_at_least
from meters.accounts import Accounts
from meters.application_store import ConnectionStore
from meters.attempt_limits import AttemptLimits, account_key
from meters.audit import add_audit, add_audits, audit_row
from meters.command_store import CommandStore, ensure_key, meter_of
from meters.completeness import MeterExpectation
from meters.db import Transactions, fetch
from meters.errors import Conflict
from meters.leases import LeaseStore
from meters.models import (
    VALVE_RANK,
    Alarm,
    AuditEntry,
    Command,
    DeadLetter,
    Meter,
    MeterEventRow,
)
from meters.mqtt_accounts import MqttAccounts
from meters.severity import (
    COMMAND_RULE_PREFIX,
    CRITICAL_RULES,
    INFO_RULES,
    SEVERITIES,
    severity_of,
)
from meters.views import (
    SAFETY_ACTOR,
    Actor,
    AlarmCount,
    AlarmView,
    AuditView,
    ClearedAlarm,
    CommandView,
    DeadLetterView,
    MeterCounts,
    MeterView,
    NewDeadLetter,
)
from meters.worker_health import WorkerHealthStore

V = TypeVar("V")
T = TypeVar("T")

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
DEAD_LETTER_PAYLOAD_LIMIT = 262_144


@dataclass(frozen=True, slots=True)
class MeterSighting:
    """What ingest saw of a meter: when, its newest reading time, valve and status.
    ``valve_ms``: the meter time of the fact the valve comes from (a reading's or an
    event's ``ts``; ``reading_ms`` when not given)."""

    seen_ms: int
    reading_ms: int | None = None
    valve: str | None = None
    status: str | None = None
    valve_ms: int | None = None
    seq_first: int | None = None  # batch sequence numbers seen since the last write
    seq_last: int | None = None
    seq_skipped: int = 0  # batches skipped between them


METERS: Table = Meter.__table__  # type: ignore[assignment]
ALARMS: Table = Alarm.__table__  # type: ignore[assignment]
METER_DEFAULTS = {"model": "G2.5", "category": "residential", "report_interval_s": 60}
_reading = bindparam("b_reading", type_=BigInteger)
_valve = bindparam("b_valve", type_=String)
_valve_ms = bindparam("b_valve_ms", type_=BigInteger)
_seq_first = bindparam("b_seq_first", type_=BigInteger)
_seq_last = bindparam("b_seq_last", type_=BigInteger)
SEQ_RESTART = 1000  # a seq this far below the last one: the meter started numbering again
# A valve fact replaces the stored one only if it is as new or newer (a late reading never
# overwrites a newer state); the valve open at or after the meter was armed is the customer
# opening it at the meter: its closure set empties.
_newer_valve = and_(
    _valve.is_not(None),
    or_(METERS.c.valve_ms.is_(None), _valve_ms >= METERS.c.valve_ms),
)
_opened_after_arm = and_(
    _newer_valve,
    _valve == "open",
    METERS.c.armed_ms.is_not(None),
    _valve_ms >= METERS.c.armed_ms,
)
SIGHTING_UPDATE = (
    update(METERS)
    .where(METERS.c.id == bindparam("b_id"))
    .values(
        last_seen_ms=bindparam("b_seen", type_=BigInteger),
        last_reading_ms=case(
            (
                and_(
                    _reading.is_not(None),
                    or_(METERS.c.last_reading_ms.is_(None), METERS.c.last_reading_ms < _reading),
                ),
                _reading,
            ),
            else_=METERS.c.last_reading_ms,
        ),
        valve=case((_newer_valve, _valve), else_=METERS.c.valve),
        valve_ms=case((_newer_valve, _valve_ms), else_=METERS.c.valve_ms),
        closures=case((_opened_after_arm, ""), else_=METERS.c.closures),
        armed_ms=case((_opened_after_arm, None), else_=METERS.c.armed_ms),
        status=func.coalesce(bindparam("b_status", type_=String), METERS.c.status),
        # batches the meter numbered but that never arrived: those skipped within the
        # sightings, and those between the last stored seq and the first one now
        missing_batches=METERS.c.missing_batches
        + bindparam("b_seq_skipped", type_=BigInteger)
        + case(
            (
                and_(
                    _seq_first.is_not(None),
                    METERS.c.last_seq.is_not(None),
                    _seq_first > METERS.c.last_seq + 1,
                ),
                _seq_first - METERS.c.last_seq - 1,
            ),
            else_=0,
        ),
        # the newest seq; a late, redelivered batch does not move it back, a meter that
        # starts numbering again (far below) does
        last_seq=case(
            (_seq_last.is_(None), METERS.c.last_seq),
            (
                or_(
                    METERS.c.last_seq.is_(None),
                    _seq_last > METERS.c.last_seq,
                    _seq_last + SEQ_RESTART < METERS.c.last_seq,
                ),
                _seq_last,
            ),
            else_=METERS.c.last_seq,
        ),
    )
)


IN_CHUNK = 1000  # ids per IN (...) list: one statement per thousand, never one per row


def in_chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """``items`` in slices of ``IN_CHUNK``, for queries with an IN list."""
    for first in range(0, len(items), IN_CHUNK):
        yield items[first : first + IN_CHUNK]


def _view(view_type: type[V], row: object) -> V:
    return view_type(**{f.name: getattr(row, f.name) for f in fields(view_type)})  # type: ignore[arg-type]


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


class Registry:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        transactions = Transactions(engine)
        self._run = transactions.run
        self.accounts = Accounts(transactions)
        self.commands = CommandStore(transactions)
        self.connections = ConnectionStore(transactions)
        self.workers = WorkerHealthStore(transactions)
        self.leases = LeaseStore(transactions)
        self.mqtt_accounts = MqttAccounts(transactions)
        self.attempt_limits = AttemptLimits(transactions)

    # -- meters ---------------------------------------------------------------------------

    def provision(self, profiles: Iterable[MeterProfile], now_ms: int) -> None:
        """Create or update meters with their model, category and report interval."""

        wanted = list(profiles)

        def work(session: Session) -> None:
            known: dict[str, Meter] = {}
            for chunk in in_chunks(wanted):  # one SELECT per thousand, not per meter
                ids = [p.meter_id for p in chunk]
                known.update(
                    (m.id, m) for m in session.scalars(select(Meter).where(Meter.id.in_(ids)))
                )
            for profile in wanted:
                meter = known.get(profile.meter_id)
                if meter is None:
                    meter = known[profile.meter_id] = Meter(id=profile.meter_id, created_ms=now_ms)
                    session.add(meter)
                meter.model = profile.model
                meter.category = profile.category
                meter.report_interval_s = profile.report_interval_s
                ensure_key(meter)

        self._run(work)

    def profiles(self) -> list[MeterProfile]:
        def work(session: Session) -> list[MeterProfile]:
            return [
                MeterProfile(m.id, m.model, m.category, m.report_interval_s)  # type: ignore[arg-type]
                for m in session.scalars(select(Meter))
            ]

        return self._run(work)

    def expectations(self) -> list[MeterExpectation]:
        """The report interval and join time of every meter heard at least once (for data
        completeness: a meter provisioned but never heard is not in service yet)."""
        query = select(
            Meter.id, Meter.report_interval_s, Meter.created_ms, Meter.missing_batches
        ).where(Meter.last_seen_ms.is_not(None))
        return self._run(lambda s: [MeterExpectation(*row) for row in s.execute(query).all()])

    def record_sightings(self, sightings: Mapping[str, MeterSighting]) -> list[str]:
        """Update last-seen data in bulk (one SELECT, one INSERT, one executemany UPDATE);
        meters never seen before are registered with defaults. Returns their ids."""
        if not sightings:
            return []

        def work(session: Session) -> list[str]:
            ids = list(sightings)
            known: set[str] = set()
            for chunk in in_chunks(ids):
                known.update(session.scalars(select(Meter.id).where(Meter.id.in_(chunk))))
            new_ids = [meter_id for meter_id in ids if meter_id not in known]
            if new_ids:
                session.execute(
                    insert(METERS),
                    [
                        {**METER_DEFAULTS, "id": m, "created_ms": sightings[m].seen_ms}
                        for m in new_ids
                    ],
                )
            rows = [
                {
                    "b_id": m,
                    "b_seen": s.seen_ms,
                    "b_reading": s.reading_ms,
                    "b_valve": s.valve,
                    "b_valve_ms": s.reading_ms if s.valve_ms is None else s.valve_ms,
                    "b_status": s.status,
                    "b_seq_first": s.seq_first,
                    "b_seq_last": s.seq_last,
                    "b_seq_skipped": s.seq_skipped,
                }
                for m, s in sightings.items()
            ]
            session.execute(SIGHTING_UPDATE, rows)
            return new_ids

        return self._run(work)

    def list_meters(
        self,
        offset: int = 0,
        limit: int = 100,
        valve: str | None = None,
        order: Literal["id", "valve"] = "id",
    ) -> list[MeterView]:
        """A page of meters by id, or with ``order="valve"`` closed valves first, then
        faulted, open and never reported (by id within each; read from an index)."""
        keys: tuple[Any, ...] = (Meter.id,)
        if order == "valve":
            keys = (literal_column(VALVE_RANK), Meter.id)
        query = select(Meter).order_by(*keys).offset(offset).limit(limit)
        if valve is not None:
            query = query.where(Meter.valve == valve)
        return self._run(lambda s: [_view(MeterView, m) for m in s.scalars(query)])

    def meter_counts(self) -> MeterCounts:
        silent = (
            select(Alarm.id)
            .where(
                Alarm.meter_id == Meter.id,
                Alarm.rule == "offline",
                Alarm.state.in_(ALARM_OPEN_STATES),
            )
            .exists()
        )
        never = Meter.last_seen_ms.is_(None)
        offline = and_(~never, or_(Meter.status == "offline", silent))
        query = select(
            func.count(),
            func.sum(case((never, 1), else_=0)),
            func.sum(case((offline, 1), else_=0)),
            func.sum(case((Meter.valve == "closed", 1), else_=0)),
        ).select_from(Meter)

        def work(session: Session) -> MeterCounts:
            total, never_seen, off, closed = session.execute(query).one()
            never_seen, off = int(never_seen or 0), int(off or 0)
            return MeterCounts(total, total - never_seen - off, off, never_seen, int(closed or 0))

        return self._run(work)

    def count_meters(self, valve: str | None = None) -> int:
        query = select(func.count()).select_from(Meter)
        if valve is not None:
            query = query.where(Meter.valve == valve)
        return int(self._run(lambda s: s.scalar(query)) or 0)

    def get_meter(self, meter_id: str) -> MeterView:
        return self._run(lambda s: _view(MeterView, meter_of(s, meter_id)))

    # -- alarms ---------------------------------------------------------------------------

    def record_decision(self, decision: Decision, now_ms: int) -> tuple[AlarmView, bool]:
        """Open an alarm for the decision's (meter, rule), or update the one still open.
        Returns the alarm and whether it is new."""
        return self.record_decisions([decision], now_ms)[0]

    def record_decisions(
        self, decisions: Sequence[Decision], now_ms: int
    ) -> list[tuple[AlarmView, bool]]:
        """``record_decision`` for a whole batch in one transaction (one SELECT per thousand
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

    def acknowledge_alarm(self, alarm_id: int, actor: Actor, note: str, now_ms: int) -> AlarmView:
        """active -> acknowledged (who, when, an optional note), audited in the same
        transaction. Acknowledging an acknowledged alarm again only adds the note."""

        def acknowledge(alarm: Alarm) -> None:
            state = _after(alarm, "acknowledge")
            if state != alarm.state:  # it was active: who acknowledged it, and when
                alarm.state = state
                alarm.acknowledged_by, alarm.acknowledged_ms = actor.username, now_ms

        return self._change_alarm(alarm_id, actor, "alarm.acknowledge", note, now_ms, acknowledge)

    def clear_alarm(self, alarm_id: int, actor: Actor, reason: str, now_ms: int) -> AlarmView:
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

        if not heard:
            return []
        line = f"{now_ms} {SAFETY_ACTOR.username}: {HEARD_AGAIN}"

        def work(session: Session) -> list[AlarmView]:
            meters = sorted(heard)
            changes: list[dict[str, Any]] = []
            audits: list[dict[str, Any]] = []
            for chunk in in_chunks(meters):
                query = select(ALARMS.c.id, ALARMS.c.meter_id, ALARMS.c.created_ms, ALARMS.c.note)
                query = query.where(
                    ALARMS.c.meter_id.in_(chunk),
                    ALARMS.c.rule == "offline",
                    ALARMS.c.state.in_(ALARM_OPEN_STATES),
                )
                for alarm_id, meter_id, created_ms, note in session.execute(query):
                    if heard[meter_id] < created_ms:
                        continue
                    changes.append(
                        {"b_id": alarm_id, "b_note": f"{note}\n{line}" if note else line}
                    )
                    audits.append(
                        audit_row(
                            SAFETY_ACTOR, "alarm.clear", f"alarm:{alarm_id}", HEARD_AGAIN, now_ms
                        )
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
                _view(AlarmView, alarm)
                for chunk in in_chunks(ids)
                for alarm in session.scalars(select(Alarm).where(Alarm.id.in_(chunk)))
            ]

        return self._run(work)

    def assign_alarm(
        self, alarm_id: int, assignee: str, actor: Actor, note: str, now_ms: int
    ) -> AlarmView:
        """Give an open alarm to an operator (an enabled account of role operator or
        above), audited. Reassigning replaces the assignee."""
        account = self.accounts.get(assignee)
        if account.disabled or not role_at_least(account.role, "operator"):
            raise Conflict(f"{assignee} cannot take alarms (disabled, or not an operator)")

        def assign(alarm: Alarm) -> None:
            _after(alarm, "assign")
            alarm.assigned_to, alarm.assigned_ms = assignee, now_ms

        text = f"assigned to {assignee}" + (f": {note}" if note else "")
        return self._change_alarm(alarm_id, actor, "alarm.assign", text, now_ms, assign)

    def comment_alarm(self, alarm_id: int, actor: Actor, text: str, now_ms: int) -> AlarmView:
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
    ) -> AlarmView:
        """One operator change of an alarm: the change, the note and the audit entry in
        one transaction."""

        def work(session: Session) -> AlarmView:
            alarm = _alarm(session, alarm_id)
            change(alarm)
            _change(session, alarm, actor, action, text, now_ms)
            session.flush()
            return _view(AlarmView, alarm)

        try:
            return self._run(work)
        except Conflict as exc:  # acting on a cleared alarm: refused, and on the record
            detail = {"refused": str(exc)}
            self.audit(actor, f"{action}.refused", f"alarm:{alarm_id}", text, detail, now_ms)
            raise

    def get_alarm(self, alarm_id: int) -> AlarmView:
        return self._run(lambda s: _view(AlarmView, _alarm(s, alarm_id)))

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

    def alarms_changed_since(self, since_ms: int, limit: int = 500) -> list[AlarmView]:
        return self._changed_since(Alarm, AlarmView, since_ms, limit)

    def commands_changed_since(self, since_ms: int, limit: int = 500) -> list[CommandView]:
        return self._changed_since(Command, CommandView, since_ms, limit)

    def _changed_since(
        self, model: type[Alarm] | type[Command], view: type[V], since_ms: int, limit: int
    ) -> list[V]:
        """Rows changed at or after ``since_ms``, oldest change first (the live feed)."""
        query = (
            select(model)
            .where(model.updated_ms >= since_ms)
            .order_by(model.updated_ms, model.id)
            .limit(limit)
        )
        return self._run(lambda s: [_view(view, row) for row in s.scalars(query)])

    def list_alarms(
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
        return self._run(lambda s: [_view(AlarmView, a) for a in s.scalars(query)])

    def open_alarm_counts(self) -> list[AlarmCount]:
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

    # -- dead letters, events, audit ------------------------------------------------------

    def add_dead_letters(self, letters: Sequence[NewDeadLetter]) -> None:
        if not letters:
            return

        def work(session: Session) -> None:
            session.add_all(
                DeadLetter(
                    received_ms=letter.received_ms,
                    topic=letter.topic,
                    code=letter.code,
                    reason=letter.reason,
                    payload=letter.payload[:DEAD_LETTER_PAYLOAD_LIMIT],
                    payload_size=len(letter.payload),
                )
                for letter in letters
            )

        self._run(work)

    def expire_dead_letters(self, before_ms: int, limit: int = 5_000) -> int:
        """Delete up to ``limit`` dead letters received before ``before_ms`` (the
        retention); how many went."""
        old = select(DeadLetter.id).where(DeadLetter.received_ms < before_ms).limit(limit)

        def work(session: Session) -> int:
            ids = list(session.scalars(old))
            if ids:
                session.execute(delete(DeadLetter).where(DeadLetter.id.in_(ids)))
            return len(ids)

        return self._run(work)

    def list_dead_letters(
        self, offset: int = 0, limit: int = 100, code: str | None = None
    ) -> list[DeadLetterView]:
        query = select(DeadLetter).order_by(DeadLetter.id.desc()).offset(offset).limit(limit)
        if code is not None:
            query = query.where(DeadLetter.code == code)
        return self._run(lambda s: [_view(DeadLetterView, d) for d in s.scalars(query)])

    def count_dead_letters(self) -> int:
        return int(self._run(lambda s: s.scalar(select(func.count()).select_from(DeadLetter))) or 0)

    def add_events(self, events: Sequence[MeterEvent], received_ms: int) -> None:
        if not events:
            return
        self._run(
            lambda s: s.add_all(
                MeterEventRow(
                    meter_id=e.meter_id, ts_ms=e.ts_ms, event=e.event, received_ms=received_ms
                )
                for e in events
            )
        )

    def sign_out_account(self, username: str, actor: Actor, now_ms: int) -> None:
        """Every session of the account ends now (an admin's order), audited."""
        self.accounts.sign_out_everywhere(username)  # NotFound for an unknown account
        self.audit(actor, "user.sign_out_everywhere", f"user:{username}", "", {}, now_ms)

    def unlock_account(self, username: str, actor: Actor, now_ms: int) -> None:
        """An account locked out by failed sign-ins may try again now, audited."""
        self.accounts.get(username)  # NotFound for an unknown account
        self.attempt_limits.clear(account_key(username))
        self.audit(actor, "user.unlock", f"user:{username}", "", {}, now_ms)

    def audit(
        self,
        actor: Actor,
        action: str,
        target: str,
        reason: str,
        detail: dict[str, Any],
        now_ms: int,
    ) -> None:
        self._run(lambda s: add_audit(s, actor, action, target, reason, now_ms, detail))

    def audit_entries(self, offset: int = 0, limit: int = 100) -> list[AuditView]:
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).offset(offset).limit(limit)
        return self._run(lambda s: [_view(AuditView, e) for e in s.scalars(query)])
