"""Connection applications (报装) in the registry: creation, pauses, the survey (stage one),
commissioning a meter and gas-on from its first flow (stage two). The law they are judged
by is the ``connections`` package's. Each method is one transaction; changes are audited."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import secrets
import uuid
from collections.abc import Callable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from connections.applications import ApplicationView, NewApplication, PauseView
from connections.fees import FeeCharge
from connections.query_codes import RANDOM_BYTES, code_hash, format_code, normalise
from connections.timelimits import LOCAL
from meters.audit import add_audit
from meters.db import Transactions, fetch
from meters.errors import Conflict
from meters.models import (
    Address,
    ConnectionApplication,
    ConnectionPause,
    ConnectionWarning,
    Customer,
    Meter,
)
from meters.views import SAFETY_ACTOR, Actor


def _view(session: Session, app: ConnectionApplication) -> ApplicationView:
    customer = session.get(Customer, app.customer_id)
    address = session.get(Address, app.address_id)
    assert customer is not None and address is not None  # foreign keys
    pauses = session.scalars(
        select(ConnectionPause)
        .where(ConnectionPause.application_id == app.id)
        .order_by(ConnectionPause.start_ms)
    )
    return ApplicationView(
        id=app.id,
        number=app.number,
        policy=app.policy,
        category=app.category,
        channel=app.channel,
        applicant=customer.name,
        phone=customer.phone,
        address=address.text,
        district=address.district,
        submitted_ms=app.submitted_ms,
        surveyed_ms=app.surveyed_ms,
        gas_on_ms=app.gas_on_ms,
        meter_id=app.meter_id,
        fee_application=app.fee_application,
        fee_gas_on=app.fee_gas_on,
        state=app.state,
        pauses=tuple(PauseView(p.id, p.start_ms, p.end_ms, p.reason, p.evidence) for p in pauses),
        pipe_length_m=app.pipe_length_m,
        affects_others=app.affects_others,
        commissioned_ms=app.commissioned_ms,
        first_flow_ms=app.first_flow_ms,
        gas_on_recorded_ms=app.gas_on_recorded_ms,
        flow_before_commission_ms=app.flow_before_commission_ms,
        fees=tuple(FeeCharge(f["item"], f["amount"]) for f in app.fees or ()),
        missing_documents=tuple(app.missing_documents or ()),
        documents_due_ms=app.documents_due_ms,
        documents_complete_ms=_documents_complete_ms(app),
    )


def _documents_complete_ms(app: ConnectionApplication) -> int | None:
    """When the documents were complete: at acceptance when none were missing (or they
    were handed in before the time was recorded, migration 0018); None while missing."""
    if app.missing_documents:
        return None
    return app.documents_complete_ms or app.submitted_ms


def _new_code(app: ConnectionApplication) -> str:
    code = format_code(secrets.token_bytes(RANDOM_BYTES))
    app.query_code_hash = code_hash(code)
    return code


def _application(session: Session, application_id: int) -> ConnectionApplication:
    missing = f"connection application {application_id} does not exist"
    return fetch(session, ConnectionApplication, application_id, missing)


def _open_pause(session: Session, application_id: int) -> ConnectionPause | None:
    return session.scalars(
        select(ConnectionPause).where(
            ConnectionPause.application_id == application_id, ConnectionPause.end_ms.is_(None)
        )
    ).first()


class ConnectionStore:
    def __init__(self, transactions: Transactions) -> None:
        self._run = transactions.run

    def create(self, new: NewApplication, actor: Actor, now_ms: int) -> ApplicationView:
        def work(session: Session) -> ApplicationView:
            customer = Customer(name=new.applicant, phone=new.phone, created_ms=now_ms)
            address = Address(text=new.address, district=new.district, created_ms=now_ms)
            session.add_all([customer, address])
            session.flush()
            submitted = new.submitted_ms if new.submitted_ms is not None else now_ms
            year = dt.datetime.fromtimestamp(submitted / 1000, LOCAL).year
            app = ConnectionApplication(
                number=f"pending-{uuid.uuid4().hex[:24]}",  # replaced once the id is known
                policy=new.policy,
                category=new.category,
                channel=new.channel,
                customer_id=customer.id,
                address_id=address.id,
                submitted_ms=submitted,
                fee_application=new.fee_application,
                fee_gas_on=new.fee_gas_on,
                pipe_length_m=new.pipe_length_m,
                affects_others=new.affects_others,
                missing_documents=list(new.missing_documents) or None,
                documents_due_ms=new.documents_due_ms,
                state="open",
                created_ms=now_ms,
                updated_ms=now_ms,
            )
            session.add(app)
            session.flush()
            # numbered by the row's own id: unique however many are created at once (a
            # count of the rows gave two concurrent applications the same number)
            app.number = f"{new.policy[:2].upper()}{year}{app.id:07d}"
            code = _new_code(app)
            session.flush()
            add_audit(session, actor, "connection.create", f"connection:{app.number}", "", now_ms)
            return dataclasses.replace(_view(session, app), query_code=code)

        return self._run(work)

    def new_query_code(
        self, application_id: int, actor: Actor, reason: str, now_ms: int
    ) -> ApplicationView:
        """A new public query code (a lost receipt, or an application from before codes):
        the old one stops working at once."""

        def work(session: Session) -> ApplicationView:
            app = _application(session, application_id)
            code = _new_code(app)
            app.updated_ms = now_ms
            target = f"connection:{app.number}"
            add_audit(session, actor, "connection.query_code", target, reason, now_ms)
            return dataclasses.replace(_view(session, app), query_code=code)

        return self._run(work)

    def get(self, application_id: int) -> ApplicationView:
        return self._run(lambda s: _view(s, _application(s, application_id)))

    def find(
        self,
        state: str | None = None,
        offset: int = 0,
        limit: int = 100,
        meter_id: str | None = None,
    ) -> list[ApplicationView]:
        query = select(ConnectionApplication).order_by(ConnectionApplication.id.desc())
        if state is not None:
            query = query.where(ConnectionApplication.state == state)
        if meter_id is not None:
            query = query.where(ConnectionApplication.meter_id == meter_id)
        query = query.offset(offset).limit(limit)
        return self._run(lambda s: [_view(s, a) for a in s.scalars(query)])

    def done_between(self, start_ms: int, end_ms: int) -> list[ApplicationView]:
        """Applications that reached gas-on in [start, end) (the indicator report)."""
        query = select(ConnectionApplication).where(
            ConnectionApplication.gas_on_ms >= start_ms, ConnectionApplication.gas_on_ms < end_ms
        )
        return self._run(lambda s: [_view(s, a) for a in s.scalars(query)])

    def lookup(self, number: str, query_code: str) -> ApplicationView | None:
        """The public progress lookup: the application number and its query code (as the
        applicant typed it) must both match; None otherwise."""
        typed = normalise(query_code)

        def work(session: Session) -> ApplicationView | None:
            app = session.scalars(
                select(ConnectionApplication).where(ConnectionApplication.number == number)
            ).first()
            if app is None or app.query_code_hash is None or typed is None:
                return None
            if not hmac.compare_digest(app.query_code_hash, code_hash(typed)):
                return None
            return _view(session, app)

        return self._run(work)

    def _change(
        self,
        application_id: int,
        actor: Actor,
        action: str,
        reason: str,
        now_ms: int,
        change: Callable[[Session, ConnectionApplication], None],
    ) -> ApplicationView:
        def work(session: Session) -> ApplicationView:
            app = _application(session, application_id)
            change(session, app)
            app.updated_ms = now_ms
            add_audit(session, actor, action, f"connection:{app.number}", reason, now_ms)
            session.flush()
            return _view(session, app)

        return self._run(work)

    def pause(
        self, application_id: int, actor: Actor, reason: str, now_ms: int, evidence: str = ""
    ) -> ApplicationView:
        """The clock stops for ``reason`` (connections.pauses), with its evidence (a note or
        a document reference), both audited."""

        def change(session: Session, app: ConnectionApplication) -> None:
            open_pause = _open_pause(session, app.id)
            if open_pause is not None:
                raise Conflict(f"application {app.number} is already paused")
            pause = ConnectionPause(
                application_id=app.id, start_ms=now_ms, reason=reason, evidence=evidence
            )
            session.add(pause)

        why = f"{reason}: {evidence}" if evidence else reason
        return self._change(application_id, actor, "connection.pause", why, now_ms, change)

    def resume(self, application_id: int, actor: Actor, now_ms: int) -> ApplicationView:
        def change(session: Session, app: ConnectionApplication) -> None:
            open_pause = _open_pause(session, app.id)
            if open_pause is None:
                raise Conflict(f"application {app.number} is not paused")
            open_pause.end_ms = now_ms

        return self._change(application_id, actor, "connection.resume", "", now_ms, change)

    def surveyed(self, application_id: int, actor: Actor, now_ms: int) -> ApplicationView:
        """Stage one (用气报装: application and survey) is complete."""

        def change(_session: Session, app: ConnectionApplication) -> None:
            if app.surveyed_ms is not None:
                raise Conflict(f"application {app.number} was surveyed already")
            app.surveyed_ms = now_ms

        return self._change(application_id, actor, "connection.surveyed", "", now_ms, change)

    def commission(
        self,
        application_id: int,
        meter_id: str,
        actor: Actor,
        now_ms: int,
        flow_before_ms: int | None = None,
    ) -> ApplicationView:
        """Link the meter through which the customer gets gas; its first reading with flow
        after now confirms the utility's gas-on (``record_gas_on``). ``flow_before_ms``:
        the earliest flow it already showed (gas before commissioning: flagged)."""

        def change(session: Session, app: ConnectionApplication) -> None:
            if app.meter_id is not None:
                raise Conflict(f"application {app.number} has meter {app.meter_id} already")
            taken = session.scalars(
                select(ConnectionApplication).where(
                    ConnectionApplication.meter_id == meter_id,
                    ConnectionApplication.state == "open",
                )
            ).first()
            if taken is not None:
                raise Conflict(f"meter {meter_id} is commissioned on {taken.number}")
            app.meter_id = meter_id
            app.commissioned_ms = now_ms
            app.flow_before_commission_ms = flow_before_ms
            meter = session.get(Meter, meter_id)
            if meter is not None and meter.installed_ms is None:
                meter.installed_ms = now_ms

        return self._change(
            application_id, actor, "connection.commission", meter_id, now_ms, change
        )

    def warnings_raised(self) -> set[tuple[str, str]]:
        """(application number, state) of every time-limit warning raised so far."""
        query = select(ConnectionWarning.application, ConnectionWarning.state)
        return self._run(lambda s: {(a, state) for a, state in s.execute(query).all()})

    def remember_warning(self, number: str, state: str, now_ms: int) -> None:
        """Record that the warning was raised (after its alarm): a restart does not repeat
        it, and does not forget it."""
        self._run(
            lambda s: s.merge(ConnectionWarning(application=number, state=state, raised_ms=now_ms))
        )

    def add_fee(
        self, application_id: int, item: str, amount: float, actor: Actor, note: str, now_ms: int
    ) -> ApplicationView:
        """A fee charged (besides the application and gas-on fees), audited with its note;
        the caller checks it against the published list (connections.fees)."""

        def change(_session: Session, app: ConnectionApplication) -> None:
            entry = {"item": item, "amount": amount, "at_ms": now_ms, "by": actor.username}
            app.fees = [*(app.fees or []), entry]  # a new list: the JSON column is rewritten

        why = f"{item} {amount:g} yuan" + (f": {note}" if note else "")
        return self._change(application_id, actor, "connection.fee", why, now_ms, change)

    def documents_received(
        self, application_id: int, received: list[str], actor: Actor, now_ms: int
    ) -> ApplicationView:
        """Documents of the missing list (容缺受理) handed in; audited. Naming one that is
        not missing is a Conflict."""

        def change(_session: Session, app: ConnectionApplication) -> None:
            missing = list(app.missing_documents or [])
            unknown = [d for d in received if d not in missing]
            if unknown:
                raise Conflict(f"application {app.number}: {unknown} not on its missing list")
            app.missing_documents = [d for d in missing if d not in received] or None
            if app.missing_documents is None:
                app.documents_complete_ms = now_ms

        why = "received: " + ", ".join(received)
        return self._change(application_id, actor, "connection.documents", why, now_ms, change)

    def awaiting_gas_on(self) -> set[str]:
        """Meters commissioned on open applications, waiting for their first flow."""
        query = select(ConnectionApplication.meter_id).where(
            ConnectionApplication.state == "open",
            ConnectionApplication.meter_id.is_not(None),
            ConnectionApplication.first_flow_ms.is_(None),
        )
        return self._run(lambda s: {m for m in s.scalars(query) if m})

    def first_flow(self, first_flow_ms: Mapping[str, int], now_ms: int) -> list[str]:
        """The commissioned meters' first readings with flow after commissioning (a reading
        of before, arriving late, does not count): the confirmation of gas-on. Completes
        the applications whose gas-on the utility has recorded; returns their numbers."""

        def work(session: Session) -> list[str]:
            done = []
            for meter_id, ts in first_flow_ms.items():
                app = session.scalars(
                    select(ConnectionApplication).where(
                        ConnectionApplication.meter_id == meter_id,
                        ConnectionApplication.state == "open",
                        ConnectionApplication.first_flow_ms.is_(None),
                    )
                ).first()
                if app is None or (app.commissioned_ms is not None and ts < app.commissioned_ms):
                    continue
                app.first_flow_ms, app.updated_ms = ts, now_ms
                target = f"connection:{app.number}"
                detail = {"meter": meter_id, "first_flow_ms": ts}
                why = "the commissioned meter's first flow"
                add_audit(
                    session, SAFETY_ACTOR, "connection.first_flow", target, why, now_ms, detail
                )
                if app.gas_on_recorded_ms is not None:
                    _complete(session, app, SAFETY_ACTOR, now_ms)
                    done.append(app.number)
            return done

        return self._run(work)

    def record_gas_on(
        self, application_id: int, actor: Actor, at_ms: int, now_ms: int
    ) -> ApplicationView:
        """The utility's acceptance and gas-on (验收通气) at ``at_ms``; the application is
        done once the commissioned meter's first flow confirms it (at once if it has)."""

        def change(session: Session, app: ConnectionApplication) -> None:
            if app.meter_id is None:
                raise Conflict(f"application {app.number}: commission its meter first")
            if app.gas_on_recorded_ms is not None or app.state != "open":
                raise Conflict(f"application {app.number}: gas-on is recorded already")
            if not app.submitted_ms <= at_ms <= now_ms:
                raise Conflict(f"application {app.number}: gas-on between acceptance and now")
            app.gas_on_recorded_ms = at_ms
            if app.first_flow_ms is not None:
                _complete(session, app, actor, now_ms)

        why = f"gas on at {at_ms}"
        return self._change(
            application_id, actor, "connection.gas_on_recorded", why, now_ms, change
        )


def _complete(session: Session, app: ConnectionApplication, actor: Actor, now_ms: int) -> None:
    """Stage two ends at the recorded gas-on, confirmed by the meter's first flow."""
    assert app.gas_on_recorded_ms is not None and app.first_flow_ms is not None
    app.gas_on_ms, app.state, app.updated_ms = app.gas_on_recorded_ms, "done", now_ms
    detail = {"gas_on_ms": app.gas_on_ms, "first_flow_ms": app.first_flow_ms}
    why = "recorded gas-on, confirmed by the meter's first flow"
    add_audit(session, actor, "connection.gas_on", f"connection:{app.number}", why, now_ms, detail)
