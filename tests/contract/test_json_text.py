"""``parse_json`` (orjson first, the standard library for what orjson refuses) reads every
document as the standard library does (integers beyond 64 bits aside), and fails only with
``ValueError``."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract.json_text import NotJson, parse_json

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)
TEXTS = st.one_of(
    DOCUMENTS.map(lambda d: json.dumps(d, allow_nan=True)),
    DOCUMENTS.map(lambda d: json.dumps(d, allow_nan=True, ensure_ascii=False)),
    st.text(alphabet='{}[]":,0123456789.eE+-ntrufalsNIiy \\', max_size=30),
)


def reference(data: bytes) -> object:
    """The standard library's reading; where orjson reads the document itself, with its
    one difference applied."""
    expected = json.loads(data.decode("utf-8"))
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        return expected
    return wide_ints_as_floats(expected)


def wide_ints_as_floats(value: object) -> object:
    """orjson's one documented difference: an integer beyond 64 bits becomes a float."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if -(2**63) <= value < 2**64 else float(value)
    if isinstance(value, list):
        return [wide_ints_as_floats(v) for v in value]
    if isinstance(value, dict):
        return {k: wide_ints_as_floats(v) for k, v in value.items()}
    return value


@settings(max_examples=400, deadline=None)
@given(st.one_of(TEXTS.map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=20)))
def test_reads_what_the_standard_library_reads_and_refuses_what_it_refuses(data: bytes) -> None:
    try:
        expected = reference(data)
    except ValueError:
        with pytest.raises(ValueError):
            parse_json(data)
        return
    # json.dumps/loads round trip compares NaN-containing documents as text
    assert json.dumps(parse_json(data), sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_duplicate_keys_keep_the_last_value_as_the_standard_library_does() -> None:
    assert parse_json(b'{"a": 1, "a": 2}') == {"a": 2}


def test_a_deeply_nested_document_is_refused_not_a_recursion_error() -> None:
    with pytest.raises(NotJson, match="nested too deeply"):
        parse_json(b"[" * 100_000 + b"]" * 100_000)
