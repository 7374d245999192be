"""The fleet's event-time watermark: the ``quorum``-th newest meter clock.

It only moves when at least ``quorum`` meters have reported at or after that time, so up
to ``quorum - 1`` meters whose clocks run ahead cannot drag it forward (which would
declare every other meter silent). With fewer meters than the quorum, the oldest of their
clocks is used.
"""

from __future__ import annotations


class FleetWatermark:
    def __init__(self, quorum: int) -> None:
        self._quorum = max(1, quorum)
        self._top: dict[str, int] = {}  # the quorum meters with the newest clocks
        self._value: int | None = None  # min of _top, kept current by observe

    def observe(self, meter_id: str, ts_ms: int) -> None:
        top = self._top
        value = self._value
        if value is not None and ts_ms <= value and len(top) >= self._quorum:
            return  # at or behind the watermark: cannot change the quorum's newest clocks
        if meter_id in top:
            if ts_ms <= top[meter_id]:
                return
            top[meter_id] = ts_ms
        elif len(top) < self._quorum:
            top[meter_id] = ts_ms
        else:
            oldest = min(top, key=top.__getitem__)
            del top[oldest]
            top[meter_id] = ts_ms
        self._value = min(top.values())

    @property
    def established(self) -> bool:
        """True once ``quorum`` meters have reported (only then can a clock be 'ahead')."""
        return len(self._top) >= self._quorum

    def clocks(self) -> dict[str, int]:
        return dict(self._top)

    @property
    def value(self) -> int | None:
        return self._value
