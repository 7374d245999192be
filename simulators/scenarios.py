"""Scenarios with ground truth for scoring the safety engine. Pure: no I/O, no clock.

A scenario meter is a demand profile (a household, a restaurant, a home left for a week),
an optional fault injected at a chosen time and strength, and what the engine is expected
to decide about it (rule, action, deadline). ``stream`` turns a set of scenario meters into
the messages the engine would receive, in arrival order, with the meters' own clock errors,
gaps, duplicates and swaps; ``score`` compares the engine's decisions with the truth.
"""

from __future__ import annotations

import heapq
import statistics
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from contract.decisions import Action, Decision
from contract.events import MeterEvent
from contract.profiles import MeterProfile
from contract.readings import Reading
from safety.config import RulesConfig, model_limits
from simulators.household import (
    household_flow_m3h,
    industry_flow_m3h,
    is_weekend,
    local_day,
    local_minute,
    unit_hash,
)

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
Demand = Callable[[int], float]


# -- demand profiles --------------------------------------------------------------------


def household(seed: str, cap_m3h: float, soup_days: int = 0, away: range | None = None) -> Demand:
    """A Guangzhou household (meals, shower, short uses); on ``soup_days`` of the week a
    three-hour soup on a low flame from 14:00; nothing at all on the days in ``away``."""

    def flow(ts_ms: int) -> float:
        day = local_day(ts_ms)
        if away is not None and day in away:
            return 0.0
        base = min(household_flow_m3h(seed, ts_ms), cap_m3h)
        if day % 7 < soup_days and 14 * 60 <= local_minute(ts_ms) < 17 * 60:
            base += round(0.08 + 0.06 * unit_hash(seed, "soup", day), 3)
        return base

    return flow


def restaurant(seed: str) -> Demand:
    """A restaurant kitchen open 10:00-22:00, several burners, busiest at meal times."""

    def flow(ts_ms: int) -> float:
        minute = local_minute(ts_ms)
        if not 10 * 60 <= minute < 22 * 60:
            return 0.0
        rush = 11 * 60 <= minute < 13 * 60 + 30 or 17 * 60 <= minute < 20 * 60
        slot = ts_ms // (10 * 60_000)
        return round((2.5 if rush else 1.2) + 1.0 * unit_hash(seed, "kitchen", slot), 3)

    return flow


