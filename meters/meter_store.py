"""The meters: provisioning, what ingest saw of each (last seen, valve, status, batch
sequence), pages and counts for the API. Each method is one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    String,
    Table,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from contract.alarms import ALARM_OPEN_STATES
from contract.profiles import DEFAULT_DEVICE_PROFILE, MeterProfile
from contract.thresholds import Thresholds
from meters.audit import add_audit
from meters.command_store import ensure_key, meter_of
from meters.completeness import MeterExpectation
from meters.db import Transactions, as_view, in_chunks
from meters.errors import Conflict
from meters.fleet_import import ImportedMeter, RowError
from meters.lifecycle import ENDED, LifecycleStep, next_state, refusal
from meters.models import VALVE_RANK, Alarm, ConnectionApplication, Meter
from meters.places import PLACE_FIELDS
from meters.views import INGEST_ACTOR, Actor, ImportReport, MeterCounts, MeterView


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


@dataclass(frozen=True, slots=True)
class ProfileChange:
    profile: MeterProfile
    lifecycle: str
    changed_ms: int

    @property
    def in_service(self) -> bool:
        return self.lifecycle not in ENDED


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


MAX_KEYS_PER_ORDER = 500  # one installer's job, never the fleet


class MeterStore:
    def __init__(self, transactions: Transactions) -> None:
        self._run = transactions.run

    def provision(self, profiles: Iterable[MeterProfile], now_ms: int) -> None:
        """Create or update meters with their model, category, report interval and device
        profile."""

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
                meter.device_profile = profile.device_profile
                meter.profile_ms = now_ms
                ensure_key(meter)

        self._run(work)

    def import_meters(
        self, meters: list[ImportedMeter], actor: Actor, now_ms: int, dry_run: bool = False
    ) -> ImportReport:
        """The factory's validated rows, in one transaction: each meter created in stock
        (audited), or left as it is when it is already there as the row says. A meter
        that is there otherwise, or an IMEI or address another meter has, refuses the
        whole file (its line named): nothing is half-imported, and importing a file twice
        changes nothing. ``dry_run``: the same checks, nothing written."""

        def work(session: Session) -> ImportReport:
            created, unchanged, errors = [], [], []
            for chunk in in_chunks(meters):
                existing = _existing(session, chunk)
                for row in chunk:
                    clash = _clash(row, existing)
                    if clash is not None:
                        errors.append(str(clash))
                    elif row.profile.meter_id in existing["id"]:
                        unchanged.append(row.profile.meter_id)
                    else:
                        created.append(row.profile.meter_id)
            if errors:
                return ImportReport(errors=tuple(errors), dry_run=dry_run)
            if not dry_run:
                made = set(created)
                for row in (r for r in meters if r.profile.meter_id in made):
                    session.add(_new_meter(row, now_ms))
                    detail = {"line": row.line, "profile": row.profile.device_profile}
                    target = f"meter:{row.profile.meter_id}"
                    add_audit(
                        session, actor, "meter.import", target, "delivery file", now_ms, detail
                    )
            return ImportReport(tuple(created), tuple(unchanged), dry_run=dry_run)

        return self._run(work)

    def lifecycle_step(
        self, meter_id: str, request: LifecycleStep, actor: Actor, now_ms: int
    ) -> MeterView:
        """Take one step of the meter's life (meters.lifecycle), audited; ``Conflict`` when
        it cannot follow the meter's state. A replacement moves the new meter (in stock)
        to installed in its place, with both registers recorded; a removal or replacement
        revokes the old meter's MQTT account."""

        def work(session: Session) -> MeterView | str:
            meter = meter_of(session, meter_id)
            refused = refusal(meter.lifecycle, request)
            if refused is not None:
                return refused
            detail: dict[str, Any] = {"from": meter.lifecycle}
            if request.step == "replace":
                assert request.new_meter_id is not None  # refusal() checked it
                new = session.get(Meter, request.new_meter_id)
                if new is None or new.lifecycle != "in_stock":
                    state = "not registered" if new is None else new.lifecycle
                    return f"the new meter {request.new_meter_id} is {state}, not in stock"
                new.lifecycle, new.lifecycle_ms = "installed", now_ms
                new.category = meter.category  # the customer's, not the meter's: the rules'
                new.profile_ms = now_ms  # bands go on across the swap
                new.installer = actor.username
                new.location = new.location or meter.location
                for name in PLACE_FIELDS:  # the new meter hangs where the old one did
                    if getattr(new, name) is None:
                        setattr(new, name, getattr(meter, name))
                new.replaces, new.register_start_m3 = meter.id, request.new_register_m3
                meter.replaced_by = new.id
                detail |= {
                    "new_meter": new.id,
                    "new_register_m3": request.new_register_m3,
                    "connections": _move_connections(session, meter.id, new.id),
                }
                add_audit(
                    session,
                    actor,
                    "meter.install",
                    f"meter:{new.id}",
                    request.reason,
                    now_ms,
                    {"replaces": meter.id},
                )
            if request.step == "install":
                meter.installer = request.installer
                meter.location = request.location or meter.location
                detail["installer"] = request.installer
            if request.step in ("remove", "replace"):
                meter.register_end_m3 = request.register_m3
                meter.mqtt_revoked_ms = now_ms  # it can no longer log in (at the next export)
                detail |= {"register_m3": request.register_m3, "mqtt": "revoked"}
            meter.lifecycle, meter.lifecycle_ms = next_state(request), now_ms
            meter.profile_ms = now_ms
            detail["to"] = meter.lifecycle
            target = f"meter:{meter.id}"
            add_audit(
                session, actor, f"meter.{request.step}", target, request.reason, now_ms, detail
            )
            return as_view(MeterView, meter)

        outcome = self._run(work)
        if isinstance(outcome, str):
            raise Conflict(outcome)
        return outcome

    def set_thresholds(
        self, meter_id: str, own: Thresholds, actor: Actor, reason: str, now_ms: int
    ) -> MeterView:
        """The meter's own firmware thresholds, over its profile's (replacing those it had;
        empty: the profile's alone), audited. The meter holds them once a parameter
        download carried them and it confirmed."""

        def work(session: Session) -> MeterView:
            meter = meter_of(session, meter_id)
            detail = {"from": meter.thresholds or {}, "to": own.as_dict()}
            meter.thresholds = own.as_dict() or None
            target = f"meter:{meter_id}"
            add_audit(session, actor, "meter.thresholds", target, reason, now_ms, detail)
            return as_view(MeterView, meter)

        return self._run(work)

    def export_keys(
        self, meter_ids: list[str], work_order: str, actor: Actor, now_ms: int
    ) -> dict[str, str]:
        """The command keys of one work order's meters, for the installer's tool: at most
        ``MAX_KEYS_PER_ORDER`` meters, each in stock or installed (a meter in service or
        removed has no business in an installer's hands); each export audited with its
        work order. ``Conflict`` names the first meter that may not go."""
        if not 1 <= len(meter_ids) <= MAX_KEYS_PER_ORDER:
            raise Conflict(f"a work order's export holds 1 to {MAX_KEYS_PER_ORDER} meters")
        if not work_order.strip():
            raise Conflict("the work order is needed: keys go to one installer's job")

        def work(session: Session) -> dict[str, str] | str:
            meters = [meter_of(session, meter_id) for meter_id in meter_ids]
            for meter in meters:  # every one checked before anything is written
                if meter.lifecycle not in ("in_stock", "installed"):
                    return f"meter {meter.id} is {meter.lifecycle}: its key is not for an installer"
            keys = {}
            for meter in meters:
                meter_id = meter.id
                keys[meter_id] = ensure_key(meter)
                detail = {"work_order": work_order}
                add_audit(
                    session,
                    actor,
                    "meter.key_export",
                    f"meter:{meter_id}",
                    work_order,
                    now_ms,
                    detail,
                )
            return keys

        outcome = self._run(work)
        if isinstance(outcome, str):
            raise Conflict(outcome)
        return outcome

    def commission_seen(self, seen: Mapping[str, int], now_ms: int) -> list[str]:
        """Installed meters of ``seen`` (meter id -> the time of its first accepted
        reading) are commissioned by it, audited; their ids."""

        def work(session: Session) -> list[str]:
            installed = set(session.scalars(select(Meter.id).where(Meter.lifecycle == "installed")))
            done = sorted(installed & set(seen))
            for meter in session.scalars(select(Meter).where(Meter.id.in_(done))):
                meter.lifecycle, meter.lifecycle_ms = "commissioned", seen[meter.id]
                detail = {"from": "installed", "to": "commissioned", "reading_ms": seen[meter.id]}
                target = f"meter:{meter.id}"
                add_audit(
                    session,
                    INGEST_ACTOR,
                    "meter.commission",
                    target,
                    "first verified uplink",
                    now_ms,
                    detail,
                )
            return done

        return self._run(work)

    def device_profiles(self) -> dict[str, str]:
        """The meters that speak another profile than gasguard's JSON, and theirs."""
        query = select(Meter.id, Meter.device_profile).where(
            Meter.device_profile != DEFAULT_DEVICE_PROFILE
        )
        return self._run(lambda s: {row[0]: row[1] for row in s.execute(query).all()})

    def profile_changes(self, since_ms: int) -> list[ProfileChange]:
        """The meters whose profile for the rules or whose life changed at or after
        ``since_ms`` (0: every meter), for a running engine to follow."""
        query = select(
            Meter.id,
            Meter.model,
            Meter.category,
            Meter.report_interval_s,
            Meter.device_profile,
            Meter.lifecycle,
            Meter.profile_ms,
        ).where(Meter.profile_ms >= since_ms)

        def work(session: Session) -> list[ProfileChange]:
            return [
                ProfileChange(MeterProfile(*row[:5]), row[5], row[6])  # type: ignore[arg-type]
                for row in session.execute(query).all()
            ]

        return self._run(work)

    def expectations(self) -> list[MeterExpectation]:
        """The report interval and join time of every meter heard at least once and in
        service (for data completeness: a meter provisioned but never heard is not in
        service yet; one removed or replaced, no longer)."""
        query = select(
            Meter.id, Meter.report_interval_s, Meter.created_ms, Meter.missing_batches
        ).where(Meter.last_seen_ms.is_not(None), Meter.lifecycle.not_in(ENDED))
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

    def find(
        self,
        offset: int = 0,
        limit: int = 100,
        valve: str | None = None,
        order: Literal["id", "valve"] = "id",
        district: str | None = None,
        pressure_zone: str | None = None,
    ) -> list[MeterView]:
        """A page of meters by id, or with ``order="valve"`` closed valves first, then
        faulted, open and never reported (by id within each; read from an index)."""
        keys: tuple[Any, ...] = (Meter.id,)
        if order == "valve":
            keys = (literal_column(VALVE_RANK), Meter.id)
        query = select(Meter).order_by(*keys).offset(offset).limit(limit)
        if valve is not None:
            query = query.where(Meter.valve == valve)
        if district is not None:
            query = query.where(Meter.district == district)
        if pressure_zone is not None:
            query = query.where(Meter.pressure_zone == pressure_zone)
        return self._run(lambda s: [as_view(MeterView, m) for m in s.scalars(query)])

    def counts(self) -> MeterCounts:
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

    def count(self, valve: str | None = None) -> int:
        query = select(func.count()).select_from(Meter)
        if valve is not None:
            query = query.where(Meter.valve == valve)
        return int(self._run(lambda s: s.scalar(query)) or 0)

    def get(self, meter_id: str) -> MeterView:
        return self._run(lambda s: as_view(MeterView, meter_of(s, meter_id)))


