"""Small integer codes for the compiled core: actions, valve states, events, categories.

The kernel works on numbers only; these tables translate at the edge (``safety.engine``).
Rule codes are each rule module's own (``safety.rulebook.RULE_CODE``).
"""

from __future__ import annotations

from contract.events import EVENT_NAMES
from contract.profiles import CATEGORIES

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

CATEGORY_CODE = {category: code for code, category in enumerate(CATEGORIES)}

ITEM_READING = 0
ITEM_EVENT = 1
