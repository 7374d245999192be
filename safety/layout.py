"""The fleet's rule state, packed: one fixed-size record per meter in one numpy array.

A city is a million meters; a Python object per meter costs about a kilobyte, this record
costs ``STATE.itemsize`` bytes (``safety.rulebook``, see ``bench/safety.py``). "Not set" is
``NO_TS`` for a time and NaN for a register value.

The record is assembled from the kernel's own fields (below) and the fields each rule
module declares (``RuleUnit.state``): see each rule's module for what its fields hold.
The kernel's own:

* ``last_ts``/``last_vol``: the newest reading accepted in order (the flow baseline);
  ``last_seen``: the newest message of any kind (offline rule).
* ``streak_ts``/``streak_n``: readings far ahead of the fleet, held back until
  ``clock_shift_readings`` of them agree (``safety.quality``).
* ``open_rules``: one bit per rule (its code) whose episode fired and has not ended; as
  wide as the number of rules needs.
* ``valve``: the valve state last reported; ``flags``: the bits below.
* ``model``/``category``/``interval``/``upload``: the meter's profile, as codes (``upload``:
  the time between a sleeping meter's uploads, 0 for a meter that sends as it reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from contract.profiles import DEFAULT_REPORT_INTERVAL_S

Record = Any  # one meter's record: in compiled code a view into the state array
NO_TS = np.iinfo(np.int64).min  # a time not set

# bits of ``flags``: a yes/no a rule keeps between readings
CANDIDATE = 1  # a sudden rise waits for confirmation (rules/sudden_increase.py)
SCHEDULED = 2  # an offline deadline is running, cleared when the alarm fires (rules/offline.py)


@dataclass(frozen=True)
class Field:
    """One field of a meter's packed record, with its value for a meter never seen."""

    name: str
    dtype: str
    blank: float = 0
    shape: tuple[int, ...] = ()
    # back to blank when the meter's category changes: it was counted against the old
    # category's table (a prolonged-use run against its bands)
    per_category: bool = False


def time_field(name: str, shape: tuple[int, ...] = (), per_category: bool = False) -> Field:
    """Epoch milliseconds, ``NO_TS`` when not set."""
    return Field(name, "<i8", NO_TS, shape, per_category)


def volume_field(name: str, shape: tuple[int, ...] = ()) -> Field:
    """A register value (m³), NaN when not set."""
    return Field(name, "<f8", float("nan"), shape)


CORE_FIELDS = (
    time_field("last_ts"),
    time_field("last_seen"),
    time_field("streak_ts"),
    volume_field("last_vol"),
    Field("interval", "<i4", DEFAULT_REPORT_INTERVAL_S),
    Field("upload", "<i4", 0),  # a meter that sleeps: seconds between uploads (0: it does not)
    Field("model", "<u2"),  # code 0: the default model (SafetyEngine.models)
    Field("streak_n", "u1"),
    Field("valve", "u1"),
    Field("flags", "u1"),
    Field("category", "u1"),
)


def open_rules_field(rules: int) -> Field:
    """``open_rules``: the narrowest unsigned integer with a bit per rule."""
    for dtype, bits in (("u1", 8), ("<u2", 16), ("<u4", 32), ("<u8", 64)):
        if rules <= bits:
            return Field("open_rules", dtype)
    raise ValueError(f"{rules} rules: open_rules holds at most 64")


def state_dtype(fields: Sequence[Field]) -> np.dtype:
    """The packed record of ``fields``: widest first (declaration order among equals), so
    every number sits on its natural alignment."""
    ordered = sorted(fields, key=lambda f: -np.dtype(f.dtype).itemsize)
    return np.dtype([(f.name, f.dtype, f.shape) if f.shape else (f.name, f.dtype) for f in ordered])


def blank(dtype: np.dtype, fields: Sequence[Field], count: int) -> np.ndarray:
    """``count`` records for meters never seen."""
    records = np.zeros(count, dtype=dtype)
    for f in fields:
        if f.blank:
            records[f.name] = f.blank
    return records


class Reading(NamedTuple):
    """One reading as the rule steps see it: the reading, and the baseline it continues.
    A value (not a record in memory), so the compiled steps keep it in registers."""

    ts: int
    prev_ts: int  # NO_TS: none
    volume: float
    prev_volume: float  # NaN: none
    flow: float  # the reported flow, else the register's since prev (NaN on a new baseline)
    pressure: float  # NaN: not reported
    battery: float  # NaN: not reported
    valve: int  # codes.VALVE_*; VALVE_NONE: not reported
    prev_valve: int  # the valve state known before this reading


def decision_dtype(numbers: int) -> np.dtype:
    """One decision of the compiled core: which input item, which meter (slot), event
    time, rule and action codes, and the numbers its detail is built from."""
    return np.dtype(
        [
            ("item", "<i8"),
            ("slot", "<i8"),
            ("ts", "<i8"),
            ("x", "<f8", (numbers,)),
            ("rule", "u1"),
            ("action", "u1"),
        ]
    )
