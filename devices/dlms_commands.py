"""Valve commands to a DLMS/COSEM meter: the disconnect control (class 70, 0.0.96.3.10.255)
through an application association, with Gurux's client side. Pure: the exchange is a
frozen value; each step takes the meter's answer and gives the next request (IEC 62056-47
wrapper frames) and, when the meter has answered the action, the outcome.

    gasguard                         meter
    AARQ (association request)  ->
                                <-   AARE (accepted, or why not)
    ACTION-REQUEST, method 1 (remote_disconnect) or 2 (remote_reconnect)  ->
                                <-   ACTION-RESPONSE (success, or the error)
    RLRQ (release)              ->
                                <-   RLRE

A close is ``remote_disconnect``. An arm is ``remote_reconnect``: in the control modes a
gas utility sets (1, 3, 5: reconnection needs the customer), it leaves the meter ready for
reconnection, and the customer opens the valve at the meter. gasguard sends no "open" to
a DLMS meter: reconnecting it directly is the meter's control mode's decision, not the
server's."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from gurux_dlms import GXByteBuffer, GXDLMSClient, GXReplyData
from gurux_dlms.enums import Authentication, DataType, InterfaceType
from gurux_dlms.objects import GXDLMSDisconnectControl

from devices.errors import CodecError

DISCONNECT_CONTROL = "0.0.96.3.10.255"
METHODS = {"close": 1, "arm": 2}  # remote_disconnect, remote_reconnect
WRAPPER_HEADER = 8  # version, source, destination, length: 2 bytes each
AARE, ACTION_RESPONSE, RLRE, EXCEPTION_RESPONSE = 0x61, 0xC7, 0x63, 0xD8
ANSWERS = frozenset({AARE, ACTION_RESPONSE, RLRE, EXCEPTION_RESPONSE})  # a meter's, to us
Step = Literal["associating", "acting", "releasing"]
Outcome = tuple[Literal["done", "rejected"], str | None]


@dataclass(frozen=True, slots=True)
class Association:
    """How gasguard associates with the profile's meters (``options``: ``client_address``,
    default 16, the public client; ``server_address``, 1; ``password`` for the low-level
    security of the management client)."""

    client_address: int = 16
    server_address: int = 1
    password: str | None = None

    def client(self) -> GXDLMSClient:
        authentication = Authentication.LOW if self.password else Authentication.NONE
        password = self.password.encode() if self.password else None
        return GXDLMSClient(
            True,
            self.client_address,
            self.server_address,
            authentication,
            password,
            InterfaceType.WRAPPER,
        )


def association_of(options: dict[str, str] | object) -> Association:
    values = options if isinstance(options, dict) else {}
    try:
        return Association(
            int(values.get("client_address", "16")),
            int(values.get("server_address", "1")),
            values.get("password") or None,
        )
    except ValueError as exc:
        raise CodecError("bad_association", f"client_address, server_address: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Exchange:
    association: Association
    method: int
    step: Step = "associating"
    aare: bytes = b""  # the meter's answer to the association: the next steps need it


def apdu_tag(raw: bytes) -> int | None:
    """The APDU's first byte after the wrapper header (None when there is none)."""
    return raw[WRAPPER_HEADER] if len(raw) > WRAPPER_HEADER and raw[:2] == b"\x00\x01" else None


def start(action: str, association: Association) -> tuple[Exchange, bytes]:
    """The exchange for ``action`` and its first request, the AARQ."""
    if action not in METHODS:
        raise CodecError("no_such_command", f"gasguard sends no {action!r} to a DLMS meter: arm")
    (aarq,) = association.client().aarqRequest()
    return Exchange(association, METHODS[action]), bytes(aarq)


def advance(
    exchange: Exchange, answer: bytes
) -> tuple[Exchange | None, bytes | None, Outcome | None]:
    """The meter's answer: the exchange after it (None when it is over), the next request
    and, once the action was answered, its outcome. ``CodecError`` for an answer that does
    not belong to the step."""
    tag = apdu_tag(answer)
    if tag == EXCEPTION_RESPONSE:  # the meter could not take the request at all
        return None, None, ("rejected", f"DLMS exception response {answer[WRAPPER_HEADER:].hex()}")
    if exchange.step == "associating" and tag == AARE:
        client = exchange.association.client()
        try:
            client.parseAareResponse(_data(client, answer))
        except Exception as exc:  # the library raises its own kinds for a refusal
            return None, None, ("rejected", f"DLMS association refused: {exc}")
        method = client.method(
            GXDLMSDisconnectControl(DISCONNECT_CONTROL), exchange.method, 0, DataType.INT8
        )
        return replace(exchange, step="acting", aare=answer), bytes(method[0]), None
    if exchange.step == "acting" and tag == ACTION_RESPONSE:
        client = _associated(exchange)
        reply = GXReplyData()
        try:
            client.getData(GXByteBuffer(answer), reply)
        except Exception as exc:  # an error answer is raised as an exception
            outcome: Outcome = ("rejected", f"DLMS action refused: {exc}")
        else:
            error = reply.error
            outcome = ("done", None) if not error else ("rejected", f"DLMS action error {error}")
        (release,) = client.releaseRequest()
        return replace(exchange, step="releasing"), bytes(release), outcome
    if exchange.step == "releasing" and tag == RLRE:
        return None, None, None
    raise CodecError(
        "unexpected_answer", f"APDU {tag if tag is None else hex(tag)} while {exchange.step}"
    )


def _associated(exchange: Exchange) -> GXDLMSClient:
    client = exchange.association.client()
    client.parseAareResponse(_data(client, exchange.aare))
    return client


def _data(client: GXDLMSClient, answer: bytes) -> GXByteBuffer:
    reply = GXReplyData()
    try:
        client.getData(GXByteBuffer(answer), reply)
    except Exception as exc:
        raise CodecError("bad_apdu", f"not a DLMS answer: {exc}") from exc
    return reply.data
