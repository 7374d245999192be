"""The fleet's event-time watermark: the ``quorum``-th newest meter clock.

It only moves when at least ``quorum`` meters have reported at or after that time, so up
to ``quorum - 1`` meters whose clocks run ahead cannot drag it forward (which would
declare every other meter silent). With fewer meters than the quorum, the oldest of their
clocks is used.

State: ``top_slot``/``top_ts``, the quorum meters with the newest clocks in the order they
entered; ``meta[TOP_N]`` how many, ``meta[VALUE]`` the watermark (``NO_TS`` before any).
``meta[NEXT_DEADLINE]`` belongs to the offline rule (a lower bound of its deadlines).
"""

from __future__ import annotations

import numpy as np

from safety.jit import compiled
from safety.layout import NO_TS

TOP_N = 0
VALUE = 1
NEXT_DEADLINE = 2


@compiled
def observe(top_slot: np.ndarray, top_ts: np.ndarray, meta: np.ndarray, slot: int, ts: int) -> None:
    quorum = top_slot.shape[0]
    count = meta[TOP_N]
    if meta[VALUE] != NO_TS and ts <= meta[VALUE] and count >= quorum:
        return  # at or behind the watermark: cannot change the quorum's newest clocks
    found = -1
    for k in range(count):
        if top_slot[k] == slot:
            found = k
    if found >= 0:
        if ts <= top_ts[found]:
            return
        top_ts[found] = ts
    elif count < quorum:
        top_slot[count] = slot
        top_ts[count] = ts
        count += 1
        meta[TOP_N] = count
    else:  # the oldest clock leaves (the first to enter, on a tie); the new one enters last
        oldest = 0
        for k in range(1, count):
            if top_ts[k] < top_ts[oldest]:
                oldest = k
        for k in range(oldest, count - 1):
            top_slot[k] = top_slot[k + 1]
            top_ts[k] = top_ts[k + 1]
        top_slot[count - 1] = slot
        top_ts[count - 1] = ts
    value = top_ts[0]
    for k in range(1, count):
        value = min(value, top_ts[k])
    meta[VALUE] = value


class FleetWatermark:
    """The arrays above, for the engine's edge: meters are slots here."""

    def __init__(self, quorum: int) -> None:
        self.quorum = max(1, quorum)
        self.top_slot = np.zeros(self.quorum, dtype=np.int64)
        self.top_ts = np.zeros(self.quorum, dtype=np.int64)
        self.meta = np.array([0, NO_TS, np.iinfo(np.int64).max], dtype=np.int64)

    def observe(self, slot: int, ts: int) -> None:
        observe(self.top_slot, self.top_ts, self.meta, slot, ts)

    @property
    def value(self) -> int | None:
        value = int(self.meta[VALUE])
        return None if value == NO_TS else value

    @property
    def established(self) -> bool:
        """True once ``quorum`` meters have reported (only then can a clock be 'ahead')."""
        return int(self.meta[TOP_N]) >= self.quorum

    def clocks(self) -> list[tuple[int, int]]:
        """(slot, clock) of the quorum's meters, in the order they entered."""
        count = int(self.meta[TOP_N])
        return [
            (int(s), int(t))
            for s, t in zip(self.top_slot[:count], self.top_ts[:count], strict=True)
        ]

    def recheck_deadlines(self) -> None:
        """Offline deadlines may have moved earlier: scan at the next message."""
        self.meta[NEXT_DEADLINE] = np.iinfo(np.int64).min
