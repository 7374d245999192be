"""The registry's side of MQTT credentials: which meters may log in, and the generation
of each meter's and each server account's derived password (meters.mqtt_auth). A server
account (gasguard-ingest, gasguard-simulator) is rotated on its own, like a meter: a new
generation, exported, and the process given its new password. Changes are audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from meters.audit import add_audit
from meters.db import Transactions, fetch
from meters.errors import Conflict
from meters.models import Meter, MqttServiceAccount
from meters.mqtt_auth import SERVICE_ACCOUNTS, Credential, is_server_account
from meters.views import Actor


def _meter(session: Session, meter_id: str) -> Meter:
    return fetch(session, Meter, meter_id, f"meter {meter_id} is not registered")


class MqttAccounts:
    def __init__(self, transactions: Transactions) -> None:
        self._run = transactions.run

    def credentials(self) -> list[Credential]:
        """Every meter allowed to log in (not revoked), by id."""
        query = (
            select(Meter.id, Meter.mqtt_generation)
            .where(Meter.mqtt_revoked_ms.is_(None))
            .order_by(Meter.id)
        )
        return self._run(lambda s: [Credential(m, g) for m, g in s.execute(query).all()])

    def credential(self, meter_id: str) -> Credential:
        def work(session: Session) -> Credential:
            meter = _meter(session, meter_id)
            if meter.mqtt_revoked_ms is not None:
                raise Conflict(f"meter {meter_id}'s MQTT access is revoked; reissue it first")
            return Credential(meter.id, meter.mqtt_generation)

        return self._run(work)

    def revoke(self, meter_id: str, actor: Actor, reason: str, now_ms: int) -> None:
        """Leave the meter out of the next export: it can no longer log in."""

        def work(session: Session) -> None:
            meter = _meter(session, meter_id)
            meter.mqtt_revoked_ms = now_ms
            add_audit(session, actor, "mqtt.revoke", f"meter:{meter_id}", reason, now_ms)

        self._run(work)

    def reissue(self, meter_id: str, actor: Actor, reason: str, now_ms: int) -> Credential:
        """A new password (the next generation), and access again if it was revoked."""

        def work(session: Session) -> Credential:
            meter = _meter(session, meter_id)
            meter.mqtt_generation += 1
            meter.mqtt_revoked_ms = None
            detail = {"generation": meter.mqtt_generation}
            add_audit(session, actor, "mqtt.reissue", f"meter:{meter_id}", reason, now_ms, detail)
            return Credential(meter.id, meter.mqtt_generation)

        return self._run(work)

    def service_credentials(self, names: list[str]) -> list[Credential]:
        """The server accounts named (gasguard-ingest, …) at their current generation."""

        def work(session: Session) -> list[Credential]:
            for name in names:
                _service_name(name)
            rows = session.scalars(
                select(MqttServiceAccount).where(MqttServiceAccount.name.in_(names))
            )
            generations = {row.name: row.generation for row in rows}
            return [Credential(name, generations.get(name, 0)) for name in names]

        return self._run(work)

    def reissue_service(self, name: str, actor: Actor, reason: str, now_ms: int) -> Credential:
        """The server account's next password; the old one works until the next export."""

        def work(session: Session) -> Credential:
            _service_name(name)
            row = session.get(MqttServiceAccount, name, with_for_update=True)
            if row is None:
                row = MqttServiceAccount(name=name, generation=0, updated_ms=now_ms)
                session.add(row)
            row.generation += 1
            row.updated_ms = now_ms
            detail = {"generation": row.generation}
            add_audit(session, actor, "mqtt.reissue", f"service:{name}", reason, now_ms, detail)
            return Credential(name, row.generation)

        return self._run(work)


def _service_name(name: str) -> None:
    if not is_server_account(name):
        raise Conflict(f"{name!r} is not a server account ({sorted(SERVICE_ACCOUNTS.values())})")
