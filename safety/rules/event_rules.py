"""Event rules: ``seismic`` (shut off at once) and ``tamper`` (tamper, tilt, magnet,
cover open: an alarm at once). One decision per episode; the episode ends when an
operator clears the alarm (``SafetyEngine.clear``)."""

from __future__ import annotations

from safety.config import RulesConfig
from safety.domain import Decision, MeterEvent
from safety.rules.episodes import fire
from safety.state import MeterState

SEISMIC, TAMPER = "seismic", "tamper"
TAMPER_EVENTS = frozenset({"tamper", "tilt", "magnet", "cover_open"})


def evaluate(state: MeterState, event: MeterEvent, config: RulesConfig) -> Decision | None:
    if event.event == "seismic":
        return fire(
            state,
            SEISMIC,
            event.ts_ms,
            event.meter_id,
            config.events.seismic_action,
            {"event": event.event},
        )
    if event.event in TAMPER_EVENTS:
        return fire(
            state,
            TAMPER,
            event.ts_ms,
            event.meter_id,
            config.events.tamper_action,
            {"event": event.event},
        )
    return None
