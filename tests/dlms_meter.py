"""A DLMS/COSEM gas meter on a broker, for the tests: the simulator's meter (Gurux's own
meter side, simulators.dlms_meter) reading requests on its ``dlms-down`` and answering,
as it pushes, on its ``dlms`` topic."""

from __future__ import annotations

import datetime as dt
import threading
import time

from simulators.dlms_meter import CHINA, DISCONNECT, RECONNECT, DlmsMeter, meter_push
from tests.helpers import MqttProbe

__all__ = ["CHINA", "DISCONNECT", "RECONNECT", "DlmsMeter", "DlmsMeterOnMqtt", "meter_push"]


class DlmsMeterOnMqtt:
    """The meter on a broker: answers each request on its ``dlms-down`` on its ``dlms``
    and, after an action, pushes its registers (the telemetry that confirms the valve)."""

    def __init__(self, url: str, meter_id: str, meter: DlmsMeter) -> None:
        self.meter_id, self.meter = meter_id, meter
        self.probe = MqttProbe(url, (f"gas/v1/meters/{meter_id}/dlms-down",))
        self.litres = 4_200_000
        self._seen = 0
        self._last_push: dt.datetime | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def push(self, status: int = 0) -> None:
        """Its registers now (a second later than its last push at least: the clock has
        whole seconds, and two pushes of one second are one reading)."""
        at = dt.datetime.now(CHINA).replace(microsecond=0) + dt.timedelta(seconds=1)
        if self._last_push is not None and at <= self._last_push:
            at = self._last_push + dt.timedelta(seconds=1)
        self._last_push = at
        connected = bool(self.meter.valve.outputState)
        payload = meter_push(self.litres, connected, at, status=status)
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
