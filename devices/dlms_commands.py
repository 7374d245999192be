"""Commands to a DLMS/COSEM meter through an application association, with Gurux's client
side: valve commands on the disconnect control (class 70, 0.0.96.3.10.255), a parameter
download (SET of the profile's threshold objects) and a time set (SET of the clock, class
8, 0.0.1.0.0.255). Pure: the exchange is a frozen value; each step takes the meter's
answer and gives the next request (IEC 62056-47 wrapper frames) and, when the meter has
answered the action (or the last SET), the outcome.

    gasguard                         meter
    AARQ (association request)  ->
                                <-   AARE (accepted, or why not)
    ACTION-REQUEST, method 1 (remote_disconnect) or 2 (remote_reconnect)  ->
                                <-   ACTION-RESPONSE (success, or the error)
      or SET-REQUEST of each object's value, one at a time  ->
                                <-   SET-RESPONSE each (success, or the error: the rest
                                     are not sent)
    RLRQ (release)              ->
                                <-   RLRE

Thresholds go to Data objects (class 1, attribute 2) as unsigned integers in the meter's
units: flows in litres an hour, durations in minutes, pressures in pascals. Their OBIS
codes are the vendor's (the profile's options ``obis_<threshold>``; the defaults below
are manufacturer-specific codes of the gas medium, those of gasguard's simulated meter).

A close is ``remote_disconnect``. An arm is ``remote_reconnect``: in the control modes a
gas utility sets (1, 3, 5: reconnection needs the customer), it leaves the meter ready for
reconnection, and the customer opens the valve at the meter. gasguard sends no "open" to
a DLMS meter: reconnecting it directly is the meter's control mode's decision, not the
server's."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from gurux_dlms import GXByteBuffer, GXDateTime, GXDLMSClient, GXReplyData
from gurux_dlms.enums import Authentication, DataType, InterfaceType
from gurux_dlms.objects import GXDLMSClock, GXDLMSData, GXDLMSDisconnectControl, GXDLMSObject

from contract.local_time import CHINA
from devices.errors import CodecError

DISCONNECT_CONTROL = "0.0.96.3.10.255"
CLOCK = "0.0.1.0.0.255"
METHODS = {"close": 1, "arm": 2}  # remote_disconnect, remote_reconnect
WRAPPER_HEADER = 8  # version, source, destination, length: 2 bytes each
AARE, ACTION_RESPONSE, RLRE, EXCEPTION_RESPONSE = 0x61, 0xC7, 0x63, 0xD8
SET_RESPONSE = 0xC5
ANSWERS = frozenset({AARE, ACTION_RESPONSE, SET_RESPONSE, RLRE, EXCEPTION_RESPONSE})
Step = Literal["associating", "acting", "releasing"]
# each threshold's object and its unit's factor from gasguard's (m³/h -> l/h, kPa -> Pa)
THRESHOLD_OBIS = {
    "micro_flow_m3h": ("7.0.128.0.1.255", 1000),
    "micro_flow_min": ("7.0.128.0.2.255", 1),
    "prolonged_use_min": ("7.0.128.0.3.255", 1),
    "over_flow_m3h": ("7.0.128.0.4.255", 1000),
    "pressure_low_kpa": ("7.0.128.0.5.255", 1000),
    "pressure_high_kpa": ("7.0.128.0.6.255", 1000),
}


@dataclass(frozen=True, slots=True)
class Write:
    """One SET: a Data object's value (an unsigned integer), or the clock's time."""

    obis: str
    value: int  # the Data object's value, or the clock's time (epoch ms)
    clock: bool = False

    def target(self, zone: dt.tzinfo = CHINA) -> GXDLMSObject:
        if self.clock:
            clock = GXDLMSClock(self.obis)
            clock.time = GXDateTime(dt.datetime.fromtimestamp(self.value / 1000, zone))
            return clock
        data = GXDLMSData(self.obis)
        data.value = self.value
        data.setDataType(2, DataType.UINT32)
        return data


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
    """One association's work: a method (``method``) or SETs (``writes``, the next one to
    answer at ``written``)."""

    association: Association
    method: int = 0
    writes: tuple[Write, ...] = ()
    written: int = 0
    step: Step = "associating"
    aare: bytes = b""  # the meter's answer to the association: the next steps need it

    @property
    def time_set(self) -> bool:
        """A SET of the clock: no command's exchange (its outcome answers no command)."""
        return any(write.clock for write in self.writes)


