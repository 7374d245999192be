"""The rules added for issue 4, each on its own, in the pure core (no fixtures)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from safety import Decision, MeterEvent, MeterProfile, Reading, RulesConfig, SafetyEngine
from safety.watermark import FleetWatermark

MIN = 60_000
HOUR = 60 * MIN
DAY = 24 * HOUR
T0 = 1_790_000_000_000


def rules_of(decisions: list[Decision]) -> list[tuple[str, str, int]]:
    return [(d.rule, d.action, d.ts_ms) for d in decisions]


def series(
    meter: str,
    flows: list[float],
    start: int = T0,
    step_ms: int = MIN,
    volume: float = 50.0,
    **fields: object,
) -> list[Reading]:
    """Readings whose register follows ``flows`` (each held until the next reading)."""
    readings = []
    for index, flow in enumerate(flows):
        readings.append(
            Reading(meter, start + index * step_ms, round(volume, 9), flow_m3h=flow, **fields)
        )  # type: ignore[arg-type]
        volume += flow * step_ms / HOUR
    return readings


# -- sudden_increase -----------------------------------------------------------------------


def test_a_jump_by_the_model_step_is_confirmed_by_the_next_reading() -> None:
    engine = SafetyEngine(RulesConfig.from_mapping({"over_flow": {"hold_s": 3600}}))
    decisions = engine.process(series("S1", [0.2, 0.2, 4.0, 4.0, 4.0]))
    assert rules_of(decisions) == [("sudden_increase", "shutoff", T0 + 3 * MIN)]
    assert decisions[0].detail["from_m3h"] == 0.2 and decisions[0].detail["step_m3h"] == 3.6


def test_a_single_spike_is_not_a_sudden_increase() -> None:
    engine = SafetyEngine()
    readings = series("S1", [0.2, 0.2, 0.2, 0.2])
    spike = Reading("S1", readings[2].ts_ms, readings[2].volume_m3, flow_m3h=9.0)
    assert engine.process([readings[0], readings[1], spike, readings[3]]) == []


def test_a_slow_ramp_is_not_sudden() -> None:
    engine = SafetyEngine(RulesConfig.from_mapping({"over_flow": {"hold_s": 3600}}))
    assert engine.process(series("S1", [0.0, 1.0, 2.0, 3.0, 4.0, 4.0])) == []


# -- prolonged_use -------------------------------------------------------------------------


def test_each_band_has_its_own_limit() -> None:
    engine = SafetyEngine()
    two_hours_at_1_5 = series("P1", [1.5] * 121)  # band >= 1.0: 90 min
    decisions = engine.process(two_hours_at_1_5)
    assert rules_of(decisions) == [("prolonged_use", "shutoff", T0 + 92 * MIN)]
    assert decisions[0].detail["band_m3h"] == 1.0


def test_a_three_hour_soup_on_a_low_flame_is_not_prolonged_use() -> None:
    engine = SafetyEngine()
    assert engine.process(series("P1", [0.25] * 181)) == []  # band 0.03: 12 h


def test_commercial_bands_allow_a_working_day() -> None:
    engine = SafetyEngine(profiles={"R1": MeterProfile("R1", "G6", "commercial")})
    twelve_hours = series("R1", [1.8] * (12 * 60 + 1))
    assert engine.process(twelve_hours) == []
    more = series(
        "R1",
        [1.8] * (5 * 60),
        start=twelve_hours[-1].ts_ms + MIN,
        volume=twelve_hours[-1].volume_m3 + 1.8 / 60,
    )
    assert [d.rule for d in engine.process(more)] == ["prolonged_use"]


def test_a_break_in_use_restarts_the_count() -> None:
    engine = SafetyEngine()
    assert engine.process(series("P1", [1.5] * 80 + [0.0] + [1.5] * 80)) == []


# -- no_flow_gap ---------------------------------------------------------------------------


TEN_MIN = 10 * MIN


def hourly_dips(days: int) -> list[float]:
    """Use that never stops for an hour: 50 minutes at 0.5 m³/h, then a 10-minute dip.
    The dips end every micro-flow and prolonged-use episode, but none is an hour long."""
    return [0.0 if slot % 6 == 5 else 0.5 for slot in range(days * 144)]


def test_thirty_days_without_an_hour_of_zero_flow_alarms_once() -> None:
    engine = SafetyEngine(profiles={"N1": MeterProfile("N1", report_interval_s=600)})
    decisions = engine.process(series("N1", hourly_dips(31), step_ms=TEN_MIN))
    assert rules_of(decisions) == [("no_flow_gap", "alarm", T0 + 30 * DAY)]


def test_a_nightly_pause_keeps_no_flow_gap_quiet() -> None:
    engine = SafetyEngine(profiles={"N1": MeterProfile("N1", report_interval_s=600)})
    flows = [0.0 if 12 <= slot % 144 < 24 else flow for slot, flow in enumerate(hourly_dips(40))]
    assert engine.process(series("N1", flows, step_ms=TEN_MIN)) == []


def test_a_silence_without_register_movement_counts_as_a_pause() -> None:
    engine = SafetyEngine(profiles={"N1": MeterProfile("N1", report_interval_s=600)})
    first = series("N1", hourly_dips(20), step_ms=TEN_MIN)
    quiet = Reading("N1", first[-1].ts_ms + 3 * HOUR, first[-1].volume_m3)
    second = series(
        "N1", hourly_dips(15), start=quiet.ts_ms + TEN_MIN, step_ms=TEN_MIN, volume=quiet.volume_m3
    )
    assert engine.process([*first, quiet, *second]) == []


# -- pressure ------------------------------------------------------------------------------


def test_low_pressure_with_the_valve_open_for_a_minute_shuts_off() -> None:
    engine = SafetyEngine()
    readings = [
        Reading("P2", T0 + i * 30_000, 10.0, 0.0, pressure_kpa=0.5, valve="open") for i in range(4)
    ]
    assert rules_of(engine.process(readings)) == [("pressure_low", "shutoff", T0 + 90_000)]


def test_low_pressure_behind_a_closed_valve_is_expected() -> None:
    engine = SafetyEngine()
    readings = [
        Reading("P2", T0 + i * 30_000, 10.0, 0.0, pressure_kpa=0.1, valve="closed")
        for i in range(6)
    ]
    assert engine.process(readings) == []


def test_high_pressure_for_a_minute_shuts_off_and_a_blip_does_not() -> None:
    engine = SafetyEngine()
    blip = [
        Reading("P3", T0 + i * 30_000, 10.0, 0.0, pressure_kpa=p)
        for i, p in enumerate([2.0, 4.0, 2.0, 2.0])
    ]
    assert engine.process(blip) == []
    high = [Reading("P3", T0 + (4 + i) * 30_000, 10.0, 0.0, pressure_kpa=4.0) for i in range(4)]
    assert rules_of(engine.process(high)) == [("pressure_high", "shutoff", T0 + 6 * 30_000)]


# -- flow_while_closed, low_battery ---------------------------------------------------------


def test_the_register_moving_behind_a_closed_valve_alarms() -> None:
    engine = SafetyEngine()
    readings = [
        Reading("C1", T0 + i * MIN, 10.0 + 0.002 * i, 0.0, valve="closed") for i in range(5)
    ]
    assert rules_of(engine.process(readings)) == [("flow_while_closed", "alarm", T0 + 3 * MIN)]


def test_low_battery_alarms_once_until_replaced() -> None:
    engine = SafetyEngine()
    levels = [30, 19, 18, 21, 19, 100, 15]
    readings = [Reading("B1", T0 + i * MIN, 1.0, 0.0, battery_pct=b) for i, b in enumerate(levels)]
    assert [d.ts_ms for d in engine.process(readings)] == [T0 + MIN, T0 + 6 * MIN]


# -- events --------------------------------------------------------------------------------


def test_seismic_shuts_off_and_tamper_events_alarm_once() -> None:
    engine = SafetyEngine()
    events = [
        MeterEvent("E1", T0, "seismic"),
        MeterEvent("E1", T0 + 1, "magnet"),
        MeterEvent("E1", T0 + 2, "cover_open"),
        MeterEvent("E1", T0 + 3, "button_press"),
    ]
    assert rules_of(engine.process(events)) == [
        ("seismic", "shutoff", T0),
        ("tamper", "alarm", T0 + 1),
    ]
    engine.clear("E1", "tamper")
    assert [d.rule for d in engine.process([MeterEvent("E1", T0 + 5, "tilt")])] == ["tamper"]


# -- offline and the watermark ---------------------------------------------------------------


def fleet_minute(minute: int, meters: list[str]) -> list[Reading]:
    return [Reading(m, T0 + minute * MIN, 1.0, 0.0) for m in meters]


def test_a_meter_silent_for_ten_intervals_is_offline_once() -> None:
    engine = SafetyEngine()
    decisions = []
    for minute in range(30):
        meters = ["A", "B", "C", "D"] if minute < 5 or minute > 25 else ["A", "B", "C"]
        decisions += engine.process(fleet_minute(minute, meters))
    assert rules_of(decisions) == [("offline", "alarm", T0 + 14 * MIN)]  # last seen at minute 4
    assert decisions[0].detail["last_seen_ms"] == T0 + 4 * MIN
    # D reported again from minute 26 to 29 (its silence ended), then fell silent again:
    # a second episode, one more alarm.
    later = engine.process(fleet_minute(40, ["A", "B", "C"]))
    assert rules_of(later) == [("offline", "alarm", T0 + 40 * MIN)]
    assert later[0].detail["last_seen_ms"] == T0 + 29 * MIN


def test_a_meter_out_of_service_falls_silent_without_an_offline_alarm() -> None:
    """D was replaced at minute 4: its silence is no fault. Should it speak again, its
    deadline runs again."""
    engine = SafetyEngine()
    decisions = []
    for minute in range(30):
        meters = ["A", "B", "C", "D"] if minute < 5 else ["A", "B", "C"]
        decisions += engine.process(fleet_minute(minute, meters))
        if minute == 4:
            engine.retire("D")
    assert decisions == []
    decisions = engine.process(fleet_minute(31, ["A", "B", "C", "D"]))
    for minute in range(32, 45):
        decisions += engine.process(fleet_minute(minute, ["A", "B", "C"]))
    assert rules_of(decisions) == [("offline", "alarm", T0 + 41 * MIN)]
    engine.retire("never-seen")  # a meter the engine does not know: nothing to stop


def _hourly_day(meter: str, day: int) -> list[Reading]:
    """A day of hourly readings, as a sleeping meter uploads them at its wake-up."""
    return [Reading(meter, T0 + day * DAY + h * HOUR, 1.0, 0.0) for h in range(24)]


def test_a_meter_that_uploads_daily_is_offline_only_after_three_missed_uploads() -> None:
    """Hourly readings uploaded once a day: its newest reading is up to a day old before
    each upload, which is no silence; three days without an upload is."""
    sleepy = MeterProfile("S", report_interval_s=3600, upload_every_s=86_400)
    engine = SafetyEngine(profiles={"S": sleepy, **{m: MeterProfile(m) for m in "ABC"}})
    decisions = []
    for minute in range(0, 8 * 24 * 60, 10):
        decisions += engine.process(fleet_minute(minute, ["A", "B", "C"]))
        day, rest = divmod(minute, 24 * 60)
        if rest == 0 and 1 <= day <= 3:  # the uploads of days 0-2, then none
            decisions += engine.process(_hourly_day("S", day - 1))
    last = T0 + 2 * DAY + 23 * HOUR  # its newest reading, uploaded on day 3
    assert rules_of(decisions) == [("offline", "alarm", last + 3 * DAY)]


def test_a_backlog_older_than_the_limit_raises_no_alarm_per_reading() -> None:
    """A meter silent for a day (one alarm) uploads the day it buffered: the alarm stays
    the only one (each old reading would have set a deadline already past), and its
    fresh readings after the backlog end the silence."""
    engine = SafetyEngine()
    decisions = []
    for minute in range(25 * 60):
        decisions += engine.process(
            fleet_minute(minute, ["A", "B", "C", "D"][: 4 if minute < 5 else 3])
        )
    buffered = [Reading("D", T0 + m * MIN, 1.0, 0.0) for m in range(5, 24 * 60)]
    decisions += engine.process(buffered)  # a day old to a few minutes old
    assert rules_of(decisions) == [("offline", "alarm", T0 + 14 * MIN)]
    for minute in range(25 * 60 + 1, 25 * 60 + 40):  # D is back, then silent again
        meters = ["A", "B", "C", "D"] if minute < 25 * 60 + 20 else ["A", "B", "C"]
        decisions += engine.process(fleet_minute(minute, meters))
    assert rules_of(decisions)[1:] == [("offline", "alarm", T0 + 25 * HOUR + 29 * MIN)]


def test_one_meter_with_a_clock_a_day_ahead_does_not_make_the_fleet_offline() -> None:
    engine = SafetyEngine()
    decisions = []
    for minute in range(20):
        decisions += engine.process(fleet_minute(minute, ["A", "B", "C", "D"]))
        decisions += engine.process([Reading("SKEW", T0 + DAY + minute * MIN, 1.0, 0.0)])
    assert decisions == []
    assert engine.watermark.value == T0 + 19 * MIN


def test_the_watermark_is_the_quorum_th_newest_clock() -> None:
    watermark = FleetWatermark(quorum=3)
    meters = {"A": 0, "B": 1, "C": 2, "FAST": 3, "D": 4}
    for meter, ts in [("A", 10), ("B", 50), ("C", 30), ("FAST", 10_000), ("A", 40), ("D", 20)]:
        watermark.observe(meters[meter], ts)
    assert watermark.value == 40  # FAST 10000, B 50, A 40
    solo = FleetWatermark(quorum=3)
    solo.observe(0, 7)
    assert solo.value == 7


def _quorum_newest_by_definition(seen: list[tuple[str, int]], quorum: int) -> int:
    """The watermark recomputed from scratch: the newest meters' clocks, kept as the
    incremental tracker keeps them (a meter that fell out of the top comes back only
    with a clock newer than the top's oldest)."""
    top: dict[str, int] = {}
    for meter, ts in seen:
        if meter in top:
            top[meter] = max(top[meter], ts)
        elif len(top) < quorum:
            top[meter] = ts
        else:
            oldest = min(top, key=top.__getitem__)
            if ts > top[oldest]:
                del top[oldest]
                top[meter] = ts
    return min(top.values())


@given(
    st.lists(st.tuples(st.sampled_from("ABCDEF"), st.integers(0, 50)), min_size=1),
    st.integers(1, 4),
)
def test_the_watermark_kept_incrementally_matches_its_definition(
    seen: list[tuple[str, int]], quorum: int
) -> None:
    watermark = FleetWatermark(quorum)
    for meter, ts in seen:
        watermark.observe(ord(meter), ts)
    assert watermark.value == _quorum_newest_by_definition(seen, quorum)


# -- a timestamp far in the future -----------------------------------------------------------


def with_fleet(readings: list[Reading]) -> list[Reading]:
    """Interleave three healthy meters reporting at each reading's time (the fleet clock)."""
    mixed: list[Reading] = []
    for reading in readings:
        ts = min(reading.ts_ms, mixed[-1].ts_ms + MIN) if mixed else reading.ts_ms
        mixed.extend(Reading(m, ts, 1.0, 0.0) for m in ("A", "B", "C"))
        mixed.append(reading)
    return mixed


def test_one_reading_from_the_future_does_not_blind_the_meter() -> None:
    engine = SafetyEngine()
    readings = series("F1", [6.0] * 6)
    bad = Reading(
        "F1", readings[1].ts_ms + 12 * 60 * MIN, readings[1].volume_m3 + 0.01, flow_m3h=6.0
    )
    decisions = engine.process(with_fleet([readings[0], readings[1], bad, *readings[2:]]))
    assert [(d.meter_id, d.rule, d.ts_ms) for d in decisions if d.meter_id == "F1"] == [
        ("F1", "over_flow", T0 + 2 * MIN)
    ]


def test_a_clock_that_really_moved_ahead_is_accepted_after_three_readings() -> None:
    engine = SafetyEngine()
    fleet = [Reading(m, T0 + i * MIN, 1.0, 0.0) for i in range(12) for m in ("A", "B", "C")]
    engine.process(fleet[:6])
    shifted = series("S1", [6.0] * 8, start=T0 + 6 * 60 * MIN)
    decisions = []
    for index, reading in enumerate(shifted):
        decisions += engine.process([*fleet[6 + 3 * index : 9 + 3 * index], reading])
    # Held back: readings 0-1; accepted from reading 2 (a new baseline); over_flow after 60 s.
    assert [(d.rule, d.ts_ms) for d in decisions] == [("over_flow", shifted[4].ts_ms)]


# -- reopen watch ------------------------------------------------------------------------


def reopen_run(flow_after: float, event: bool = True, first_after_s: int = 60) -> list[Decision]:
    """A valve closed for an hour, then opened (event or telemetry), then ``flow_after``."""
    engine = SafetyEngine()
    volume = 50.0
    decisions = []
    for minute in range(60):
        reading = Reading("RW", T0 + minute * MIN, volume, 0.0, valve="closed")
        decisions += engine.on_reading(reading)
    opened = T0 + 60 * MIN
    if event:
        decisions += engine.on_event(MeterEvent("RW", opened, "valve_opened"))
    for step in range(3):
        ts = opened + first_after_s * 1000 + step * MIN
        volume_now = volume + flow_after * (ts - opened) / HOUR
        decisions += engine.on_reading(Reading("RW", ts, volume_now, flow_after, valve="open"))
    return decisions


def test_an_appliance_left_open_closes_the_valve_again_right_after_reopening() -> None:
    (decision,) = reopen_run(0.4)
    assert (decision.rule, decision.action) == ("reopen_flow", "shutoff")
    assert decision.detail["seconds_after_reopening"] == 60
    (from_telemetry,) = reopen_run(0.4, event=False)  # the event was lost
    assert from_telemetry.rule == "reopen_flow"


def test_a_pilot_light_or_a_late_burner_is_not_a_reopen_fault() -> None:
    assert reopen_run(0.05) == []  # below the limit
    assert reopen_run(0.4, first_after_s=180) == []  # lit after the two-minute watch
