"""Per-meter MQTT credentials and access control for Mosquitto (docs/security.md). Pure.

Each meter logs in with its id as username and a password derived from the fleet's MQTT
key: HMAC-SHA256(key, "gasguard-mqtt-password", username, generation), so the password
file can be regenerated from the registry at any time and the server never stores a
password. Re-issuing a meter's credentials bumps its generation (the old password stops
working at the next export); revoking leaves it out of the password file.

The ACL lets a meter publish only to its own telemetry, events, replies and status topics
(and cjt188-up, its CJ/T 188 frames) and read only its own commands (and cjt188-down)
(Mosquitto ``pattern`` lines with ``%u``); the server accounts get exactly what their
process needs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from contract.errors import ProtocolError
from contract.protocol import TOPIC_PREFIX, is_meter_id

PBKDF2_ITERATIONS = 101  # Mosquitto 2.0's own default for its $7$ (PBKDF2-SHA512) hashes
SALT_BYTES = 12
PASSWORD_CHARS = 32

INGEST_ACCOUNT = "gasguard-ingest"
SIMULATOR_ACCOUNT = "gasguard-simulator"
DTU_GATEWAY_ACCOUNT = "gasguard-dtu-gateway"
PLATFORM_ACCOUNT = "gasguard-platforms"
WMBUS_ACCOUNT = "gasguard-wmbus"
SERVICE_ACCOUNTS: dict[str, str] = {
    "ingest": INGEST_ACCOUNT,
    "simulator": SIMULATOR_ACCOUNT,
    "dtu-gateway": DTU_GATEWAY_ACCOUNT,
    "platform-receiver": PLATFORM_ACCOUNT,
    "wmbus-gateway": WMBUS_ACCOUNT,
}

# A CJ/T 188 concentrator that speaks MQTT itself: one account for the meters behind it
# (configured: mqtt_concentrators), which may write their cjt188-up and read their
# cjt188-down only.
CONCENTRATOR_PREFIX = "gasguard-concentrator-"


def concentrator_account(name: str) -> str:
    return f"{CONCENTRATOR_PREFIX}{name}"


def is_server_account(username: str) -> bool:
    """An account of gasguard's side of the network (a server process, a concentrator):
    never a meter's."""
    return username in SERVICE_ACCOUNTS.values() or username.startswith(CONCENTRATOR_PREFIX)


# the contract's kinds, and the device profiles' own (a cjt188 meter's binary frames)
METER_PUBLISHES = ("telemetry", "events", "replies", "status", "cjt188-up", "wmbus", "dlms")
METER_READS = ("commands", "cjt188-down", "dlms-down")
# the platform receiver publishes for the meters of an operator platform, the results of
# the commands the platform was handed and the alarms its meters reported in their codes
# (platform-replies, meter-alarms: no meter may publish those)
PLATFORM_PUBLISHES = ("telemetry", "status", "events", "platform-replies", "meter-alarms")


@dataclass(frozen=True, slots=True)
class Credential:
    username: str
    generation: int = 0


def derive_password(key: bytes, credential: Credential) -> str:
    message = f"gasguard-mqtt-password\0{credential.username}\0{credential.generation}"
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:PASSWORD_CHARS]


def mosquitto_hash(password: str, salt: bytes) -> str:
    """Mosquitto's ``$7$`` password hash: PBKDF2-SHA512 with the salt, base64 parts."""
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, PBKDF2_ITERATIONS)
    b64 = base64.b64encode
    return f"$7${PBKDF2_ITERATIONS}${b64(salt).decode()}${b64(digest).decode()}"


def password_file(
    key: bytes,
    meters: Iterable[Credential],
    services: Iterable[Credential],
    salt: Callable[[], bytes] = lambda: os.urandom(SALT_BYTES),
) -> str:
    """Mosquitto's ``password_file``: the server accounts given, then every meter."""
    lines = []
    for service in sorted(services, key=lambda c: c.username):
        if not is_server_account(service.username):
            raise ProtocolError(f"{service.username!r} is not a server account")
        lines.append(_line(key, service, salt))
    for credential in meters:
        if not is_meter_id(credential.username):
            raise ProtocolError(f"meter id {credential.username!r} cannot be an MQTT username")
        if is_server_account(credential.username):
            raise ProtocolError(f"meter id {credential.username!r} is a server account's name")
        lines.append(_line(key, credential, salt))
    return "\n".join(lines) + "\n"


def _line(key: bytes, credential: Credential, salt: Callable[[], bytes]) -> str:
    return f"{credential.username}:{mosquitto_hash(derive_password(key, credential), salt())}"


def acl_file(
    simulator: bool = False, concentrators: Mapping[str, Sequence[str]] | None = None
) -> str:
    """Mosquitto's ``acl_file``. ``simulator``: an account that may act as every meter
    (for test and demo fleets; never in production). ``concentrators``: each MQTT
    concentrator's account and the CJ/T 188 meters behind it."""
    every = f"{TOPIC_PREFIX}/+"
    lines = [
        "# Generated by `gasguard mqtt-auth export`; do not edit (regenerate instead).",
        f"user {INGEST_ACCOUNT}",
        *(f"topic read {every}/{kind}" for kind in METER_PUBLISHES),
        f"topic read {every}/platform-replies",
        f"topic read {every}/meter-alarms",
        *(f"topic write {every}/{kind}" for kind in METER_READS),
        "topic read $SYS/broker/publish/messages/dropped",  # ingest.broker_watch
        "topic read $SYS/broker/version",
        "topic readwrite gasguard/probe/#",  # transport.probe (the in-flight window)
        "",
        f"user {DTU_GATEWAY_ACCOUNT}",  # ingest.dtu_gateway: the CJ/T 188 frames of DTUs
        f"topic write {every}/cjt188-up",
        f"topic read {every}/cjt188-down",
        "",
        f"user {PLATFORM_ACCOUNT}",  # ingest.platform_receiver: NB-IoT meters' pushes
        *(f"topic write {every}/{kind}" for kind in PLATFORM_PUBLISHES),
        "",
        f"user {WMBUS_ACCOUNT}",  # a wmbusmeters gateway: the telegrams it decoded
        f"topic write {every}/wmbus",
        "",
    ]
    for account, meter_ids in sorted((concentrators or {}).items()):
        lines.append(f"user {account}")  # a concentrator: its own meters' frames only
        for meter_id in meter_ids:
            lines += [
                f"topic write {TOPIC_PREFIX}/{meter_id}/cjt188-up",
                f"topic read {TOPIC_PREFIX}/{meter_id}/cjt188-down",
            ]
        lines.append("")
    if simulator:
        lines += [
            f"user {SIMULATOR_ACCOUNT}",
            *(f"topic write {every}/{kind}" for kind in METER_PUBLISHES),
            *(f"topic read {every}/{kind}" for kind in METER_READS),
            "",
        ]
    lines += [
        "# Every meter (username = meter id): its own topics only.",
        *(f"pattern write {TOPIC_PREFIX}/%u/{kind}" for kind in METER_PUBLISHES),
        *(f"pattern read {TOPIC_PREFIX}/%u/{kind}" for kind in METER_READS),
        "",
    ]
    return "\n".join(lines)
