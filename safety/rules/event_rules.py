"""Rules on the meter's own events: ``leak_detector`` (the gas detector alarmed: shut off
at once; ``detector_clear`` ends the episode), ``seismic`` (shut off at once) and
``tamper`` (tamper, tilt, magnet, cover open: an alarm at once). One decision per
episode; the seismic and tamper episodes end when an operator clears the alarm."""

from __future__ import annotations

import numpy as np

from safety.codes import (
    EV_DETECTOR_ALARM,
    EV_DETECTOR_CLEAR,
    EV_SEISMIC,
    LEAK_DETECTOR,
    SEISMIC,
    TAMPER,
    TAMPER_EVENT_CODES,
)
from safety.jit import compiled
from safety.layout import Record
from safety.rules.episodes import end_episode, fire


@compiled
def evaluate(
    s: Record, ts: int, event: int, actions: np.ndarray, out: np.ndarray, count: np.ndarray
) -> None:
    if event == EV_DETECTOR_CLEAR:
        end_episode(s, LEAK_DETECTOR)
    elif event == EV_DETECTOR_ALARM:
        fire(s, LEAK_DETECTOR, ts, actions[LEAK_DETECTOR], event, 0.0, 0.0, 0.0, out, count)
    elif event == EV_SEISMIC:
        fire(s, SEISMIC, ts, actions[SEISMIC], event, 0.0, 0.0, 0.0, out, count)
    elif event in TAMPER_EVENT_CODES:
        fire(s, TAMPER, ts, actions[TAMPER], event, 0.0, 0.0, 0.0, out, count)
