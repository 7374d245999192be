"""The scenario library: a normal Guangzhou population over five weeks, and every fault
kind at several strengths and times of day, each with the rule, action and deadline the
safety engine must meet. Built from ``simulators.scenarios``; scored by
tests/safety/test_scenarios.py and written out by ``gasguard simulate --to-file``.

``start_ms`` should be a local midnight (faults are placed at times of day from it);
``households``, ``restaurants`` (every third a canteen) and ``industries`` size the normal
population (the fault meters are always the same 46)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contract.decisions import Action
from contract.profiles import MeterProfile
from safety.config import RulesConfig
from safety.rulebook import RULE_IDS
from simulators.meter import household_cap_m3h
from simulators.scenarios import (
    DAY_MS,
    HOUR_MS,
    Expect,
    Fault,
    Quirks,
    ScenarioMeter,
    canteen,
    household,
    industry,
    model_over_flow,
    model_step,
    restaurant,
)

T0 = 1_772_380_800_000  # Monday 2026-03-02 00:00 in Guangzhou (UTC+8)
NORMAL_DAYS = 35
NORMAL_INTERVAL_S = 300  # battery meters report every five minutes
FAULT_INTERVAL_S = 60
MIN = 60_000
RULES = RulesConfig()
Expected = tuple[str, Action, int]  # rule, action, deadline ms
# local times of day at which faults start: night, midday, dinner
FAULT_TIMES = (3 * HOUR_MS, 12 * HOUR_MS, 19 * HOUR_MS + 30 * MIN)


def _household_meter(
    index: int, model: str, start_ms: int, days: int, **kwargs: Any
) -> ScenarioMeter:
    meter_id = f"H{index:0{_width(index)}d}"
    profile = MeterProfile(meter_id, model, "residential", NORMAL_INTERVAL_S)
    demand = household(meter_id, household_cap_m3h(model), **kwargs)
    return ScenarioMeter(
        profile, "household", demand, start_ms=start_ms, end_ms=start_ms + days * DAY_MS
    )


def _width(index: int) -> int:
    return max(4, len(str(index)))


def normal_population(
    start_ms: int = T0,
    days: int = NORMAL_DAYS,
    households: int = 30,
    restaurants: int = 6,
    industries: int = 2,
) -> list[ScenarioMeter]:
    models = ("G2.5", "G2.5", "G2.5", "G1.6", "G4")
    meters = []
    for index in range(households):
        away = _away_week(start_ms) if index % 8 == 0 else None
        model = models[index % len(models)]
        meters.append(
            _household_meter(index, model, start_ms, days, soup_days=index % 3, away=away)
        )
    for index in range(restaurants):
        meter_id = f"R{index:0{_width(index)}d}"
        profile = MeterProfile(meter_id, "G10" if index % 2 else "G6", "commercial", 300)
        # Every third one a canteen: weekday lunches and suppers, closed at weekends.
        kind, demand = (
            ("canteen", canteen(meter_id))
            if index % 3 == 2
            else ("restaurant", restaurant(meter_id))
        )
        meters.append(
            ScenarioMeter(
                profile,
                kind,
                demand,
                start_ms=start_ms,
                end_ms=start_ms + days * DAY_MS,
            )
        )
    for index in range(industries):
        meter_id = f"I{index:0{_width(index)}d}"
        model = "G25" if index % 2 else "G16"
        profile = MeterProfile(meter_id, model, "industrial", 300)
        meters.append(
            ScenarioMeter(
                profile,
                "small industry",
                industry(meter_id, model),
                start_ms=start_ms,
                end_ms=start_ms + days * DAY_MS,
            )
        )
    quirks = [
        ("clock two days ahead for 100 readings", Quirks(2 * DAY_MS, range(2000, 2100))),
        ("every third message twice", Quirks(duplicate_every=3)),
        ("every fifth pair swapped", Quirks(swap_every=5)),
        ("a 9.9 m³/h spike the register denies", Quirks(spike_at=1500)),
        ("meter replaced, register back to 0", Quirks(replaced_at=4000)),
    ]
    for offset, (_what, quirk) in enumerate(quirks):
        index = max(100, households) + offset
        base = _household_meter(index, "G2.5", start_ms, days, soup_days=1)
        meters.append(
            ScenarioMeter(
                base.profile,
                "data quality",
                base.demand,
                quirks=quirk,
                start_ms=base.start_ms,
                end_ms=base.end_ms,
            )
        )
    return meters


def _away_week(start_ms: int) -> range:
    first = (start_ms + 8 * HOUR_MS) // DAY_MS + 10
    return range(first, first + 7)


def _fault_meter(
    index: int,
    model: str,
    fault: Fault,
    expect: Expect,
    hours_after: float,
    start_ms: int,
    interval_s: int = FAULT_INTERVAL_S,
) -> ScenarioMeter:
    meter_id = f"F{index:04d}"
    profile = MeterProfile(meter_id, model, "residential", interval_s)
    return ScenarioMeter(
        profile,
        fault.kind,
        household(meter_id, household_cap_m3h(model)),
        fault=fault,
        expect=expect,
        start_ms=start_ms,
        end_ms=fault.start_ms + int(hours_after * HOUR_MS),
    )


def constant(flow: float) -> Callable[[int], float]:
    return lambda _elapsed_ms: flow


def ramp(top: float, ramp_ms: int) -> Callable[[int], float]:
    """Extra flow growing linearly from nothing to ``top`` over ``ramp_ms``."""
    return lambda elapsed_ms: round(top * min(1.0, elapsed_ms / ramp_ms), 3)


def fault_meters(start_ms: int = T0) -> list[ScenarioMeter]:
    interval = FAULT_INTERVAL_S * 1000
    meters: list[ScenarioMeter] = []

    def add(kind: str, model: str, expect: Expected, after_ms: int = 0, **fault: Any) -> None:
        """The fault at each time of day, on the scenario's second day; the engine must
        decide within ``deadline`` of the moment the fault becomes detectable (its start,
        or ``after_ms`` later: a battery crossing the threshold, a rise crossing the limit)."""
        rule, action, deadline_ms = expect
        for time_of_day in FAULT_TIMES:
            start = start_ms + DAY_MS + time_of_day
            meters.append(
                _fault_meter(
                    len(meters),
                    model,
                    Fault(kind, start, **fault),
                    Expect(rule, action, start + after_ms, deadline_ms),
                    hours_after=(after_ms + deadline_ms) / HOUR_MS + 1,
                    start_ms=start_ms,
                )
            )

    # micro_flow fires at the first reading below its ceiling once the hold is over: a
    # meal cooked on top of the leak at that moment defers it by up to an hour.
    micro = RULES.micro_flow.hold_s * 1000 + HOUR_MS + 3 * interval
    for strength in (0.008, 0.015, 0.025):
        add("micro leak", "G2.5", ("micro_flow", "shutoff", micro), extra=constant(strength))
    for flow, limit_s in ((0.5, 4 * 3600), (1.2, 90 * 60), (2.2, 60 * 60)):
        deadline = limit_s * 1000 + 3 * interval
        add("appliance left on", "G4", ("prolonged_use", "shutoff", deadline), extra=constant(flow))
    for model in ("G1.6", "G2.5", "G4"):
        jump = constant(round(1.2 * model_step(model), 2))
        add("rupture", model, ("sudden_increase", "shutoff", 3 * interval), extra=jump)
    for model in ("G1.6", "G2.5"):
        climb = ramp(1.3 * model_over_flow(model), 2 * HOUR_MS)
        # The limit is crossed after 2 h / 1.3 = 92 min (sooner with household use on top).
        deadline = 2 * HOUR_MS + RULES.over_flow.hold_s * 1000 + 3 * interval
        add("slow rise", model, ("over_flow", "shutoff", deadline), extra=climb)
    add("detector alarm", "G2.5", ("leak_detector", "shutoff", interval), event="detector_alarm")
    add("earthquake", "G2.5", ("seismic", "shutoff", interval), event="seismic")
    add("tampering", "G2.5", ("tamper", "alarm", interval), event="tamper")
    pressure = RULES.pressure.hold_s * 1000 + 3 * interval
    add("pressure low", "G2.5", ("pressure_low", "shutoff", pressure), pressure_kpa=0.5)
    add("pressure high", "G2.5", ("pressure_high", "shutoff", pressure), pressure_kpa=4.2)
    leaky_valve: Expected = ("flow_while_closed", "alarm", 6 * MIN + 3 * interval)
    add("valve does not seal", "G2.5", leaky_valve, closed_valve_flow_m3h=0.05)
    crossing_ms = int((90 - RULES.low_battery.below_pct) / 40 * DAY_MS)
    battery: Expected = (
        "low_battery",
        "alarm",
        5 * interval,
    )  # reported to 0.1 %: 19.9 a little later
    add("battery drains", "G2.5", battery, crossing_ms - interval, battery_per_day=40.0)
    silence: Expected = ("offline", "alarm", int(RULES.offline.intervals * interval) + 3 * interval)
    add("meter goes silent", "G2.5", silence, silent_for_ms=6 * HOUR_MS)
    meters.append(_intermittent_leak(len(meters), start_ms))
    return meters


def _intermittent_leak(index: int, start_ms: int) -> ScenarioMeter:
    """A leak that stops ten minutes every hour: never four hours on end (micro_flow), but
    no hour without flow in thirty days (no_flow_gap)."""
    meter_id = f"F{index:04d}"
    profile = MeterProfile(meter_id, "G2.5", "residential", NORMAL_INTERVAL_S)

    def leak(elapsed_ms: int) -> float:
        return 0.02 if (elapsed_ms // MIN) % 60 < 50 else 0.0

    period_ms = RULES.no_flow_gap.period_s * 1000
    return ScenarioMeter(
        profile,
        "intermittent leak",
        household(meter_id, household_cap_m3h("G2.5")),
        fault=Fault("intermittent leak", start_ms, extra=leak),
        expect=Expect("no_flow_gap", "alarm", start_ms + period_ms, DAY_MS),
        start_ms=start_ms,
        end_ms=start_ms + max(NORMAL_DAYS, period_ms // DAY_MS + 2) * DAY_MS,
    )


def library(
    start_ms: int = T0,
    days: int = NORMAL_DAYS,
    households: int = 30,
    restaurants: int = 6,
    industries: int = 2,
) -> list[ScenarioMeter]:
    return normal_population(start_ms, days, households, restaurants, industries) + fault_meters(
        start_ms
    )


# Every rule the engine decides on readings and events alone; ``reopen_flow`` needs a
# command round trip (arm, button, reopening) and is tested in tests/ingest/test_commands.py.
RULE_ORDER = tuple(rule for rule in RULE_IDS if rule != "reopen_flow")
