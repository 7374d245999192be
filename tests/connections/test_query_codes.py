"""The applicants' query code: printable, read leniently, hashed. Pure."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connections.query_codes import ALPHABET, RANDOM_BYTES, code_hash, format_code, normalise


@given(st.binary(min_size=RANDOM_BYTES, max_size=RANDOM_BYTES))
def test_every_code_reads_back_as_typed_by_a_hurried_applicant(raw: bytes) -> None:
    code = format_code(raw)
    assert len(code) == 14 and code.count("-") == 2
    assert set(code.replace("-", "")) <= set(ALPHABET)
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert normalise(typed) == code.replace("-", "")
    assert code_hash(typed) == code_hash(code)


def test_codes_carry_sixty_bits_and_differ_by_their_bits() -> None:
    assert format_code(bytes(8)) == "0000-0000-0000"
    assert format_code(b"\xff" * 8) == "ZZZZ-ZZZZ-ZZZZ"
    assert format_code(b"\x00" * 7 + b"\x10") == "0000-0000-0001"  # bit 4 of 64: the last digit
    assert code_hash("0000-0000-0001") != code_hash("0000-0000-0002")


@pytest.mark.parametrize(
    "typed", ["", "1234", "0000-0000-000", "0000-0000-0000-0", "UUUU-0000-0000"]
)
def test_what_cannot_be_a_code_is_refused(typed: str) -> None:
    assert normalise(typed) is None
    with pytest.raises(ValueError):
        code_hash(typed)
