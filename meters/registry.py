"""The registry: one store per aggregate of what the utility knows, on one database.

Callers reach each through its attribute (``registry.alarms.acknowledge(...)``,
``registry.meters.get(...)``); every method of a store runs in one transaction and
returns frozen views (``meters.views``).
"""

from __future__ import annotations

from sqlalchemy import Engine

from meters.accounts import Accounts
from meters.alarm_store import AlarmStore
from meters.application_store import ConnectionStore
from meters.area_store import AreaStore
from meters.attempt_limits import AttemptLimits
from meters.audit import AuditLog
from meters.command_store import CommandStore
from meters.db import Transactions
from meters.dead_letter_store import DeadLetterStore
from meters.event_store import EventStore
from meters.leases import LeaseStore
from meters.meter_store import MeterSighting, MeterStore
from meters.mqtt_accounts import MqttAccounts
from meters.notification_store import NotificationStore
from meters.worker_health import WorkerHealthStore

__all__ = ["MeterSighting", "Registry"]


class Registry:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        transactions = Transactions(engine)
        self.audit = AuditLog(transactions)
        self.attempt_limits = AttemptLimits(transactions)
        self.accounts = Accounts(transactions, self.attempt_limits)
        self.meters = MeterStore(transactions)
        self.alarms = AlarmStore(transactions, self.accounts, self.audit)
        self.commands = CommandStore(transactions)
        self.dead_letters = DeadLetterStore(transactions)
        self.events = EventStore(transactions)
        self.connections = ConnectionStore(transactions)
        self.workers = WorkerHealthStore(transactions)
        self.leases = LeaseStore(transactions)
        self.mqtt_accounts = MqttAccounts(transactions)
        self.notifications = NotificationStore(transactions)
        self.areas = AreaStore(transactions)
