"""Logging a burst without flooding the log: the first few items each on their own line,
then one line that counts the rest by kind. A storm of 20,000 offline alarms was 60,000
log lines (opened, cleared, carried to the engine), a second of the lane's time."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
EACH = 20  # lines of their own before the summary


def log_burst(
    log: logging.Logger,
    level: int,
    items: Sequence[T],
    line: Callable[[T], tuple[object, ...]],
    kind: Callable[[T], str],
    what: str,
) -> None:
    """``line(item)``: the format string and its arguments; ``kind(item)``: what the
    summary counts by; ``what``: how the summary names the items."""
    if not log.isEnabledFor(level):
        return
    for item in items[:EACH]:
        message, *args = line(item)
        log.log(level, str(message), *args)
    rest = items[EACH:]
    if rest:
        counts = Counter(kind(item) for item in rest)
        by_kind = ", ".join(f"{k} {n}" for k, n in counts.most_common())
        log.log(level, "... and %d more %s (%s)", len(rest), what, by_kind)