def _existing(session: Session, chunk: Sequence[ImportedMeter]) -> dict[str, dict[str, Meter]]:
    """The meters the rows name, by id, by IMEI and by address."""
    ids = [r.profile.meter_id for r in chunk]
    imeis = [r.imei for r in chunk if r.imei]
    addresses = [r.address for r in chunk if r.address]
    query = select(Meter).where(
        or_(
            Meter.id.in_(ids),
            Meter.imei.in_(imeis),
            Meter.network_address.in_(addresses),
        )
    )
    found = list(session.scalars(query))
    return {
        "id": {m.id: m for m in found},
        "imei": {m.imei: m for m in found if m.imei},
        "address": {m.network_address: m for m in found if m.network_address},
    }


def _clash(row: ImportedMeter, existing: dict[str, dict[str, Meter]]) -> RowError | None:
    """Why the row cannot be imported beside what the registry holds, or None."""
    meter_id = row.profile.meter_id
    for field, value in (("imei", row.imei), ("address", row.address)):
        other = existing[field].get(value) if value else None
        if other is not None and other.id != meter_id:
            return RowError(row.line, field, f"{value} is meter {other.id}'s already")
    meter = existing["id"].get(meter_id)
    if meter is None:
        return None
    wanted: dict[str, object] = {
        "model": row.profile.model,
        "category": row.profile.category,
        "report_interval_s": row.profile.report_interval_s,
        "profile": row.profile.device_profile,
        "imei": row.imei,
        "address": row.address,
        "iccid": row.iccid,
        "location": row.location,
        **row.place.as_dict(),
    }
    held: dict[str, object] = {
        "model": meter.model,
        "category": meter.category,
        "report_interval_s": meter.report_interval_s,
        "profile": meter.device_profile,
        "imei": meter.imei,
        "address": meter.network_address,
        "iccid": meter.iccid,
        "location": meter.location,
        **{name: getattr(meter, name) for name in PLACE_FIELDS},
    }
    for name, in_file in wanted.items():
        if held[name] != in_file:
            message = (
                f"meter {meter_id} is registered with {held[name]!r}, the file says {in_file!r}"
            )
            return RowError(row.line, name, message)
    return None


def _move_connections(session: Session, old_id: str, new_id: str) -> list[str]:
    """The connection records (报装) of the meter replaced now name the meter that took
    its place (the customer gets gas through it); their numbers."""
    records = session.scalars(
        select(ConnectionApplication).where(ConnectionApplication.meter_id == old_id)
    ).all()
    for record in records:
        record.meter_id = new_id
    return [record.number for record in records]


def _new_meter(row: ImportedMeter, now_ms: int) -> Meter:
    profile = row.profile
    meter = Meter(
        id=profile.meter_id,
        created_ms=now_ms,
        lifecycle="in_stock",
        lifecycle_ms=now_ms,
        profile_ms=now_ms,
        model=profile.model,
        category=profile.category,
        report_interval_s=profile.report_interval_s,
        device_profile=profile.device_profile,
        imei=row.imei,
        iccid=row.iccid,
        network_address=row.address,
        location=row.location,
        secret_key=row.key,
        **row.place.as_dict(),
    )
    ensure_key(meter)
    return meter
