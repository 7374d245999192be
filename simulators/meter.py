"""A simulated smart gas meter. Pure: time is passed in, outputs are values to publish."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from typing import Literal

from contract.events import MeterEvent
from contract.profiles import MeterProfile
from contract.protocol import Command, CommandReply
from contract.readings import Reading
from contract.signing import check_command, is_resend, sign_reply
from safety.config import RulesConfig, model_limits
from simulators.household import (
    household_flow_m3h,
    industry_flow_m3h,
    restaurant_flow_m3h,
    unit_hash,
)

FaultKind = Literal[
    "leak_detector",
    "over_flow",
    "micro_flow",
    "seismic",
    "tamper",
    "pressure_low",
    "pressure_high",
    "low_battery",
]
# Faults a meter reports as an event, once, when they start (DESIGN.md event names).
FAULT_EVENTS: dict[FaultKind, str] = {
    "leak_detector": "detector_alarm",
    "seismic": "seismic",
    "tamper": "tamper",
}
FAULT_PRESSURE_KPA: dict[FaultKind, float] = {"pressure_low": 0.5, "pressure_high": 4.2}
LOW_BATTERY_PCT = 15.0


@functools.lru_cache(maxsize=32)
def household_cap_m3h(model: str) -> float:
    """Most a household on this meter model draws: 80 % of the model's default
    sudden-increase step."""
    return 0.8 * model_limits(RulesConfig(), model).sudden_step_m3h


@dataclass(frozen=True, slots=True)
class Fault:
    """An injected fault: from ``start_ms`` on, the meter behaves as ``kind`` at ``flow_m3h``."""

    kind: FaultKind
    start_ms: int
    flow_m3h: float = 0.0


@dataclass(slots=True)
class SimMeter:
    """``key``: the meter's secret (hex), provisioned from the registry; commands that do
    not carry its signature, are past their expiry or older than ``last_counter`` are
    refused. ``appliance_open_m3h``: a burner left open, flowing whenever the valve is."""

    profile: MeterProfile
    volume_m3: float = 0.0
    valve: str = "open"
    armed: bool = False
    faults: tuple[Fault, ...] = ()
    last_ts_ms: int | None = None
    battery_pct: float = 95.0
    key: str = ""
    last_counter: int = 0
    last_command_id: str = ""  # of the command that carried ``last_counter``
    appliance_open_m3h: float = 0.0
    clock_offset_ms: int = 0  # the meter's clock minus the true time
    battery_drain_pct_per_day: float = 0.0
    offline: tuple[int, int] | None = None  # (from, until) true ms: no network meanwhile
    listen_ms: int | None = None  # a meter that sleeps: it hears commands this long after
    last_uplink_ms: int | None = None  # each uplink (true time), and not otherwise
    readings_per_message: int = 1
    resend_every: int = 0
    rejected: list[str] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)  # its firmware's, downloaded
    _events_sent: set[FaultKind] = field(default_factory=set)

    @property
    def meter_id(self) -> str:
        return self.profile.meter_id

    def reachable(self, true_ms: int) -> bool:
        """Whether the meter has a network at ``true_ms`` (it measures either way)."""
        return self.offline is None or not self.offline[0] <= true_ms < self.offline[1]

    def listening(self, true_ms: int) -> bool:
        """Whether it hears a command at ``true_ms``: always, unless it sleeps, when only
        in the window after an uplink."""
        if self.listen_ms is None:
            return True
        last = self.last_uplink_ms
        return last is not None and 0 <= true_ms - last <= self.listen_ms

    def clock(self, true_ms: int) -> int:
        """What the meter's own clock shows at ``true_ms``: its readings carry this."""
        return true_ms + self.clock_offset_ms

    def flow_at(self, ts_ms: int) -> float:
        if self.valve != "open":
            return 0.0
        if self.profile.category == "residential":
            # A household's appliances fit its meter: demand stays below the model's
            # sudden-increase step (a 2.4 m³/h water heater is not put on a G1.6 meter).
            flow = min(
                household_flow_m3h(self.meter_id, ts_ms), household_cap_m3h(self.profile.model)
            )
        elif self.profile.category == "industrial":
            flow = industry_flow_m3h(self.meter_id, self.profile.model, ts_ms)
        else:
            flow = restaurant_flow_m3h(self.meter_id, ts_ms)
        for fault in self.faults:
            if fault.kind in ("over_flow", "micro_flow") and ts_ms >= fault.start_ms:
                flow += fault.flow_m3h
        return round(flow + self.appliance_open_m3h, 4)

    def read(self, ts_ms: int) -> Reading:
        """Advance the register to ``ts_ms`` (flow held since the last reading) and read it."""
        if self.last_ts_ms is not None and ts_ms > self.last_ts_ms:
            elapsed_ms = ts_ms - self.last_ts_ms
            self.volume_m3 += self.flow_at(self.last_ts_ms) * elapsed_ms / 3_600_000
            drained = self.battery_drain_pct_per_day * elapsed_ms / 86_400_000
            self.battery_pct = max(0.0, self.battery_pct - drained)
        self.last_ts_ms = ts_ms
        battery = self.battery_pct
        if self._active("low_battery", ts_ms):
            battery = min(battery, LOW_BATTERY_PCT)
        return Reading(
            meter_id=self.meter_id,
            ts_ms=ts_ms,
            volume_m3=round(self.volume_m3, 6),
            flow_m3h=self.flow_at(ts_ms),
            pressure_kpa=self._pressure_kpa(ts_ms),
            temperature_c=round(24.0 + 2 * unit_hash(self.meter_id, "t", ts_ms // 600_000), 2),
            battery_pct=round(battery, 2),
            valve=self.valve,  # type: ignore[arg-type]
        )

    def _active(self, kind: FaultKind, ts_ms: int) -> bool:
        return any(f.kind == kind and ts_ms >= f.start_ms for f in self.faults)

    def _pressure_kpa(self, ts_ms: int) -> float:
        for kind, kpa in FAULT_PRESSURE_KPA.items():
            if self._active(kind, ts_ms):
                return kpa
        return round(2.0 + 0.1 * unit_hash(self.meter_id, "p", ts_ms // 60_000), 3)

    def history(self, start_ms: int, end_ms: int, step_ms: int) -> list[Reading]:
        """Readings from ``start_ms`` up to ``end_ms`` every ``step_ms``: what a meter that
        was offline uploads when it comes back."""
        return [self.read(ts) for ts in range(start_ms, end_ms, step_ms)]

    def due_events(self, ts_ms: int) -> list[MeterEvent]:
        """The events of faults that have started and were not reported yet."""
        events = []
        for fault in self.faults:
            event = FAULT_EVENTS.get(fault.kind)
            if event and ts_ms >= fault.start_ms and fault.kind not in self._events_sent:
                self._events_sent.add(fault.kind)
                events.append(MeterEvent(self.meter_id, ts_ms, event))
        return events

    def handle(self, command: Command, now_ms: int) -> CommandReply:
        """Check, act, reply (signed). A resend of the last command is confirmed again
        without acting twice."""
        refused = check_command(
            self.key, self.meter_id, self.last_counter, now_ms, command, self.last_command_id
        )
        if refused is not None:
            self.rejected.append(refused)
            return self._reply(command, now_ms, "rejected", refused)
        if is_resend(self.last_counter, command, self.last_command_id):
            return self._reply(command, now_ms, "done")
        self.last_counter, self.last_command_id = command.counter, command.command_id
        if command.action == "close":
            self.read(now_ms)
            self.valve, self.armed = "closed", False
        elif command.action == "arm":
            self.armed = self.valve == "closed"
        elif command.action == "open":
            self.read(now_ms)
            self.valve = "open"
        elif command.action == "params":  # a parameter download: it holds them from now
            self.thresholds = json.loads(command.params)
        elif command.action == "time":  # its clock reads the command's time from now
            self.clock_offset_ms += command.issued_ms - now_ms
        return self._reply(command, now_ms, "done")

    def press_button(self, now_ms: int) -> MeterEvent | None:
        """The customer presses the button: an armed, closed valve opens."""
        if not (self.armed and self.valve == "closed"):
            return None
        self.read(now_ms)
        self.valve, self.armed = "open", False
        return MeterEvent(self.meter_id, now_ms, "valve_opened")

    def _reply(
        self, command: Command, now_ms: int, result: str, error: str | None = None
    ) -> CommandReply:
        reply = CommandReply(command.command_id, self.meter_id, result, now_ms, self.valve, error)
        return sign_reply(self.key, reply) if self.key else reply
