"""A closure set's stored form: its reasons sorted and comma-separated ("billing,safety"),
"" for the empty set (meters.command_policy says what the set means)."""

from __future__ import annotations

from collections.abc import Iterable


def parse_closures(text: str) -> tuple[str, ...]:
    return tuple(sorted({part for part in text.split(",") if part}))


def closures_text(reasons: Iterable[str]) -> str:
    return ",".join(sorted(set(reasons)))
