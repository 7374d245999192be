"""The scenario stream does what each quirk and fault says (the scoring relies on it)."""

from __future__ import annotations

from contract.decisions import Decision
from contract.events import MeterEvent
from contract.profiles import MeterProfile
from contract.readings import Reading
from simulators.scenarios import (
    DAY_MS,
    Expect,
    Fault,
    Quirks,
    ScenarioMeter,
    detections,
    score,
    stream,
)

T0 = 1_772_380_800_000
MIN = 60_000


def meter(**kwargs: object) -> ScenarioMeter:
    defaults: dict[str, object] = {
        "profile": MeterProfile("S1", report_interval_s=60),
        "kind": "test",
        "demand": lambda _ts: 0.6,
        "start_ms": T0,
        "end_ms": T0 + 10 * MIN,
    }
    defaults.update(kwargs)
    return ScenarioMeter(**defaults)  # type: ignore[arg-type]


def readings(items: list[Reading | MeterEvent]) -> list[Reading]:
    return [r for r in items if isinstance(r, Reading)]


def test_the_register_integrates_the_flow_and_quirks_change_only_the_transport() -> None:
    plain = readings(stream([meter()]))
    assert [r.ts_ms for r in plain] == [T0 + i * MIN for i in range(10)]
    assert abs(plain[-1].volume_m3 - plain[0].volume_m3 - 0.6 * 9 / 60) < 1e-6
    twice = readings(stream([meter(quirks=Quirks(duplicate_every=3))]))
    assert len(twice) == 10 + 4  # messages 0, 3, 6, 9 sent twice
    ahead = readings(stream([meter(quirks=Quirks(DAY_MS, range(2, 4)))]))
    assert [r.ts_ms - p.ts_ms for r, p in zip(ahead, plain, strict=True)] == [
        0,
        0,
        DAY_MS,
        DAY_MS,
        *[0] * 6,
    ]
    swapped = readings(stream([meter(quirks=Quirks(swap_every=5))]))
    assert [r.ts_ms for r in swapped][:2] == [T0 + MIN, T0]


def test_faults_add_flow_set_pressure_go_silent_and_send_events() -> None:
    start = T0 + 5 * MIN
    leak = readings(stream([meter(fault=Fault("leak", start, extra=lambda _e: 0.01))]))
    assert [r.flow_m3h for r in leak][4:6] == [0.6, 0.61]
    silent = readings(stream([meter(fault=Fault("quiet", start, silent_for_ms=3 * MIN))]))
    assert [r.ts_ms for r in silent][4:6] == [T0 + 4 * MIN, T0 + 8 * MIN]
    events = [
        e
        for e in stream([meter(fault=Fault("x", start, event="seismic"))])
        if isinstance(e, MeterEvent)
    ]
    assert events == [MeterEvent("S1", start, "seismic")]


def test_scoring_counts_hits_misses_and_false_alarms() -> None:
    faulty = meter(expect=Expect("micro_flow", "shutoff", T0, 10 * MIN))
    normal = meter(profile=MeterProfile("N1"))
    hit = Decision(T0 + 2 * MIN, "S1", "micro_flow", "shutoff", {})
    late = Decision(T0 + 11 * MIN, "S1", "micro_flow", "shutoff", {})
    false = Decision(T0, "N1", "micro_flow", "alarm", {})
    assert [d.delay_s for d in detections([faulty], [late, hit])] == [120.0]
    assert detections([faulty], [late])[0].decision is None
    (row,) = score([faulty, normal], [hit, false], ["micro_flow"])
    assert (row.faults, row.detected, row.false_alarms, row.false_shutoffs) == (1, 1, 1, 0)
