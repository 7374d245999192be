"""Time query parameters: epoch milliseconds or RFC 3339, with a clear 422 otherwise."""

from __future__ import annotations

from datetime import datetime

from api.errors import field_error
from api.params import MAX_MS


def parse_time(value: str, name: str) -> int:
    if value.lstrip("-").isdigit():
        ms = int(value)
    else:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise field_error(
                "query", name, "must be epoch milliseconds or an RFC 3339 time"
            ) from None
        if moment.tzinfo is None:
            raise field_error("query", name, "an RFC 3339 time needs a time zone offset")
        ms = round(moment.timestamp() * 1000)
    if not 0 <= ms <= MAX_MS:
        raise field_error("query", name, "must be between 1970 and 9999")
    return ms


def bounded_range(
    start: str | None, end: str | None, now_ms: int, max_days: int
) -> tuple[int, int]:
    """[start, end) in epoch ms: default the last 24 hours, at most ``max_days`` long."""
    end_ms = parse_time(end, "end") if end else now_ms
    start_ms = parse_time(start, "start") if start else end_ms - 86_400_000
    if start_ms >= end_ms:
        raise field_error("query", "start", "must be before end")
    if end_ms - start_ms > max_days * 86_400_000:
        raise field_error("query", "start", f"the range may span at most {max_days} days")
    return start_ms, end_ms
