"""The valve command lifecycle, as pure decisions (no I/O, time passed in).

    queued ──publish──> sent ──reply done──> delivered ──telemetry agrees──> succeeded
      ^                  │  └─reply rejected──> failed
      └──no reply in time┘ (retried with backoff, same id and counter)
    queued / sent past the command's expiry ──> expired
    delivered without telemetry agreeing in time ──> timed_out

``failed``, ``expired`` and ``timed_out`` raise an alarm to operators: the valve may not be
where the operator believes it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

IN_FLIGHT = ("queued", "sent", "delivered")
FINAL = ("succeeded", "failed", "expired", "timed_out")
EXPECTED_VALVE = {"close": "closed", "arm": "closed", "open": "open"}

Step = Literal["publish", "expire", "time_out", "wait"]


@dataclass(frozen=True, slots=True)
class CommandTiming:
    """How long a command lives and how hard it is pushed (settings: ``[commands]``)."""

    ttl_s: float = 3600.0
    reply_timeout_s: float = 20.0
    retry_max_s: float = 300.0
    confirm_timeout_s: float = 600.0


@dataclass(frozen=True, slots=True)
class Progress:
    """What the lifecycle needs of a command."""

    state: str
    attempts: int
    next_attempt_ms: int
    expires_ms: int
    delivered_ms: int | None


def due_step(command: Progress, now_ms: int, timing: CommandTiming) -> Step:
    if command.state in ("queued", "sent"):
        if now_ms >= command.expires_ms:
            return "expire"
        return "publish" if now_ms >= command.next_attempt_ms else "wait"
    if command.state == "delivered" and command.delivered_ms is not None:
        late = now_ms - command.delivered_ms >= timing.confirm_timeout_s * 1000
        return "time_out" if late else "wait"
    return "wait"


def next_attempt_ms(attempts: int, now_ms: int, timing: CommandTiming) -> int:
    """When to publish again if no reply came: the reply timeout, doubling per attempt."""
    wait_s = min(timing.reply_timeout_s * 2 ** max(attempts - 1, 0), timing.retry_max_s)
    return now_ms + int(wait_s * 1000)


COUNTER_REUSED: Final = "counter_reused"  # a meter's refusal: it saw this counter with another id


def after_reply(state: str, result: str, error: str | None = None) -> str | None:
    """The new state when the meter replies; None when the reply changes nothing (a
    late reply to a finished command, or a resend's second confirmation). A refusal for
    a reused counter sends the command back to ``queued``, to be signed with a fresh one."""
    if state not in ("queued", "sent"):
        return None
    if result == "done":
        return "delivered"
    return "queued" if error == COUNTER_REUSED else "failed"


def telemetry_agrees(
    action: str, reply_ts_ms: int | None, valve: str | None, reading_ms: int | None
) -> bool:
    """A reading taken at or after the meter's reply shows the valve where it should be."""
    return (
        reply_ts_ms is not None
        and reading_ms is not None
        and reading_ms >= reply_ts_ms
        and valve == EXPECTED_VALVE[action]
    )
