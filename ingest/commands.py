"""The command publisher interface and its MQTT implementation."""

from __future__ import annotations

from typing import Protocol

from contract.protocol import Command, topic
from transport.mqtt import MqttSession


class CommandPublisher(Protocol):
    def publish(self, command: Command) -> None:
        """Hand ``command`` to the transport (QoS 1); it is resent after a reconnect.
        Raises ``PublishRefused`` when the transport will not take it (the command then
        stays due and is sent again: ingest.lifecycle)."""


class MqttCommandPublisher:
    def __init__(self, session: MqttSession) -> None:
        self._session = session

    def publish(self, command: Command) -> None:
        self._session.publish(topic(command.meter_id, "commands"), command.to_payload(), qos=1)
