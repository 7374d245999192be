"""Meter id -> slot without a Python object per meter."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from safety.index import MeterIndex, encode

IDS = st.text(alphabet="ABCXYZ019_-", min_size=1, max_size=32)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(IDS, max_size=400), max_size=6))
def test_slots_are_handed_out_in_first_seen_order_and_never_change(
    batches: list[list[str]],
) -> None:
    index = MeterIndex(capacity=4)  # tiny: every test grows it several times
    expected: dict[str, int] = {}
    for batch in batches:
        for meter_id in batch:
            expected.setdefault(meter_id, len(expected))
        if batch:
            assert list(index.slots(encode(batch))) == [expected[m] for m in batch]
    assert len(index) == len(expected)
    assert index.meter_ids() == list(expected)
    for meter_id, slot in expected.items():
        assert index.find(meter_id) == slot
        assert index.meter_id(slot) == meter_id


def test_find_does_not_add_an_unknown_meter() -> None:
    index = MeterIndex()
    index.slots(encode(["A", "B"]))
    assert index.find("C") is None
    assert len(index) == 2
    assert index.slots(encode(["C"]))[0] == 2


def test_a_thirty_two_character_id_is_kept_whole() -> None:
    index = MeterIndex()
    long_id = "X" * 31 + "Y"
    index.slots(encode([long_id, "X" * 31]))
    assert index.meter_ids() == [long_id, "X" * 31]


def test_reserve_makes_room_without_moving_anyone() -> None:
    index = MeterIndex(capacity=4)
    index.slots(encode(["A", "B", "C"]))
    index.reserve(100_000)
    assert index.capacity == 100_000
    assert [index.find(m) for m in "ABC"] == [0, 1, 2]
