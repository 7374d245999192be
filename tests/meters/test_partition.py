from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract.errors import ProtocolError
from meters.partition import Partition

METER_IDS = st.from_regex(r"[A-Za-z0-9_-]{1,32}", fullmatch=True)


@given(METER_IDS, st.integers(1, 16))
def test_every_meter_belongs_to_exactly_one_worker(meter_id: str, count: int) -> None:
    owners = [k for k in range(count) if Partition(k, count).owns(meter_id)]
    assert len(owners) == 1
    topic = f"gas/v1/meters/{meter_id}/telemetry"
    assert [k for k in range(count) if Partition(k, count).owns_topic(topic)] == owners


def test_the_hash_is_stable_across_processes() -> None:
    # CRC-32, not Python's randomised hash(): these owners must never change, or a
    # restarted worker would take meters whose safety state another worker holds.
    assert [Partition(k, 4).owns("M000123") for k in range(4)] == [False, True, False, False]


def test_meters_spread_over_the_workers() -> None:
    owners = [next(k for k in range(4) if Partition(k, 4).owns(f"M{i:06d}")) for i in range(4000)]
    assert all(900 < owners.count(k) < 1100 for k in range(4))


def test_a_topic_without_a_meter_id_belongs_to_the_first_worker() -> None:
    for topic in ("elsewhere/x", "gas/v1/meters/", "gas/v1/meters//telemetry"):
        assert [Partition(k, 3).owns_topic(topic) for k in range(3)] == [True, False, False]


def test_unpartitioned_owns_everything() -> None:
    whole = Partition()
    assert whole.whole and whole.suffix == ""
    assert whole.owns("anything") and whole.owns_topic("not/even/a/topic")
    assert Partition(1, 3).suffix == "-p1of3"


@pytest.mark.parametrize("text", ["2", "2/2", "a/b", "-1/2", "1/0", "1/"])
def test_bad_partitions_are_refused(text: str) -> None:
    with pytest.raises(ProtocolError):
        Partition.parse(text)


def test_parse() -> None:
    assert Partition.parse("1/3") == Partition(1, 3)


def test_text_is_what_parse_reads() -> None:
    for partition in (Partition(), Partition(1, 2), Partition(11, 16)):
        assert Partition.parse(partition.text) == partition
    assert Partition(3, 8).text == "3/8"
