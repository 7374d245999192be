"""A meter's clock against gasguard's, from its uplinks (issue 22). Pure: time is passed in.

Each uplink gives one sample: its newest reading's time minus the time it was received.
A meter on time gives a little below zero (the network's delay), and, when it sends what
it buffered, down to one report interval below. Over the last ``window`` uplinks (at
least ``min_samples``), the median says where its clock is: more than ``tolerance_ms``
ahead, or behind by more than its report interval and the tolerance, and the clock is
**drifted**: the meter is flagged (an alarm: its readings' times, and so the rules' event
times, are off by that much) and, where its protocol can set the time (CJ/T 188), a time
set goes out. Back within the tolerance, it is **settled** again."""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Change = Literal["drifted", "settled"]


@dataclass(frozen=True, slots=True)
class ClockFinding:
    meter_id: str
    change: Change
    offset_ms: int  # the median: the meter's clock minus gasguard's


@dataclass
class ClockWatch:
    tolerance_ms: int = 300_000
    window: int = 16
    min_samples: int = 8
    judge_every: int = 4  # the median every few uplinks: a clock drifts slowly
    # one sample a meter per this much time received: a backlog uploaded in a burst of
    # messages (after an outage, a day's history) is one sample, not a drifted clock
    sample_every_ms: int = 60_000
    # a meter's report interval (asked for only when its samples are judged)
    interval_of: Callable[[str], int] = lambda _meter_id: 3_600_000
    _samples: dict[str, deque[int]] = field(default_factory=dict)
    _sampled_at: dict[str, int] = field(default_factory=dict)
    _seen: dict[str, int] = field(default_factory=dict)
    _drifted: set[str] = field(default_factory=set)

    def observe(self, meter_id: str, offset_ms: int, now_ms: int) -> ClockFinding | None:
        """One uplink's sample, received at ``now_ms``; a finding when the meter's clock
        has just drifted or settled."""
        last = self._sampled_at.get(meter_id)
        if last is not None and now_ms - last < self.sample_every_ms:
            return None
        self._sampled_at[meter_id] = now_ms
        samples = self._samples.setdefault(meter_id, deque(maxlen=self.window))
        samples.append(offset_ms)
        seen = self._seen[meter_id] = self._seen.get(meter_id, 0) + 1
        if len(samples) < self.min_samples or seen % self.judge_every:
            return None
        median = int(statistics.median(samples))
        limit_ms = self.interval_of(meter_id) + self.tolerance_ms
        off = median > self.tolerance_ms or median < -limit_ms
        if off and meter_id not in self._drifted:
            self._drifted.add(meter_id)
            return ClockFinding(meter_id, "drifted", median)
        if not off and meter_id in self._drifted:
            self._drifted.discard(meter_id)
            return ClockFinding(meter_id, "settled", median)
        return None

    def reset(self, meter_id: str) -> None:
        """The meter's time was set: judge it afresh."""
        self._samples.pop(meter_id, None)
        self._seen.pop(meter_id, None)
        self._sampled_at.pop(meter_id, None)
