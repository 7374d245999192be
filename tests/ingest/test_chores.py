"""The lane's chores on one clock and under one guard (a fake clock; no fixtures)."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter

from ingest.chores import Chore, Chores
from ingest.errors import Stopping
from meters.errors import RegistryError


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def failures() -> Counter:
    return Counter("f", "", ["chore"], registry=CollectorRegistry())


def test_each_chore_runs_at_its_own_cadence_on_the_one_clock() -> None:
    clock, ran = Clock(), []
    chores = Chores(
        [
            Chore("always", lambda: ran.append("always")),
            Chore("every 10 s", lambda: ran.append("every 10 s"), 10.0),
            Chore("later", lambda: ran.append("later"), 30.0, wait_first=True),
        ],
        failures(),
        clock,
    )
    for now in (100.0, 105.0, 110.0, 129.9, 130.0):
        clock.now = now
        chores.run()
    assert ran.count("always") == 5
    assert ran.count("every 10 s") == 3  # at 100, 110, 129.9 (10 s after 110 had passed)
    assert ran.count("later") == 1  # not at the start: only at 130


def test_an_outage_waits_for_its_turn_a_bug_is_counted_and_stopping_passes() -> None:
    clock, counter, ran = Clock(), failures(), []

    def outage() -> None:
        raise RegistryError("registry down")

    def bug() -> None:
        raise KeyError("oops")

    chores = Chores(
        [
            Chore("registry", outage, 5.0),
            Chore("buggy", bug),
            Chore("after", lambda: ran.append(1)),
        ],
        counter,
        clock,
    )
    chores.run()
    assert ran == [1]  # neither stopped the others
    assert counter.labels(chore="buggy")._value.get() == 1
    assert counter.labels(chore="registry")._value.get() == 0  # an outage, not a bug
    stopping = Chores([Chore("retrying", lambda: (_ for _ in ()).throw(Stopping("x")))], counter)
    with pytest.raises(Stopping):
        stopping.run()
