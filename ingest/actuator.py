"""Carries out the safety engine's decisions: an alarm in the registry, and for a shutoff
a close command, queued in the registry (joining one already in flight) and published."""

from __future__ import annotations

import logging

from ingest.commands import CommandPublisher
from meters.protocol import Command
from meters.registry import Registry
from meters.views import SAFETY_ACTOR, Actor
from safety.domain import Decision

log = logging.getLogger(__name__)


class Actuator:
    def __init__(self, registry: Registry, publisher: CommandPublisher) -> None:
        self._registry = registry
        self._publisher = publisher

    def execute(self, decision: Decision, now_ms: int) -> None:
        alarm, new_alarm = self._registry.record_decision(decision, now_ms)
        log.warning(
            "%s alarm %s: meter %s rule %s action %s detail %s",
            "new" if new_alarm else "repeat",
            alarm.id,
            decision.meter_id,
            decision.rule,
            decision.action,
            decision.detail,
        )
        if decision.action == "shutoff":
            self.close_valve(
                decision.meter_id, f"{decision.rule} (alarm {alarm.id})", SAFETY_ACTOR, now_ms
            )

    def close_valve(self, meter_id: str, reason: str, actor: Actor, now_ms: int) -> str:
        command, created = self._registry.create_command(
            meter_id, "close", reason, actor.username, now_ms
        )
        if not created:
            log.info("close for meter %s joins command %s in flight", meter_id, command.id)
            return command.id
        self._publisher.publish(Command(command.id, meter_id, "close", now_ms, reason))
        self._registry.mark_command_sent(command.id, now_ms)
        self._registry.audit(
            actor, "command.close", f"meter:{meter_id}", reason, {"command": command.id}, now_ms
        )
        log.warning("close command %s sent to meter %s: %s", command.id, meter_id, reason)
        return command.id
