"""A wall-time cadence for the worker's periodic chores (polls of the registry)."""

from __future__ import annotations

import time


class Every:
    """``due()`` is True at most once per ``seconds`` (and at the first call)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._next = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self.seconds
        return True
