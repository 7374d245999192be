"""One meter cannot exhaust ingest: its dead letters are capped per window (pure)."""

from __future__ import annotations

from ingest.flood import NO_METER, FloodGuard
from meters.views import NewDeadLetter

T0 = 1_790_000_000_000


def letters(meter: str, count: int, at: int = T0) -> list[NewDeadLetter]:
    topic = f"gas/v1/meters/{meter}/telemetry"
    return [NewDeadLetter(at, topic, "not_json", "not JSON", b"{") for _ in range(count)]


def test_past_the_cap_a_meters_letters_are_dropped_and_it_is_alarmed_once() -> None:
    guard = FloodGuard(cap=5, window_s=3600)
    kept, alarms, dropped = guard.admit([*letters("BAD", 8), *letters("OK", 2)], T0)
    assert (len(kept), dropped) == (7, 3)
    assert [(a.meter_id, a.rule, a.detail["code"]) for a in alarms] == [
        ("BAD", "meter_flooding", "not_json")
    ]
    kept, alarms, dropped = guard.admit(letters("BAD", 4) + letters("OK", 3), T0 + 1000)
    assert (len(kept), alarms, dropped) == (3, [], 4)  # same window: no second alarm
    kept, alarms, dropped = guard.admit(letters("BAD", 6, T0 + 3_600_000), T0 + 3_600_000)
    assert (len(kept), len(alarms), dropped) == (5, 1, 1)  # a new window


def test_topics_without_a_meter_share_one_cap() -> None:
    guard = FloodGuard(cap=2, window_s=60)
    junk = [
        NewDeadLetter(T0, f"gas/v1/meters/{name}/telemetry", "bad", "x", b"")
        for name in ("a b", "c/d", "e+f")
    ]
    kept, alarms, _dropped = guard.admit(junk, T0)
    assert len(kept) == 2 and [a.meter_id for a in alarms] == [NO_METER]
