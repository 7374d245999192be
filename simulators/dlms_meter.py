"""A simulated DLMS/COSEM gas meter (profile dlms), made of the Gurux library's own meter
side: a ``GXDLMSServer`` with a disconnect control (class 70) that answers association,
action and release requests, and a ``GXDLMSNotify`` that pushes its clock, volume
register, valve and status word (``push``). The simulator's runner carries them on the
meter's ``dlms`` and ``dlms-down`` topics; the tests use the same meter.

Gurux's Python meter side (gurux-dlms 1.0.203) does not run as shipped: ``initialize``
appends the object collection into the association's list instead of its objects (a
TypeError later), ``handleRequest`` calls ``setReply`` and ``getConnectionInfo``, which
``GXServerReply`` does not have, and the method handler builds ``list(e)`` from one event
argument, and a SET request's handler asks its parameters for ``isMultipleBlocks()`` and
``setStatus()``, which ``GXDLMSLNParameters`` does not have (every SET answered
hardware-fault). The shims below fill exactly those gaps; what the meter answers is the
library's own encoding.

Beside the disconnect control the meter has a clock and the threshold objects of a
parameter download (``devices.dlms_commands.THRESHOLD_OBIS``), both writable: ``writes``
records each value a SET gave it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gurux_dlms import GXDateTime, GXDLMSNotify, GXDLMSServer, GXServerReply, ValueEventArgs
from gurux_dlms.enums import (
    AccessMode,
    Authentication,
    InterfaceType,
    MethodAccessMode,
    SourceDiagnostic,
    Unit,
)
from gurux_dlms.GXDLMSLNParameters import GXDLMSLNParameters
from gurux_dlms.objects import (
    GXDLMSAssociationLogicalName,
    GXDLMSCaptureObject,
    GXDLMSClock,
    GXDLMSData,
    GXDLMSDisconnectControl,
    GXDLMSPushSetup,
    GXDLMSRegister,
)
from gurux_dlms.objects.enums import ControlState

from contract.local_time import CHINA
from contract.readings import Reading
from devices.dlms_commands import CLOCK, THRESHOLD_OBIS
from simulators.meter import SimMeter

DISCONNECT = 1  # remote_disconnect
RECONNECT = 2  # remote_reconnect


class _Reply(GXServerReply):
    def setReply(self, value: Any) -> None:
        self.reply = value

    def getConnectionInfo(self) -> Any:
        return self.connectionInfo


def _fill_the_handlers_gaps() -> None:
    """The library's method handler calls ``list(e)`` on one event argument; its SET
    handler calls two methods its parameters lack."""
    if not hasattr(ValueEventArgs, "__iter__"):
        ValueEventArgs.__iter__ = lambda self: iter([self])
    if not hasattr(GXDLMSLNParameters, "isMultipleBlocks"):
        GXDLMSLNParameters.isMultipleBlocks = lambda self: self.multipleBlocks
        GXDLMSLNParameters.setStatus = lambda self, status: setattr(self, "status", status)


class DlmsMeter(GXDLMSServer):
    """The meter: its valve starts connected; ``password`` set, the association needs
    the low-level security password."""

    def __init__(self, password: str | None = None) -> None:
        _fill_the_handlers_gaps()
        super().__init__(True, InterfaceType.WRAPPER)
        self.valve = GXDLMSDisconnectControl("0.0.96.3.10.255")
        self.valve.outputState = True
        self.valve.controlState = ControlState.CONNECTED
        association = GXDLMSAssociationLogicalName()
        if password:
            association.authenticationMechanismName.mechanismId = Authentication.LOW
            association.secret = password.encode()
        self.clock = GXDLMSClock(CLOCK)
        self.clock.time = GXDateTime(dt.datetime.now(CHINA))
        thresholds = []
        for obis, _factor in THRESHOLD_OBIS.values():
            data = GXDLMSData(obis)
            data.value = 0
            thresholds.append(data)
        objects = [self.valve, self.clock, *thresholds]
        for obj in objects:  # one at a time: the collection's extend wants a collection
            self.items.append(obj)
            association.objectList.append(obj)  # so initialize() leaves the list alone
        self.items.append(association)
        self.initialize()
        self.actions: list[int] = []
        self.writes: list[tuple[str, int | dt.datetime]] = []  # (OBIS, value) each SET
        self.password = password

    def answer(self, request: bytes) -> bytes:
        reply = _Reply(request)
        self.handleRequest(reply)
        return bytes(reply.reply)

    def onPreAction(self, args: list[Any]) -> None:
        for e in args:
            if e.target is self.valve:
                self.actions.append(e.index)
                if e.index == DISCONNECT:
                    self.valve.outputState = False
                    self.valve.controlState = ControlState.DISCONNECTED
                elif e.index == RECONNECT:  # the customer's button connects it
                    self.valve.controlState = ControlState.READY_FOR_RECONNECTION
                e.handled = True
                e.value = 0

    def onValidateAuthentication(self, authentication: Any, password: Any) -> Any:
        if self.password is None or bytes(password or b"") == self.password.encode():
            return SourceDiagnostic.NONE
        return SourceDiagnostic.AUTHENTICATION_FAILURE

    def isTarget(self, server_address: int, client_address: int) -> bool:
        return True

    def onGetAttributeAccess(self, arg: Any) -> Any:
        return AccessMode.READ_WRITE

    def onGetMethodAccess(self, arg: Any) -> Any:
        return MethodAccessMode.ACCESS

    def onFindObject(self, object_type: Any, sn: Any, ln: Any) -> None:
        return None

    def onPreGet(self, args: Any) -> None: ...
    def onPostGet(self, args: Any) -> None: ...
    def onPreRead(self, args: Any) -> None: ...
    def onPostRead(self, args: Any) -> None: ...
    def onPreWrite(self, args: Any) -> None: ...

    def onPostWrite(self, args: Any) -> None:
        for e in args:
            target = e.target
            value = target.time.value if target is self.clock else target.value
            self.writes.append((target.logicalName, value))

    def onPostAction(self, args: Any) -> None: ...
    def onConnected(self, info: Any) -> None: ...
    def onInvalidConnection(self, info: Any) -> None: ...
    def onDisconnected(self, info: Any) -> None: ...


def take_writes(meter: SimMeter, writes: list[tuple[str, int | dt.datetime]], true_ms: int) -> None:
    """What SETs did to the simulated meter: a time set moves its clock (it reads the set
    time now), a threshold is held (by its OBIS code, in the meter's units)."""
    for obis, value in writes:
        if isinstance(value, dt.datetime):
            meter.clock_offset_ms = int(value.timestamp() * 1000) - true_ms
        else:
            meter.thresholds[obis] = value


def meter_push(
    litres: int, connected: bool, at: dt.datetime, ldn: str | None = None, status: int = 0
) -> bytes:
    """What a DLMS gas meter pushes, made by the library's meter side."""
    notify = GXDLMSNotify(True, 1, 1, InterfaceType.WRAPPER)
    clock = GXDLMSClock("0.0.1.0.0.255")
    clock.time = GXDateTime(at)
    volume = GXDLMSRegister("7.0.3.0.0.255")
    volume.value, volume.scaler, volume.unit = litres, 0.001, Unit.VOLUME_CUBIC_METER
    valve = GXDLMSDisconnectControl("0.0.96.3.10.255")
    valve.outputState = connected
    word = GXDLMSData("0.0.96.5.0.255")
    word.value = status
    push = GXDLMSPushSetup("0.7.25.9.0.255")
    captured = [(clock, 2), (volume, 2), (valve, 2), (word, 2)]
    if ldn is not None:
        name = GXDLMSData("0.0.42.0.0.255")
        name.value = ldn.encode()
        captured.append((name, 2))
    for obj, attribute in captured:
        push.pushObjectList.append((obj, GXDLMSCaptureObject(attribute, 0)))
    (message,) = notify.generatePushSetupMessages(None, push)
    return bytes(message)


def reading_push(reading: Reading) -> bytes:
    """The push carrying ``reading`` (its clock in whole seconds, the register in litres)."""
    at = dt.datetime.fromtimestamp(reading.ts_ms // 1000, CHINA)
    return meter_push(round(reading.volume_m3 * 1000), reading.valve != "closed", at)
