from __future__ import annotations

import base64
import hashlib

import pytest

from contract.errors import ProtocolError
from meters.mqtt_auth import (
    INGEST_ACCOUNT,
    Credential,
    acl_file,
    concentrator_account,
    derive_password,
    is_server_account,
    mosquitto_hash,
    password_file,
)

KEY = b"k" * 32


def test_passwords_differ_by_meter_generation_and_key_and_are_stable() -> None:
    first = derive_password(KEY, Credential("M1"))
    assert first == derive_password(KEY, Credential("M1")) and len(first) == 32
    assert first != derive_password(KEY, Credential("M2"))
    assert first != derive_password(KEY, Credential("M1", 1))
    assert first != derive_password(b"x" * 32, Credential("M1"))


def test_the_hash_is_mosquittos_pbkdf2_sha512_format() -> None:
    salt = bytes(range(12))
    kind, iterations, salt_b64, digest_b64 = mosquitto_hash("secret", salt).split("$")[1:]
    assert (kind, iterations) == ("7", "101")
    assert base64.b64decode(salt_b64) == salt
    assert base64.b64decode(digest_b64) == hashlib.pbkdf2_hmac("sha512", b"secret", salt, 101)


def test_the_password_file_holds_services_then_meters() -> None:
    ingest = Credential(INGEST_ACCOUNT, 2)
    text = password_file(KEY, [Credential("M1"), Credential("M2", 3)], [ingest])
    assert [line.split(":")[0] for line in text.splitlines()] == [INGEST_ACCOUNT, "M1", "M2"]
    assert all(line.split(":")[1].startswith("$7$101$") for line in text.splitlines())
    ingest_hash = text.splitlines()[0].split(":")[1]
    salt = base64.b64decode(ingest_hash.split("$")[3])
    assert ingest_hash == mosquitto_hash(derive_password(KEY, ingest), salt)  # its generation
    with pytest.raises(ProtocolError):
        password_file(KEY, [], [Credential("M1")])  # a meter is not a server account


@pytest.mark.parametrize("meter", ["a/b", "+", "#", "M1\n", INGEST_ACCOUNT])
def test_a_meter_id_that_could_escape_its_topics_is_refused(meter: str) -> None:
    with pytest.raises(ProtocolError):
        password_file(KEY, [Credential(meter)], [])


def test_the_acl_gives_meters_their_own_topics_only() -> None:
    lines = acl_file().splitlines()
    assert "pattern write gas/v1/meters/%u/telemetry" in lines
    assert "pattern read gas/v1/meters/%u/commands" in lines
    assert "pattern read gas/v1/meters/%u/dlms-down" in lines  # a DLMS meter's requests
    assert not any(line.startswith("pattern") and "+" in line for line in lines)
    assert "topic write gas/v1/meters/+/commands" in lines  # the ingest account only
    assert "user gasguard-simulator" not in lines
    assert "user gasguard-simulator" in acl_file(simulator=True).splitlines()
    gateway = lines[lines.index("user gasguard-dtu-gateway") + 1 :]
    gateway = gateway[: gateway.index("")]  # its block: CJ/T 188 frames only
    assert gateway == [
        "topic write gas/v1/meters/+/cjt188-up",
        "topic read gas/v1/meters/+/cjt188-down",
    ]
    assert "pattern write gas/v1/meters/%u/cjt188-up" in lines  # a meter on its own
    platforms = lines[lines.index("user gasguard-platforms") + 1 :]
    assert platforms[: platforms.index("")] == [  # what the platforms pushed, nothing else
        "topic write gas/v1/meters/+/telemetry",
        "topic write gas/v1/meters/+/status",
        "topic write gas/v1/meters/+/events",
        "topic write gas/v1/meters/+/platform-replies",
        "topic write gas/v1/meters/+/meter-alarms",
    ]
    assert "pattern write gas/v1/meters/%u/platform-replies" not in lines  # no meter may
    assert "pattern write gas/v1/meters/%u/meter-alarms" not in lines
    wmbus = lines[lines.index("user gasguard-wmbus") + 1 :]
    assert wmbus[: wmbus.index("")] == ["topic write gas/v1/meters/+/wmbus"]


def test_a_concentrator_gets_its_own_meters_cjt188_topics_only() -> None:
    account = concentrator_account("block-7")
    lines = acl_file(concentrators={account: ["20260000000001"]}).splitlines()
    block = lines[lines.index(f"user {account}") + 1 :]
    assert block[: block.index("")] == [
        "topic write gas/v1/meters/20260000000001/cjt188-up",
        "topic read gas/v1/meters/20260000000001/cjt188-down",
    ]
    assert is_server_account(account) and not is_server_account("20260000000001")
    with pytest.raises(ProtocolError, match="server account's name"):
        password_file(b"k" * 32, [Credential(account)], [])
