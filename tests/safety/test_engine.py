"""The pure safety core: rules fire on real faults, never on data-quality problems alone."""

from __future__ import annotations

from safety import Decision, MeterEvent, MeterProfile, Reading, RulesConfig, SafetyEngine

MIN = 60_000
HOUR = 3_600_000
T0 = 1_790_000_000_000


def run(engine: SafetyEngine, items: list[Reading | MeterEvent]) -> list[Decision]:
    return engine.process(items)


def steady(
    meter: str, flow: float, start: int, minutes: int, volume: float = 100.0
) -> list[Reading]:
    """Readings every minute with the register advancing exactly as ``flow`` says."""
    return [
        Reading(meter, start + i * MIN, volume + flow * i / 60, flow_m3h=flow)
        for i in range(minutes + 1)
    ]


# -- over_flow ----------------------------------------------------------------------------


def test_over_flow_fires_once_after_the_hold_time_with_the_model_limit() -> None:
    engine = SafetyEngine()
    decisions = run(engine, steady("M1", 5.0, T0, 5))  # G2.5 limit 4.5
    assert [(d.rule, d.action, d.ts_ms) for d in decisions] == [
        ("over_flow", "shutoff", T0 + 2 * MIN)
    ]
    assert decisions[0].detail["limit_m3h"] == 4.5


def test_over_flow_respects_the_meter_model() -> None:
    engine = SafetyEngine(profiles={"M1": MeterProfile("M1", model="G4")})
    assert run(engine, steady("M1", 5.0, T0, 5)) == []  # G4 limit 7.3
    assert [d.rule for d in run(engine, steady("M1", 8.0, T0 + HOUR, 5, volume=200))] == [
        "over_flow"
    ]


def test_unknown_model_gets_g25_limits() -> None:
    engine = SafetyEngine(profiles={"M1": MeterProfile("M1", model="X99")})
    assert [d.rule for d in run(engine, steady("M1", 5.0, T0, 5))] == ["over_flow"]


def test_reported_flow_spike_not_backed_by_the_register_never_shuts_off() -> None:
    engine = SafetyEngine()
    readings = [Reading("M1", T0 + i * MIN, 100.0, flow_m3h=9.0) for i in range(10)]
    assert run(engine, readings) == []


def test_over_flow_episode_ends_when_flow_drops_and_a_new_episode_fires_again() -> None:
    engine = SafetyEngine()
    first = steady("M1", 5.0, T0, 3)
    calm = [Reading("M1", T0 + 4 * MIN, first[-1].volume_m3, flow_m3h=0.0)]
    second = steady("M1", 5.0, T0 + 5 * MIN, 3, volume=first[-1].volume_m3)
    decisions = run(engine, [*first, *calm, *second])
    # The first reading is the meter's baseline; the second episode starts at +5 min. The
    # jump from 0 to 5 m³/h at +5 min is also a sudden increase (G2.5 step 3.6), confirmed
    # by the next reading.
    summary = [(d.rule, d.ts_ms) for d in decisions]
    assert summary == [
        ("over_flow", T0 + 2 * MIN),
        ("over_flow", T0 + 6 * MIN),
        ("sudden_increase", T0 + 6 * MIN),
    ]


# -- micro_flow ---------------------------------------------------------------------------


def test_micro_flow_fires_after_four_hours_of_unbroken_small_flow() -> None:
    engine = SafetyEngine()
    decisions = run(engine, steady("M1", 0.012, T0, 5 * 60))
    assert [(d.rule, d.action) for d in decisions] == [("micro_flow", "shutoff")]
    assert decisions[0].ts_ms == T0 + MIN + 4 * HOUR  # first reading is the baseline


def test_micro_flow_is_an_alarm_for_commercial_meters() -> None:
    engine = SafetyEngine(profiles={"M1": MeterProfile("M1", category="commercial")})
    assert [d.action for d in run(engine, steady("M1", 0.012, T0, 5 * 60))] == ["alarm"]


def test_micro_flow_interrupted_by_a_zero_reading_restarts() -> None:
    engine = SafetyEngine()
    morning = steady("M1", 0.012, T0, 3 * 60)
    stop = Reading("M1", T0 + 181 * MIN, morning[-1].volume_m3, flow_m3h=0.0)
    afternoon = steady("M1", 0.012, T0 + 182 * MIN, 3 * 60, volume=morning[-1].volume_m3)
    assert run(engine, [*morning, stop, *afternoon]) == []


def test_micro_flow_waits_while_flow_is_above_the_ceiling() -> None:
    engine = SafetyEngine()
    cooking = steady("M1", 0.35, T0, 5 * 60)  # below the 0.4 band: not prolonged use
    assert run(engine, cooking) == []
    after = steady("M1", 0.012, T0 + 5 * HOUR + MIN, 2, volume=cooking[-1].volume_m3)
    assert [d.rule for d in run(engine, after)] == ["micro_flow"]


def test_micro_flow_with_a_stuck_reported_value_and_a_still_register_does_not_fire() -> None:
    engine = SafetyEngine()
    stuck = [Reading("M1", T0 + i * MIN, 100.0, flow_m3h=0.01) for i in range(5 * 60)]
    assert run(engine, stuck) == []


