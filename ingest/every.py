"""A wall-time cadence for the worker's periodic chores (polls of the registry)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from meters.errors import MetersError

log = logging.getLogger(__name__)


class Every:
    """``due()`` is True at most once per ``seconds`` (and at the first call, unless
    ``wait_first``: then only once ``seconds`` have passed)."""

    def __init__(self, seconds: float, wait_first: bool = False) -> None:
        self.seconds = seconds
        self._next = time.monotonic() + seconds if wait_first else 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self.seconds
        return True

    def run_when_due(self, chore: Callable[[], object], failed: str) -> None:
        """Run ``chore`` when due. A registry failure is logged (``failed``: what could
        not be done) and the chore waits for its next turn: it never stops the worker."""
        if not self.due():
            return
        try:
            chore()
        except MetersError as exc:
            log.warning("%s (%s); trying again", failed, exc)
