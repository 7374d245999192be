"""A DLMS/COSEM gas meter for the tests, made of the Gurux library's own meter side: a
``GXDLMSServer`` with a disconnect control (class 70) that answers association, action
and release requests, and a ``GXDLMSNotify`` that pushes its clock, volume register,
valve and status word. Over MQTT (``DlmsMeterOnMqtt``) it reads requests on its
``dlms-down`` and answers, as it pushes, on its ``dlms`` topic.

Gurux's Python meter side (gurux-dlms 1.0.203) does not run as shipped: ``initialize``
appends the object collection into the association's list instead of its objects (a
TypeError later), ``handleRequest`` calls ``setReply`` and ``getConnectionInfo``, which
``GXServerReply`` does not have, and the method handler builds ``list(e)`` from one event
argument. The three shims below fill exactly those gaps; what the meter answers is the
library's own encoding."""

from __future__ import annotations

import datetime as dt
import threading
import time
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

from tests.helpers import MqttProbe

ValueEventArgs.__iter__ = lambda self: iter([self])  # type: ignore[attr-defined]  # list(e)
CHINA = dt.timezone(dt.timedelta(hours=8))
DISCONNECT = 1  # remote_disconnect
RECONNECT = 2  # remote_reconnect


class _Reply(GXServerReply):  # type: ignore[misc]
    def setReply(self, value: Any) -> None:
        self.reply = value

    def getConnectionInfo(self) -> Any:
        return self.connectionInfo


class DlmsMeter(GXDLMSServer):  # type: ignore[misc]
    """The meter: its valve starts connected; ``password`` set, the association needs
    the low-level security password."""

    def __init__(self, password: str | None = None) -> None:
        super().__init__(True, InterfaceType.WRAPPER)
        self.valve = GXDLMSDisconnectControl("0.0.96.3.10.255")
        self.valve.outputState = True
        self.valve.controlState = ControlState.CONNECTED
        association = GXDLMSAssociationLogicalName()
        if password:
            association.authenticationMechanismName.mechanismId = Authentication.LOW
            association.secret = password.encode()
        self.items.append(self.valve)
        self.items.append(association)
        association.objectList.append(self.valve)  # so initialize() leaves the list alone
        self.initialize()
        self.actions: list[int] = []
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
    def onPostWrite(self, args: Any) -> None: ...
    def onPostAction(self, args: Any) -> None: ...
    def onConnected(self, info: Any) -> None: ...
    def onInvalidConnection(self, info: Any) -> None: ...
    def onDisconnected(self, info: Any) -> None: ...


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


class DlmsMeterOnMqtt:
    """The meter on a broker: answers each request on its ``dlms-down`` on its ``dlms``
    and, after an action, pushes its registers (the telemetry that confirms the valve)."""

    def __init__(self, url: str, meter_id: str, meter: DlmsMeter) -> None:
        self.meter_id, self.meter = meter_id, meter
        self.probe = MqttProbe(url, (f"gas/v1/meters/{meter_id}/dlms-down",))
        self.litres = 4_200_000
        self._seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def push(self) -> None:
        at = dt.datetime.now(CHINA).replace(microsecond=0) + dt.timedelta(seconds=1)
        payload = meter_push(self.litres, bool(self.meter.valve.outputState), at)
        self.probe.publish(f"gas/v1/meters/{self.meter_id}/dlms", payload)

    def _serve(self) -> None:
        while not self._stop.is_set():
            requests = self.probe.messages("/dlms-down")[self._seen :]
            for _topic, request in requests:
                self._seen += 1
                answer = self.meter.answer(request)
                self.probe.publish(f"gas/v1/meters/{self.meter_id}/dlms", answer)
                if answer[8:9] == b"\xc7":  # the action's answer: the meter pushes
                    self.push()
            time.sleep(0.02)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.probe.close()
