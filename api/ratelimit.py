"""A per-caller rate limit for public routes (time passed in)."""

from __future__ import annotations

from collections import deque


class RateLimiter:
    """At most ``limit`` calls per ``window_s`` for each key (a client address)."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_ms = int(window_s * 1000)
        self._calls: dict[str, deque[int]] = {}

    def allow(self, key: str, now_ms: int) -> bool:
        calls = self._calls.setdefault(key, deque())
        while calls and calls[0] <= now_ms - self.window_ms:
            calls.popleft()
        if len(calls) >= self.limit:
            return False
        calls.append(now_ms)
        if len(self._calls) > 100_000:  # forget idle callers; memory stays bounded
            self._calls = {k: v for k, v in self._calls.items() if v}
        return True
