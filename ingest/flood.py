"""One meter must not exhaust the city's ingest: a cap on what a meter may leave in the
dead letters. Pure: letters and the time in, the letters to keep and the alarms out.

Each meter (by its topic; a topic with no valid meter id counts under one shared key) may
leave ``cap`` dead letters per ``window_s``; past that its letters are dropped (counted,
and the reason logged once) and a ``meter_flooding`` alarm names the meter, once per
window. A real fault rarely needs more than a few examples of the same refusal; a meter
(or someone using its credentials) sending thousands of bad messages an hour is itself
the event to act on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from contract.decisions import Decision
from contract.errors import ProtocolError
from contract.protocol import parse_topic
from meters.views import NewDeadLetter

NO_METER = "(no meter)"
RULE = "meter_flooding"


def meter_of_topic(topic: str) -> str:
    try:
        return parse_topic(topic).meter_id
    except ProtocolError:
        return NO_METER


@dataclass(slots=True)
class FloodGuard:
    cap: int
    window_s: float
    _window_start_ms: int = 0
    _counts: dict[str, int] = field(default_factory=dict)

    def admit(
        self, letters: Sequence[NewDeadLetter], now_ms: int
    ) -> tuple[list[NewDeadLetter], list[Decision], int]:
        """The letters to record, the alarms to raise, how many were dropped."""
        if now_ms - self._window_start_ms >= self.window_s * 1000:
            self._window_start_ms, self._counts = now_ms, {}
        kept: list[NewDeadLetter] = []
        alarms: list[Decision] = []
        dropped = 0
        for letter in letters:
            meter = meter_of_topic(letter.topic)
            count = self._counts.get(meter, 0) + 1
            self._counts[meter] = count
            if count <= self.cap:
                kept.append(letter)
                continue
            dropped += 1
            if count == self.cap + 1:
                detail = {
                    "dead_letters_in_window": self.cap,
                    "window_s": self.window_s,
                    "why": f"more than {self.cap} refused messages: the rest are dropped",
                    "code": letter.code,
                }
                alarms.append(Decision(now_ms, meter, RULE, "alarm", detail))
        return kept, alarms, dropped