def apdu_tag(raw: bytes) -> int | None:
    """The APDU's first byte after the wrapper header (None when there is none)."""
    return raw[WRAPPER_HEADER] if len(raw) > WRAPPER_HEADER and raw[:2] == b"\x00\x01" else None


def start(action: str, association: Association) -> tuple[Exchange, bytes]:
    """The exchange for a valve ``action`` and its first request, the AARQ."""
    if action not in METHODS:
        raise CodecError("no_such_command", f"gasguard sends no {action!r} to a DLMS meter: arm")
    return _begun(Exchange(association, METHODS[action]))


def start_writes(writes: tuple[Write, ...], association: Association) -> tuple[Exchange, bytes]:
    """The exchange that SETs ``writes`` (a parameter download, a time set) and its AARQ."""
    if not writes:
        raise CodecError("nothing_to_write", "a DLMS SET exchange needs at least one value")
    return _begun(Exchange(association, writes=writes))


def _begun(exchange: Exchange) -> tuple[Exchange, bytes]:
    (aarq,) = exchange.association.client().aarqRequest()
    return exchange, bytes(aarq)


def threshold_writes(params: str, options: Mapping[str, str]) -> tuple[Write, ...]:
    """The SETs of a parameter download (its thresholds' canonical JSON): each threshold to
    its object (``obis_<name>`` in the profile's options, else ``THRESHOLD_OBIS``) in the
    meter's unit. ``CodecError`` for a value the meter's unsigned integer cannot hold."""
    writes = []
    for name, value in json.loads(params).items():
        default_obis, factor = THRESHOLD_OBIS[name]
        scaled = round(value * factor)
        if not 0 <= scaled < 2**32:
            raise CodecError("out_of_range", f"{name} {value} does not fit the meter's UINT32")
        writes.append(Write(options.get(f"obis_{name}", default_obis), scaled))
    return tuple(writes)


def clock_write(now_ms: int) -> tuple[Write, ...]:
    return (Write(CLOCK, now_ms, clock=True),)


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
        acting = replace(exchange, step="acting", aare=answer)
        if exchange.writes:
            return acting, _set_request(client, exchange.writes[0]), None
        method = client.method(
            GXDLMSDisconnectControl(DISCONNECT_CONTROL), exchange.method, 0, DataType.INT8
        )
        return acting, bytes(method[0]), None
    if exchange.step == "acting" and tag == SET_RESPONSE and exchange.writes:
        return _after_set(exchange, answer)
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


def _set_request(client: GXDLMSClient, write: Write) -> bytes:
    (request,) = client.write(write.target(), 2)
    return bytes(request)


def _after_set(
    exchange: Exchange, answer: bytes
) -> tuple[Exchange | None, bytes | None, Outcome | None]:
    """The meter's answer to one SET: the next SET, or (after the last, or a refusal) the
    release and the outcome."""
    client = _associated(exchange)
    reply = GXReplyData()
    write = exchange.writes[exchange.written]
    try:
        client.getData(GXByteBuffer(answer), reply)
        error = reply.error
    except Exception as exc:  # an error answer is raised as an exception
        error = str(exc) or type(exc).__name__
    written = exchange.written + 1
    if error:
        outcome: Outcome = ("rejected", f"DLMS SET of {write.obis} refused: error {error}")
    elif written < len(exchange.writes):
        after = replace(exchange, written=written)
        return after, _set_request(client, exchange.writes[written]), None
    else:
        outcome = ("done", None)
    (release,) = client.releaseRequest()
    return replace(exchange, step="releasing", written=written), bytes(release), outcome


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
