"""The command publisher interface and its MQTT implementation."""

from __future__ import annotations

from typing import Protocol

import paho.mqtt.client as paho

from meters.protocol import Command, topic


class CommandPublisher(Protocol):
    def publish(self, command: Command) -> None:
        """Hand ``command`` to the transport (QoS 1); it is resent after a reconnect."""


class MqttCommandPublisher:
    def __init__(self, client: paho.Client) -> None:
        self._client = client

    def publish(self, command: Command) -> None:
        self._client.publish(topic(command.meter_id, "commands"), command.to_payload(), qos=1)
