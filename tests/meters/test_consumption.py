"""A meter's consumption per day and month from its register (pure): local days, steps
the register cannot have made left out and counted, never billed."""

from __future__ import annotations

from contract.readings import Reading, new_reading
from meters.consumption import as_csv, consumption, period_of

HOUR = 3_600_000
DAY0 = 1_796_313_600_000  # 2026-12-04 00:00 in China (UTC+8)


def reading(ts_ms: int, volume: float) -> Reading:
    return new_reading("M1", ts_ms, volume, None, None, None, None, None)


def test_each_day_gets_the_register_steps_that_end_in_it_local_time() -> None:
    assert period_of(DAY0, "day") == ("2026-12-04", DAY0)
    assert period_of(DAY0 - 1, "day")[0] == "2026-12-03"  # 23:59:59 the day before
    assert period_of(DAY0 + 5 * HOUR, "month")[0] == "2026-12"
    readings = [reading(DAY0 - HOUR + i * HOUR, 100 + i * 0.5) for i in range(26)]  # 0.5/h
    days = consumption(readings, "day", 6.0)
    assert [(d.period, d.volume_m3, d.readings, d.left_out) for d in days] == [
        ("2026-12-03", 0.0, 1, 0),
        ("2026-12-04", 12.0, 24, 0),
        ("2026-12-05", 0.5, 1, 0),
    ]
    assert [m.volume_m3 for m in consumption(readings, "month", 6.0)] == [12.5]


def test_a_reset_and_a_spike_are_left_out_and_counted() -> None:
    readings = [
        reading(DAY0 + 1 * HOUR, 100.0),
        reading(DAY0 + 2 * HOUR, 101.0),
        reading(DAY0 + 3 * HOUR, 999.0),  # a misread: 898 m³ in an hour on a 6 m³/h meter
        reading(DAY0 + 4 * HOUR, 102.0),  # back: a fall, left out too
        reading(DAY0 + 5 * HOUR, 103.0),
        reading(DAY0 + 6 * HOUR, 0.2),  # the register was reset (a new register)
        reading(DAY0 + 7 * HOUR, 1.2),
    ]
    (day,) = consumption(readings, "day", 6.0)
    assert (day.volume_m3, day.readings, day.left_out) == (3.0, 7, 3)  # 1 + 1 + 1 billed
    assert as_csv("M1", [day]) == (
        "meter_id,period,volume_m3,readings,left_out\nM1,2026-12-04,3.000,7,3\n"
    )


def test_no_readings_no_periods_and_a_reading_twice_counts_nothing() -> None:
    assert consumption([], "day", 6.0) == []
    twice = [reading(DAY0 + HOUR, 5.0), reading(DAY0 + HOUR, 5.0), reading(DAY0 + 2 * HOUR, 5.1)]
    (day,) = consumption(twice, "day", 6.0)
    assert (day.volume_m3, day.left_out) == (0.1, 0)
