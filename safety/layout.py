"""The fleet's rule state, packed: one fixed-size record per meter in one numpy array.

A city is a million meters; a Python object per meter costs about a kilobyte, this record
costs ``STATE.itemsize`` bytes (see ``bench/safety.py``). "Not set" is ``NO_TS`` for a
time and NaN for a register value. Every field is what one rule needs between readings:

* ``last_ts``/``last_vol``: the newest reading accepted in order (the flow baseline);
  ``last_seen``: the newest message of any kind (offline rule).
* ``gap_ts``: end of the latest window without flow (``no_flow_gap``), the meter's first
  reading until one is seen; ``zero_ts``: start of the current run of zero flow.
* ``over_*``, ``micro_*``, ``band_*`` (``prolonged_use``, one per band), ``plow_ts``,
  ``phigh_ts``: where the current episode of a continuity rule started (time, register).
* ``recent_age``/``recent_flow``: the last ``RECENT`` flows, as milliseconds before
  ``last_ts`` (``sudden_increase``'s window); ``sudden_base``: the base flow of a rise
  waiting for confirmation by the next reading (flag ``CANDIDATE``).
* ``reopen_ts``/``reopen_vol``: a closed valve reopened then (``reopen_flow`` watch).
* ``closed_vol``: register when the valve was first reported closed (``flow_while_closed``).
* ``streak_ts``/``streak_n``: readings far ahead of the fleet, held back until
  ``clock_shift_readings`` of them agree.
* ``open_rules``: one bit per rule whose episode fired and has not ended.
* ``model``/``category``/``interval``: the meter's profile, as codes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from contract.profiles import DEFAULT_REPORT_INTERVAL_S
from safety.config import MAX_BANDS

Record = Any  # one meter's record: in compiled code a view into the state array
NO_TS = np.iinfo(np.int64).min
RECENT = 4  # rising flows kept for sudden_increase's window (rules/sudden_increase.py)

# flags
CANDIDATE = 1  # a sudden rise waits for confirmation
SCHEDULED = 2  # an offline deadline is running (cleared when the alarm fires)

STATE = np.dtype(
    [
        ("last_ts", "<i8"),
        ("last_seen", "<i8"),
        ("gap_ts", "<i8"),
        ("zero_ts", "<i8"),
        ("over_ts", "<i8"),
        ("micro_ts", "<i8"),
        ("plow_ts", "<i8"),
        ("phigh_ts", "<i8"),
        ("reopen_ts", "<i8"),
        ("streak_ts", "<i8"),
        ("band_ts", "<i8", (MAX_BANDS,)),
        ("last_vol", "<f8"),
        ("over_vol", "<f8"),
        ("micro_vol", "<f8"),
        ("reopen_vol", "<f8"),
        ("closed_vol", "<f8"),
        ("sudden_base", "<f8"),
        ("band_vol", "<f8", (MAX_BANDS,)),
        ("recent_flow", "<f8", (RECENT,)),
        ("recent_age", "<i4", (RECENT,)),
        ("interval", "<i4"),
        ("open_rules", "<u2"),
        ("model", "<u2"),
        ("recent_n", "u1"),
        ("streak_n", "u1"),
        ("valve", "u1"),
        ("flags", "u1"),
        ("category", "u1"),
    ]
)

TS_FIELDS = tuple(name for name in STATE.names or () if STATE[name].base == np.dtype("<i8"))
VOL_FIELDS = ("last_vol", "over_vol", "micro_vol", "reopen_vol", "closed_vol", "sudden_base")


def blank(count: int) -> np.ndarray:
    """``count`` records for meters never seen, with the default profile (model code 0 is
    the default model: ``SafetyEngine.models``)."""
    records = np.zeros(count, dtype=STATE)
    for name in TS_FIELDS:
        records[name] = NO_TS
    for name in VOL_FIELDS:
        records[name] = np.nan
    records["band_vol"] = np.nan
    records["interval"] = DEFAULT_REPORT_INTERVAL_S
    return records


# One decision of the compiled core: which input item, which meter (slot), event time,
# rule and action codes, and up to four numbers the decision's detail is built from.
DECISION = np.dtype(
    [
        ("item", "<i8"),
        ("slot", "<i8"),
        ("ts", "<i8"),
        ("x", "<f8", (4,)),
        ("rule", "u1"),
        ("action", "u1"),
    ]
)
