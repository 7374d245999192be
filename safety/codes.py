"""Small integer codes for the compiled core: rules, actions, valve states, events.

The kernel works on numbers only; these tables translate at the edge (``safety.engine``).
"""

from __future__ import annotations

from contract.events import EVENT_NAMES

RULE_IDS = (
    "over_flow",
    "micro_flow",
    "leak_detector",
    "sudden_increase",
    "prolonged_use",
    "no_flow_gap",
    "pressure_low",
    "pressure_high",
    "flow_while_closed",
    "seismic",
    "tamper",
    "low_battery",
    "offline",
    "reopen_flow",
)
RULE_CODE = {rule: code for code, rule in enumerate(RULE_IDS)}

# rule codes as plain module constants: the compiled functions read them as literals
OVER_FLOW = 0
MICRO_FLOW = 1
LEAK_DETECTOR = 2
SUDDEN_INCREASE = 3
PROLONGED_USE = 4
NO_FLOW_GAP = 5
PRESSURE_LOW = 6
PRESSURE_HIGH = 7
FLOW_WHILE_CLOSED = 8
SEISMIC = 9
TAMPER = 10
LOW_BATTERY = 11
OFFLINE = 12
REOPEN_FLOW = 13

ACTIONS = ("alarm", "shutoff")
ACTION_CODE = {action: code for code, action in enumerate(ACTIONS)}

VALVES = ("", "open", "closed", "fault")  # 0: not reported
VALVE_CODE = {valve: code for code, valve in enumerate(VALVES) if valve}
VALVE_NONE = 0
VALVE_OPEN = 1
VALVE_CLOSED = 2

EVENTS = tuple(sorted(EVENT_NAMES))
EVENT_CODE = {event: code for code, event in enumerate(EVENTS)}
EV_DETECTOR_ALARM = EVENT_CODE["detector_alarm"]
EV_DETECTOR_CLEAR = EVENT_CODE["detector_clear"]
EV_SEISMIC = EVENT_CODE["seismic"]
EV_VALVE_OPENED = EVENT_CODE["valve_opened"]
TAMPER_EVENT_CODES = tuple(EVENT_CODE[e] for e in ("tamper", "tilt", "magnet", "cover_open"))

CATEGORIES = ("residential", "commercial", "industrial")
CATEGORY_CODE = {category: code for code, category in enumerate(CATEGORIES)}

ITEM_READING = 0
ITEM_EVENT = 1
