"""Rules on the meter's own events: ``leak_detector`` (the gas detector alarmed: shut off
at once; ``detector_clear`` ends the episode), ``seismic`` (shut off at once) and
``tamper`` (tamper, tilt, magnet, cover open: an alarm at once). One decision per
episode; the seismic and tamper episodes end when an operator clears the alarm."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from contract.decisions import Action
from safety.codes import (
    EV_DETECTOR_ALARM,
    EV_DETECTOR_CLEAR,
    EV_SEISMIC,
    EVENTS,
    TAMPER_EVENT_CODES,
)
from safety.jit import compiled
from safety.layout import Record
from safety.rule import Rule, RuleUnit
from safety.rules.episodes import end_episode, fire

LEAK_DETECTOR = 2
SEISMIC = 9
TAMPER = 10


@dataclass(frozen=True, slots=True)
class LeakDetectorConfig:
    action: Action = "shutoff"


@dataclass(frozen=True, slots=True)
class EventRulesConfig:
    seismic_action: Action = "shutoff"
    tamper_action: Action = "alarm"


@compiled
def on_event(s: Record, ts: int, event: int, t: Any, out: np.ndarray, count: np.ndarray) -> None:
    numbers = (float(event),)
    if event == EV_DETECTOR_CLEAR:
        end_episode(s, LEAK_DETECTOR)
    elif event == EV_DETECTOR_ALARM:
        fire(s, LEAK_DETECTOR, ts, t.actions[s.category, LEAK_DETECTOR], numbers, out, count)
    elif event == EV_SEISMIC:
        fire(s, SEISMIC, ts, t.actions[s.category, SEISMIC], numbers, out, count)
    elif event in TAMPER_EVENT_CODES:
        fire(s, TAMPER, ts, t.actions[s.category, TAMPER], numbers, out, count)


def _event(x: Sequence[float], config: Any, _: str) -> dict[str, Any]:
    return {"event": EVENTS[int(x[0])]}


UNIT = RuleUnit(
    name="event_rules",
    rules=(
        Rule("leak_detector", LEAK_DETECTOR, "leak_detector", lambda c: c.action, 1, _event),
        Rule("seismic", SEISMIC, "events", lambda c: c.seismic_action, 1, _event),
        Rule("tamper", TAMPER, "events", lambda c: c.tamper_action, 1, _event),
    ),
    sections={"leak_detector": LeakDetectorConfig, "events": EventRulesConfig},
    on_event=on_event,
)
