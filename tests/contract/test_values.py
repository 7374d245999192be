"""The shared frozen values."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract.readings import VALVE_STATES, Reading, new_reading

maybe_number = st.none() | st.floats(allow_nan=False)


@given(
    st.tuples(
        st.text(min_size=1, max_size=12),
        st.integers(min_value=0, max_value=2**53),
        st.floats(allow_nan=False),
        maybe_number,
        maybe_number,
        maybe_number,
        maybe_number,
        st.none() | st.sampled_from(sorted(VALVE_STATES)),
    )
)
def test_new_reading_is_the_reading_its_fields_make(fields: tuple[object, ...]) -> None:
    fast = new_reading(*fields)  # type: ignore[arg-type]
    assert fast == Reading(*fields)  # type: ignore[arg-type]
    assert dataclasses.astuple(fast) == fields


def test_a_new_reading_is_frozen() -> None:
    reading = new_reading("M1", 1, 2.0, None, None, None, None, "open")
    with pytest.raises(dataclasses.FrozenInstanceError):
        reading.volume_m3 = 3.0  # type: ignore[misc]
