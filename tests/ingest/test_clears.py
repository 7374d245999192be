"""Clears reach the engine once each, on both registries: alarms cleared in one millisecond
are not applied again at every poll, and a clear committed late is not missed."""

from __future__ import annotations

import logging

import pytest

from contract.decisions import Decision
from contract.profiles import MeterProfile
from ingest.clears import OperatorClears
from meters.registry import Registry
from meters.views import Actor

NOW = 1_790_000_000_000
OTTO = Actor("otto", "operator", "10.0.0.9")


class CountingEngine:
    """Stands in for the safety engine: OperatorClears only calls ``clear``."""

    def __init__(self) -> None:
        self.cleared: list[tuple[str, str]] = []

    def clear(self, meter_id: str, rule: str) -> None:
        self.cleared.append((meter_id, rule))


def open_alarms(registry: Registry, count: int, rule: str = "offline") -> list[int]:
    meters = [f"C{i}" for i in range(count)]
    registry.meters.provision([MeterProfile(m) for m in meters], NOW)
    return [registry.alarms.record(Decision(NOW, m, rule, "alarm", {}), NOW)[0].id for m in meters]


def clears(registry: Registry, engine: CountingEngine, clock_ms: int) -> OperatorClears:
    return OperatorClears(registry, engine, 60.0, lambda: clock_ms, settle_s=30.0)  # type: ignore[arg-type]


def test_alarms_cleared_in_one_millisecond_reach_the_engine_once(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    open_alarms(registry, 40)
    engine = CountingEngine()
    poller = clears(registry, engine, NOW)
    heard = {f"C{i}": NOW + 500 for i in range(40)}
    assert len(registry.alarms.clear_offline_heard_again(heard, NOW + 1_000)) == 40
    caplog.set_level(logging.INFO, "ingest.clears")
    applied = [poller.apply() for _ in range(5)]
    assert applied == [40, 0, 0, 0, 0]
    assert sorted(engine.cleared) == sorted((f"C{i}", "offline") for i in range(40))
    lines = [r.getMessage() for r in caplog.records]  # 20 of their own, then a summary
    assert len(lines) == 21 and all("automatically by gasguard" in line for line in lines)
    assert lines[-1] == (
        "... and 20 more alarms cleared (offline cleared automatically by gasguard 20)"
    )
    assert not any("operator" in line for line in lines)
    registry.alarms.clear(open_alarms(registry, 1, "tamper")[0], OTTO, "checked", NOW + 1_000)
    assert poller.apply() == 1
    assert "cleared by otto" in caplog.records[-1].getMessage()


def test_a_clear_committed_late_with_an_earlier_time_is_not_missed(registry: Registry) -> None:
    first, late = open_alarms(registry, 2, "tamper")
    engine = CountingEngine()
    poller = clears(registry, engine, NOW)
    registry.alarms.clear(first, OTTO, "checked", NOW + 10_000)
    assert poller.apply() == 1
    registry.alarms.clear(late, OTTO, "checked", NOW + 9_000)  # its clock was behind
    assert poller.apply() == 1
    assert engine.cleared == [("C0", "tamper"), ("C1", "tamper")]
    assert poller.apply() == 0
