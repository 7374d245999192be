"""The command publisher interface and its implementation, which sends each command in its
meter's own protocol (the meter's device profile: docs/protocols.md): gasguard's signed
JSON or a CJ/T 188 frame on MQTT, or a cached command through an operator platform's API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol

from contract.protocol import Command, SequenceReply, topic
from devices import cjt188
from devices.errors import CodecError
from devices.profiles import DeviceProfile
from ingest.dlms_commands import DlmsCommands
from ingest.errors import UnsupportedCommand
from ingest.platform_commands import PLATFORM_CODECS, PlatformCommands
from transport.mqtt import MqttSession

CJT188_VALVE = {"close": True, "open": False}  # CJ/T 188 has no "arm"


class CommandPublisher(Protocol):
    def publish(self, command: Command) -> str | None:
        """Hand ``command`` to the transport (QoS 1); it is resent after a reconnect.
        Raises ``PublishRefused`` when the transport will not take it (the command then
        stays due and is sent again: ingest.lifecycle), ``UndeliverableCommand`` when it
        can never go as it is (the meter's protocol cannot say it, its platform refused
        it: the command fails). Returns the operator platform's id for the command when
        a platform took it to hold for a sleeping meter (it is not sent again: the
        platform delivers it when the meter wakes); None otherwise."""

    def request_reading(self, meter_id: str) -> None:
        """Ask the meter for a reading now, where its protocol answers requests rather
        than pushing readings (CJ/T 188); nothing for the others."""

    def dlms_answer(
        self, meter_id: str, answer: bytes, now_ms: int
    ) -> SequenceReply | Literal["unknown_command"] | None:
        """A DLMS meter's answer in its command's exchange (ingest.dlms_commands): the
        command's reply once the meter answered the action."""

    def set_clock(self, meter_id: str, now_ms: int) -> bool:
        """Set the meter's clock to ``now_ms`` where its protocol has a time set (CJ/T
        188, DLMS); whether one went out."""


def cjt188_frame(command: Command, edition: cjt188.Edition) -> bytes:
    """The CJ/T 188 valve control for a close or an open; the sequence number is the low
    byte of the command's counter (a resend carries the same one)."""
    if command.action == "params":
        raise UnsupportedCommand(
            "CJ/T 188 defines no write of firmware thresholds (its vendors' own data "
            "identifiers differ): set them at the meter's installation"
        )
    if command.action not in CJT188_VALVE:
        raise UnsupportedCommand(
            f"CJ/T 188 has no {command.action!r}: the valve opens or closes by command only"
        )
    frame = cjt188.valve_request(
        command.meter_id, CJT188_VALVE[command.action], command.counter % 256, edition
    )
    try:
        return cjt188.encode_frame(frame)
    except CodecError as exc:  # the meter id is not a CJ/T 188 address
        raise UnsupportedCommand(f"meter {command.meter_id}: {exc}") from exc


def edition_of(profile: DeviceProfile) -> cjt188.Edition:
    return "2018" if profile.options.get("edition") == "2018" else "2004"


class ProfileCommandPublisher:
    """Each command in its meter's protocol: gasguard's signed JSON on ``commands``, a
    cjt188 meter's frame on ``cjt188-down``, a DLMS meter's association and action on
    ``dlms-down``, a platform meter's command through its platform's API. ``profile_of``
    gives a meter's device profile."""

    def __init__(
        self,
        session: MqttSession,
        profile_of: Callable[[str], DeviceProfile] | None = None,
        platforms: PlatformCommands | None = None,
        dlms: DlmsCommands | None = None,
    ) -> None:
        self._session = session
        self._profile_of = profile_of
        self._platforms = platforms
        self.dlms = dlms or DlmsCommands(session)

    def _profile(self, meter_id: str) -> DeviceProfile | None:
        """The meter's profile when it does not speak gasguard's JSON."""
        if self._profile_of is None:
            return None
        profile = self._profile_of(meter_id)
        return None if profile.codec == "gasguard-json" else profile

    def publish(self, command: Command) -> str | None:
        profile = self._profile(command.meter_id)
        if profile is None:
            payload = command.to_payload()
            self._session.publish(topic(command.meter_id, "commands"), payload, qos=1)
            return None
        if profile.codec in PLATFORM_CODECS:
            if self._platforms is None:
                raise UnsupportedCommand(f"profile {profile.name}: no platform API configured")
            return self._platforms.send(command, profile)
        if profile.codec == "dlms":
            self.dlms.send(command, profile)
            return None
        if profile.codec != "cjt188":
            raise UnsupportedCommand(
                f"profile {profile.name}: {profile.codec} takes no commands yet"
            )
        frame = cjt188_frame(command, edition_of(profile))
        self._session.publish(topic(command.meter_id, "cjt188-down"), frame, qos=1)
        return None

    def dlms_answer(
        self, meter_id: str, answer: bytes, now_ms: int
    ) -> SequenceReply | Literal["unknown_command"] | None:
        return self.dlms.on_answer(meter_id, answer, now_ms)

    def set_clock(self, meter_id: str, now_ms: int) -> bool:
        profile = self._profile(meter_id)
        if profile is not None and profile.codec == "dlms":
            return self.dlms.set_clock(meter_id, now_ms, profile)
        if profile is None or profile.codec != "cjt188":
            return False
        serial = (now_ms // 1000) % 256
        request = cjt188.clock_request(meter_id, now_ms, serial, edition_of(profile))
        self._session.publish(topic(meter_id, "cjt188-down"), cjt188.encode_frame(request), qos=1)
        return True

    def request_reading(self, meter_id: str) -> None:
        profile = self._profile(meter_id)
        if profile is None or profile.codec != "cjt188":
            return
        request = cjt188.read_request(meter_id, 0, edition_of(profile))
        frame = cjt188.encode_frame(request)
        self._session.publish(topic(meter_id, "cjt188-down"), frame, qos=1)
