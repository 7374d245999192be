"""The replay reader under arbitrary input (hypothesis): no exception escapes, and every
non-blank line is a declaration, a reading, an event, or rejected with a reason."""

from __future__ import annotations

import io
import json

import numpy as np
import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from contract.readings import Reading
from gasguard.replay import fast_reading, parse_line, replay
from safety.batch import BatchBuilder
from safety.config import RulesConfig

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=2),
)
RECORDS = st.fixed_dictionaries(
    {"type": st.sampled_from(["meter", "reading", "event", "other", 7])},
    optional={
        "meter": st.one_of(st.sampled_from(["M1", "M2", "", "a/b"]), VALUES),
        "ts": st.one_of(st.integers(1_700_000_000_000, 1_800_000_000_000), VALUES),
        "volume_m3": st.one_of(st.floats(0, 1e6), VALUES),
        "flow_m3h": st.one_of(st.floats(0, 100), VALUES),
        "pressure_kpa": VALUES,
        "battery_pct": VALUES,
        "valve": st.one_of(st.sampled_from(["open", "closed", "fault"]), VALUES),
        "event": st.one_of(st.sampled_from(["detector_alarm", "tamper", "nope"]), VALUES),
        "model": VALUES,
        "category": st.one_of(st.sampled_from(["residential", "commercial"]), VALUES),
        "report_interval_s": VALUES,
    },
)
LINES = st.one_of(RECORDS.map(lambda r: json.dumps(r, allow_nan=True)), st.text(max_size=40))


@settings(max_examples=300, deadline=None)
@given(st.lists(LINES, max_size=30))
def test_every_line_is_taken_or_rejected_never_an_exception(lines: list[str]) -> None:
    source = io.StringIO("\n".join(line.replace("\n", " ") for line in lines) + "\n")
    out, log = io.StringIO(), io.StringIO()
    stats = replay(source, out, RulesConfig(), log)
    taken = stats.meters + stats.readings + stats.events
    assert stats.lines == taken + stats.rejected
    assert log.getvalue().count("rejected:") == stats.rejected
    decisions = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(decisions) == stats.decisions
    assert all(d["action"] in ("alarm", "shutoff") for d in decisions)


def test_unhashable_values_are_rejected_not_raised() -> None:
    # Found by the property above: a list where a name was expected raised TypeError.
    lines = [
        {"type": "meter", "meter": "M1", "category": ["residential"]},
        {"type": "reading", "meter": "M1", "ts": 1_790_000_000_000, "volume_m3": 1, "valve": []},
    ]
    source = io.StringIO("".join(json.dumps(line) + "\n" for line in lines))
    log = io.StringIO()
    stats = replay(source, io.StringIO(), RulesConfig(), log)
    assert (stats.lines, stats.rejected) == (2, 2)
    assert "'category' must be one of" in log.getvalue()
    assert "'valve' must be one of" in log.getvalue()


def _row_of(reading: Reading) -> np.ndarray:
    batch = BatchBuilder()
    batch.reading(reading)
    return np.array(batch.rows[0], dtype=np.float64)


@settings(max_examples=500, deadline=None)
@given(RECORDS)
def test_the_fast_path_takes_only_what_the_full_parser_takes_with_the_same_values(
    record: dict[str, object],
) -> None:
    text = json.dumps(record, allow_nan=True)
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        return  # NaN / Infinity / huge integers: orjson refuses, the full parser decides
    fast = fast_reading(parsed)
    if fast is None:
        return
    item = parse_line(text)
    assert isinstance(item, Reading)
    meter_id, row = fast
    assert meter_id == item.meter_id
    assert np.array_equal(np.array(row, dtype=np.float64), _row_of(item), equal_nan=True)


def test_the_fast_path_takes_plain_readings() -> None:
    plain = {"type": "reading", "meter": "M1", "ts": 1_790_000_000_000, "volume_m3": 1}
    full = {**plain, "flow_m3h": 0.5, "pressure_kpa": 2.1, "battery_pct": 80, "valve": "open"}
    for record in (plain, full, {**full, "temperature_c": -3.5}):
        assert fast_reading(orjson.loads(json.dumps(record))) is not None