def canteen(seed: str) -> Demand:
    """A works or school canteen: cooks lunch 10:00-13:00 and supper 16:00-18:30 on
    Monday-Friday with steamers and large woks, closed at weekends."""

    def flow(ts_ms: int) -> float:
        day, minute = local_day(ts_ms), local_minute(ts_ms)
        if is_weekend(day):
            return 0.0
        if not (10 * 60 <= minute < 13 * 60 or 16 * 60 <= minute < 18 * 60 + 30):
            return 0.0
        return round(2.0 + 1.0 * unit_hash(seed, "canteen", ts_ms // (10 * 60_000)), 3)

    return flow


def industry(seed: str, model: str) -> Demand:
    """A small factory's boiler: two shifts on Monday-Saturday (simulators.household)."""
    return lambda ts_ms: industry_flow_m3h(seed, model, ts_ms)


# -- faults ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fault:
    """What goes wrong, from ``start_ms``: extra flow (``extra(ms since the start)``), a
    pressure, a valve
    that reports closed while gas flows, a draining battery, a silence, or an event."""

    kind: str
    start_ms: int
    extra: Callable[[int], float] | None = None
    pressure_kpa: float | None = None
    closed_valve_flow_m3h: float | None = None
    battery_per_day: float | None = None
    silent_for_ms: int | None = None
    event: str | None = None


@dataclass(frozen=True, slots=True)
class Expect:
    """The engine must decide ``rule`` with ``action`` between ``from_ms`` and
    ``from_ms + deadline_ms``."""

    rule: str
    action: Action
    from_ms: int
    deadline_ms: int


@dataclass(frozen=True, slots=True)
class Quirks:
    """Data-quality problems of a meter that must never shut its valve."""

    clock_ahead_ms: int = 0
    clock_wrong: range | None = None  # readings (by index) sent with the clock ahead
    duplicate_every: int = 0  # every n-th message is sent twice
    swap_every: int = 0  # every n-th pair of messages arrives in the wrong order
    spike_at: int | None = None  # reading index with a flow spike the register denies
    replaced_at: int | None = None  # reading index where the meter is replaced (register 0)


@dataclass(frozen=True, slots=True)
class ScenarioMeter:
    profile: MeterProfile
    kind: str  # population: household, restaurant, ... (for the table)
    demand: Demand
    fault: Fault | None = None
    expect: Expect | None = None
    quirks: Quirks = field(default_factory=Quirks)
    start_ms: int = 0
    end_ms: int = 0


# -- the stream --------------------------------------------------------------------------


def _flow(meter: ScenarioMeter, ts_ms: int) -> float:
    flow = meter.demand(ts_ms)
    fault = meter.fault
    if fault is not None and ts_ms >= fault.start_ms:
        if fault.extra is not None:
            flow += fault.extra(ts_ms - fault.start_ms)
        if fault.closed_valve_flow_m3h is not None:
            flow = fault.closed_valve_flow_m3h
    return round(flow, 4)


def meter_messages(meter: ScenarioMeter) -> Iterator[tuple[int, Reading | MeterEvent]]:
    """(true time, message) for one meter, before its transport quirks."""
    interval_ms = meter.profile.report_interval_s * 1000
    fault, quirks = meter.fault, meter.quirks
    volume, battery = 1000.0 + 500 * unit_hash(meter.profile.meter_id, "v0"), 90.0
    previous_ts, previous_flow = None, 0.0
    event_sent = False
    for index, ts in enumerate(range(meter.start_ms, meter.end_ms, interval_ms)):
        active = fault is not None and ts >= fault.start_ms
        if previous_ts is not None:
            volume += previous_flow * (ts - previous_ts) / HOUR_MS
        if quirks.replaced_at == index:
            volume = 0.0
        flow = _flow(meter, ts)
        previous_ts, previous_flow = ts, flow
        if active and fault is not None and fault.battery_per_day is not None:
            battery = max(0.0, 90.0 - fault.battery_per_day * (ts - fault.start_ms) / DAY_MS)
        if active and fault is not None and fault.event is not None and not event_sent:
            event_sent = True
            yield ts, MeterEvent(meter.profile.meter_id, ts, fault.event)
        silent = (
            active
            and fault is not None
            and fault.silent_for_ms is not None
            and ts < fault.start_ms + fault.silent_for_ms
        )
        if silent:
            continue
        sent_ts = ts + (
            quirks.clock_ahead_ms if quirks.clock_wrong and index in quirks.clock_wrong else 0
        )
        reported_flow = 9.9 if quirks.spike_at == index else flow
        pressure = 2.0 + 0.1 * unit_hash(meter.profile.meter_id, "p", ts // 600_000)
        if active and fault is not None and fault.pressure_kpa is not None:
            pressure = fault.pressure_kpa
        closed = active and fault is not None and fault.closed_valve_flow_m3h is not None
        yield (
            ts,
            Reading(
                meter_id=meter.profile.meter_id,
                ts_ms=sent_ts,
                volume_m3=round(volume, 6),
                flow_m3h=reported_flow,
                pressure_kpa=round(pressure, 3),
                battery_pct=round(battery, 1),
                valve="closed" if closed else "open",
            ),
        )


def _transported(meter: ScenarioMeter) -> Iterator[tuple[int, str, int, Reading | MeterEvent]]:
    """(arrival time, meter, order, message) after swaps and duplicates, lazily."""
    quirks = meter.quirks
    meter_id = meter.profile.meter_id
    messages: Iterable[tuple[int, Reading | MeterEvent]] = meter_messages(meter)
    if quirks.swap_every:
        swapped = list(messages)
        for i in range(0, len(swapped) - 1, quirks.swap_every):
            (t1, m1), (t2, m2) = swapped[i], swapped[i + 1]
            swapped[i], swapped[i + 1] = (t1, m2), (t2, m1)
        messages = swapped
    for order, (ts, message) in enumerate(messages):
        yield ts, meter_id, order, message
        if quirks.duplicate_every and order % quirks.duplicate_every == 0:
            yield ts, meter_id, order, message


def arrivals(meters: Iterable[ScenarioMeter]) -> Iterator[Reading | MeterEvent]:
    """Every meter's messages in arrival order (true time, then meter), as a stream: a
    big fleet written to a file never sits in memory whole."""
    merged = heapq.merge(*(_transported(m) for m in meters), key=lambda a: a[:3])
    for *_, message in merged:
        yield message


def stream(meters: Iterable[ScenarioMeter]) -> list[Reading | MeterEvent]:
    return list(arrivals(meters))


# -- scoring -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Detection:
    meter: ScenarioMeter
    decision: Decision | None  # the first matching decision, or None (missed)

    @property
    def delay_s(self) -> float | None:
        if self.decision is None or self.meter.expect is None:
            return None
        return (self.decision.ts_ms - self.meter.expect.from_ms) / 1000


@dataclass(frozen=True, slots=True)
class RuleScore:
    rule: str
    faults: int
    detected: int
    delays_s: tuple[float, ...]
    false_alarms: int
    false_shutoffs: int
    meter_months: float

    @property
    def recall(self) -> float | None:
        return self.detected / self.faults if self.faults else None

    def row(self) -> str:
        recall = "–" if self.recall is None else f"{self.recall:.0%}"
        delays = (
            f"{statistics.median(self.delays_s) / 60:.1f} / {max(self.delays_s) / 60:.1f}"
            if self.delays_s
            else "–"
        )
        rate = self.false_alarms / self.meter_months if self.meter_months else 0.0
        return (
            f"| {self.rule} | {self.faults} | {recall} | {delays} | "
            f"{self.false_alarms} ({rate:.3f}) | {self.false_shutoffs} |"
        )


TABLE_HEADER = (
    "| rule | faults | recall | delay median / max (min) | "
    "false alarms on normal meters (per meter-month) | false shutoffs |\n|---|---|---|---|---|---|"
)


def detections(meters: Iterable[ScenarioMeter], decisions: list[Decision]) -> list[Detection]:
    by_meter: dict[str, list[Decision]] = {}
    for decision in decisions:
        by_meter.setdefault(decision.meter_id, []).append(decision)
    found = []
    for meter in meters:
        expect = meter.expect
        if expect is None:
            continue
        match = next(
            (
                d
                for d in by_meter.get(meter.profile.meter_id, [])
                if d.rule == expect.rule
                and d.action == expect.action
                and expect.from_ms <= d.ts_ms <= expect.from_ms + expect.deadline_ms
            ),
            None,
        )
        found.append(Detection(meter, match))
    return found


def score(
    meters: list[ScenarioMeter], decisions: list[Decision], rules: Iterable[str]
) -> list[RuleScore]:
    normal = {m.profile.meter_id: m for m in meters if m.expect is None}
    months = sum((m.end_ms - m.start_ms) / (30 * DAY_MS) for m in normal.values())
    found = detections(meters, decisions)
    scores = []
    for rule in rules:
        mine = [d for d in found if d.meter.expect is not None and d.meter.expect.rule == rule]
        false = [d for d in decisions if d.rule == rule and d.meter_id in normal]
        scores.append(
            RuleScore(
                rule=rule,
                faults=len(mine),
                detected=sum(d.decision is not None for d in mine),
                delays_s=tuple(d.delay_s for d in mine if d.delay_s is not None),
                false_alarms=len(false),
                false_shutoffs=sum(d.action == "shutoff" for d in false),
                meter_months=months,
            )
        )
    return scores


def table(scores: list[RuleScore]) -> str:
    return "\n".join([TABLE_HEADER, *(s.row() for s in scores)])


def model_step(model: str) -> float:
    return model_limits(RulesConfig(), model).sudden_step_m3h


def model_over_flow(model: str) -> float:
    return model_limits(RulesConfig(), model).over_flow_m3h