def test_a_gap_longer_than_three_report_intervals_breaks_continuity() -> None:
    engine = SafetyEngine()
    before = steady("M1", 0.012, T0, 2 * 60)
    after = steady(
        "M1", 0.012, T0 + 2 * HOUR + 10 * MIN, 2 * 60 + 30, volume=before[-1].volume_m3 + 0.002
    )
    assert run(engine, [*before, *after]) == []


# -- data quality -------------------------------------------------------------------------


def test_out_of_order_and_duplicate_readings_are_ignored() -> None:
    engine = SafetyEngine()
    readings = steady("M1", 5.0, T0, 1)
    late = Reading("M1", T0 - 10 * MIN, 0.0, flow_m3h=50.0)
    assert run(engine, [*readings, late, readings[-1], readings[-1]]) == []


def test_counter_reset_restarts_episodes_without_a_shutoff() -> None:
    engine = SafetyEngine()
    before = steady("M1", 5.0, T0, 1, volume=900.0)
    after = [
        Reading("M1", T0 + 2 * MIN, 0.0, flow_m3h=5.0),
        Reading("M1", T0 + 3 * MIN, 0.08, flow_m3h=5.0),
    ]
    assert run(engine, [*before, *after]) == []


def test_flow_is_derived_from_the_register_when_not_reported() -> None:
    engine = SafetyEngine()
    readings = [Reading("M1", T0 + i * MIN, 100 + 5.0 * i / 60) for i in range(5)]
    decisions = run(engine, readings)
    assert [d.rule for d in decisions] == ["over_flow"]
    assert abs(decisions[0].detail["flow_m3h"] - 5.0) < 1e-9


def test_meters_are_independent() -> None:
    engine = SafetyEngine()
    interleaved = [
        r
        for pair in zip(steady("A", 5.0, T0, 5), steady("B", 0.1, T0, 5), strict=True)
        for r in pair
    ]
    assert {d.meter_id for d in run(engine, interleaved)} == {"A"}


# -- leak_detector ------------------------------------------------------------------------


def test_detector_alarm_shuts_off_at_once_and_once_per_episode() -> None:
    engine = SafetyEngine()
    alarm = MeterEvent("M1", T0, "detector_alarm")
    decisions = run(engine, [alarm, MeterEvent("M1", T0 + 1000, "detector_alarm")])
    assert [(d.rule, d.action, d.ts_ms) for d in decisions] == [("leak_detector", "shutoff", T0)]
    run(engine, [MeterEvent("M1", T0 + 2000, "detector_clear")])
    again = run(engine, [MeterEvent("M1", T0 + 3000, "detector_alarm")])
    assert [d.ts_ms for d in again] == [T0 + 3000]


def test_clearing_an_alarm_the_engine_does_not_raise_changes_nothing() -> None:
    """Command, connection and offline-report alarms are cleared through the same path as
    rule alarms: the engine must not fail on them, and its open episodes stay open."""
    engine = SafetyEngine()
    assert run(engine, [MeterEvent("M1", T0, "detector_alarm")])
    before = engine.states.copy()
    for rule in ("command_failed", "command_expired", "command_timed_out", "no_such_rule"):
        engine.clear("M1", rule)
        engine.clear("GZ-2026-000001", rule)
    assert engine.states.tobytes() == before.tobytes()  # (NaN fields: compare bytes)
    assert run(engine, [MeterEvent("M1", T0 + 1000, "detector_alarm")]) == []
    engine.clear("M1", "leak_detector")
    assert run(engine, [MeterEvent("M1", T0 + 2000, "detector_alarm")])


def test_other_events_do_not_shut_off() -> None:
    engine = SafetyEngine()
    assert (
        run(engine, [MeterEvent("M1", T0, "button_press"), MeterEvent("M1", T0, "valve_closed")])
        == []
    )


def test_thresholds_come_from_the_configuration() -> None:
    config = RulesConfig.from_mapping({"over_flow": {"hold_s": 300}})
    engine = SafetyEngine(config)
    assert run(engine, steady("M1", 5.0, T0, 4)) == []
    assert [
        d.ts_ms for d in run(engine, steady("M1", 5.0, T0 + 5 * MIN, 2, volume=100 + 5 * 5 / 60))
    ] == [T0 + 6 * MIN]


def test_decision_as_dict_is_the_replay_contract() -> None:
    decision = Decision(T0, "M1", "leak_detector", "shutoff", {"event": "detector_alarm"})
    assert decision.as_dict() == {
        "ts": T0,
        "meter": "M1",
        "rule": "leak_detector",
        "action": "shutoff",
        "detail": {"event": "detector_alarm"},
    }


def test_a_meter_moved_to_another_category_starts_its_prolonged_use_run_again() -> None:
    """The run was counted against the old category's bands: a category change starts it
    again from the next reading (fields declared ``per_category``)."""
    usage = steady("M1", 1.5, T0, 4 * 60)  # residential band 1.0 m³/h: 90 minutes
    unchanged = SafetyEngine()
    (first,) = run(unchanged, usage)
    assert first.rule == "prolonged_use" and first.ts_ms <= T0 + 92 * MIN
    moved = SafetyEngine()
    assert run(moved, usage[:61]) == []
    moved.set_profiles([MeterProfile("M1", category="commercial")])
    moved.set_profiles([MeterProfile("M1", category="residential")])
    (later,) = run(moved, usage[61:])
    assert later.rule == "prolonged_use" and later.ts_ms >= T0 + 150 * MIN
