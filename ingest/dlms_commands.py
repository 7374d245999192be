"""Commands to DLMS/COSEM meters over MQTT: the association, the action on the disconnect
control (or the SETs of a parameter download or a time set) and the release (the pure
exchange: devices.dlms_commands), one exchange in flight per meter. Requests go on the
meter's ``dlms-down``; its answers come on ``dlms`` beside its pushes. The exchange lives
in memory: after a restart the dispatcher's resend of the command begins a new one. A
time set is no command: its outcome is logged, and the meter's clock is judged afresh
from its next uplinks."""

from __future__ import annotations

import logging
import threading
from typing import Literal

from contract.protocol import Command, SequenceReply, topic
from devices import dlms_commands
from devices.dlms_commands import Exchange
from devices.errors import CodecError
from devices.profiles import DeviceProfile
from ingest.errors import UnsupportedCommand
from transport.errors import PublishRefused
from transport.mqtt import MqttSession

log = logging.getLogger(__name__)
NO_EXCHANGE: Literal["unknown_command"] = "unknown_command"


class DlmsCommands:
    def __init__(self, session: MqttSession) -> None:
        self._session = session
        self._exchanges: dict[str, Exchange] = {}
        self._lock = threading.Lock()

    def send(self, command: Command, profile: DeviceProfile) -> None:
        """Begin the command's exchange (a resend begins it again): the AARQ."""
        try:
            association = dlms_commands.association_of(profile.options)
            if command.action == "params":
                writes = dlms_commands.threshold_writes(command.params, profile.options)
                exchange, request = dlms_commands.start_writes(writes, association)
            else:
                exchange, request = dlms_commands.start(command.action, association)
        except CodecError as exc:
            raise UnsupportedCommand(f"meter {command.meter_id}: {exc}") from exc
        with self._lock:
            self._exchanges[command.meter_id] = exchange
        self._session.publish(topic(command.meter_id, "dlms-down"), request, qos=1)

    def set_clock(self, meter_id: str, now_ms: int, profile: DeviceProfile) -> bool:
        """Begin a time set (a SET of the meter's clock to ``now_ms``), unless a command's
        exchange is in flight for the meter (the time set would break it off: the drift
        stays flagged, and a later finding sets it). Whether it began."""
        try:
            association = dlms_commands.association_of(profile.options)
        except CodecError as exc:
            log.error("meter %s: no time set: %s", meter_id, exc)
            return False
        exchange, request = dlms_commands.start_writes(
            dlms_commands.clock_write(now_ms), association
        )
        with self._lock:
            in_flight = self._exchanges.get(meter_id)
            if in_flight is not None and not in_flight.time_set:
                return False
            self._exchanges[meter_id] = exchange
        self._session.publish(topic(meter_id, "dlms-down"), request, qos=1)
        return True

    def on_answer(
        self, meter_id: str, answer: bytes, now_ms: int
    ) -> SequenceReply | Literal["unknown_command"] | None:
        """The meter's answer: the next request sent, and the command's outcome once the
        meter answered the action (a reply for the meter's command in flight). Raises
        ``CodecError`` for an answer that does not fit the exchange (which then ends)."""
        with self._lock:
            exchange = self._exchanges.get(meter_id)
            if exchange is None:
                return NO_EXCHANGE
            try:
                after, request, outcome = dlms_commands.advance(exchange, answer)
            except CodecError:
                self._exchanges.pop(meter_id, None)
                raise
            if after is None:
                self._exchanges.pop(meter_id, None)
            else:
                self._exchanges[meter_id] = after
        if request is not None:
            try:
                self._session.publish(topic(meter_id, "dlms-down"), request, qos=1)
            except PublishRefused as exc:  # the command's resend begins the exchange again
                log.error("meter %s: DLMS request not sent: %s", meter_id, exc)
        if outcome is None:
            return None
        result, error = outcome
        if exchange.time_set:  # no command's: the clock watch sees whether it took
            log.warning("meter %s: DLMS time set %s %s", meter_id, result, error or "")
            return None
        return SequenceReply(meter_id, None, result, now_ms, error)
