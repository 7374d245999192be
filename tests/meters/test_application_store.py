"""Connection applications in the registry, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from connections.applications import NewApplication
from connections.policies import Policies
from connections.workdays import WorkCalendar
from meters.errors import Conflict
from meters.registry import Registry
from meters.views import Actor

T0 = 1_772_416_800_000  # Monday 2026-03-02 10:00 in Guangzhou
DAY = 86_400_000
OTTO = Actor("otto", "operator", "10.0.0.7")
NEW = NewApplication("lingbao", "A", "counter", "王先生", "13712345678", "灵宝市 函谷路 8 号")


def test_applications_carry_their_stages_pauses_and_meter(registry: Registry) -> None:
    store = registry.connections
    app = store.create(NEW, OTTO, T0)
    assert app.number.startswith("LI2026") and app.state == "open"
    assert app.query_code is not None
    assert store.lookup(app.number, app.query_code) == dataclasses.replace(app, query_code=None)
    assert store.lookup(app.number, "0000-0000-0000") is None
    assert store.lookup(app.number, "5678") is None  # the phone's digits open nothing
    assert store.lookup("LI20260000002", app.query_code) is None  # another number
    store.pause(app.id, OTTO, "administrative approval", T0 + DAY // 4)
    with pytest.raises(Conflict):
        store.pause(app.id, OTTO, "again", T0 + DAY // 3)
    resumed = store.resume(app.id, OTTO, T0 + 2 * DAY)
    (pause,) = resumed.pauses
    assert (pause.start_ms, pause.end_ms, pause.reason) == (
        T0 + DAY // 4,
        T0 + 2 * DAY,
        "administrative approval",
    )
    status = Policies(WorkCalendar()).status(resumed, T0 + 2 * DAY)
    # counted from Monday 00:00; the pause (Monday 16:00 to Wednesday 10:00) left out
    assert (status.used_days, status.state) == (0.667, "on_time")
    store.commission(app.id, "M9", OTTO, T0 + 2 * DAY)
    other = store.create(NEW, OTTO, T0)
    with pytest.raises(Conflict, match="commissioned"):
        store.commission(other.id, "M9", OTTO, T0 + 2 * DAY)
    assert store.awaiting_gas_on() == {"M9"}
    with pytest.raises(Conflict, match="commission its meter"):
        store.record_gas_on(other.id, OTTO, T0 + 3 * DAY, T0 + 3 * DAY)
    recorded = store.record_gas_on(app.id, OTTO, T0 + 3 * DAY, T0 + 3 * DAY)
    assert (recorded.state, recorded.gas_on_recorded_ms) == ("open", T0 + 3 * DAY)  # unconfirmed
    assert store.first_flow({"M9": T0 + 3 * DAY + 60_000, "X": T0}, T0 + 3 * DAY) == [app.number]
    done = store.get(app.id)
    assert (done.state, done.gas_on_ms, done.first_flow_ms) == (
        "done",
        T0 + 3 * DAY,  # the recorded time ends the clock, the flow confirms it
        T0 + 3 * DAY + 60_000,
    )
    assert store.awaiting_gas_on() == set()
    assert [a.state for a in store.find()] == ["open", "done"]
    actions = [e.action for e in registry.audit.entries()]
    assert actions.count("connection.create") == 2 and "connection.commission" in actions


def test_applications_created_at_once_get_distinct_numbers(registry: Registry) -> None:
    store = registry.connections
    start = threading.Barrier(8)

    def create_three() -> list[str]:
        start.wait()
        return [store.create(NEW, OTTO, T0).number for _ in range(3)]

    with ThreadPoolExecutor(8) as pool:
        numbers = [n for batch in pool.map(lambda _: create_three(), range(8)) for n in batch]
    assert len(set(numbers)) == 24
    assert all(n.startswith("LI2026") and len(n) == len("LI2026") + 7 for n in numbers)
