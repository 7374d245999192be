"""The command lifecycle's pure decisions."""

from __future__ import annotations

from contract.lifecycle import (
    CommandTiming,
    Progress,
    after_reply,
    due_step,
    next_attempt_ms,
    telemetry_agrees,
)

TIMING = CommandTiming(ttl_s=3600, reply_timeout_s=20, retry_max_s=300, confirm_timeout_s=600)
T0 = 1_790_000_000_000


def test_queued_and_unanswered_commands_are_published_until_they_expire() -> None:
    queued = Progress("queued", 0, T0, T0 + 3_600_000, None)
    assert due_step(queued, T0, TIMING) == "publish"
    sent = Progress("sent", 1, T0 + 20_000, T0 + 3_600_000, None)
    assert due_step(sent, T0 + 19_999, TIMING) == "wait"
    assert due_step(sent, T0 + 20_000, TIMING) == "publish"
    assert due_step(sent, T0 + 3_600_000, TIMING) == "expire"


def test_retries_back_off_to_the_cap() -> None:
    assert [next_attempt_ms(n, 0, TIMING) for n in (1, 2, 3, 5, 10)] == [
        20_000,
        40_000,
        80_000,
        300_000,
        300_000,
    ]


def test_a_delivered_command_times_out_without_confirming_telemetry() -> None:
    delivered = Progress("delivered", 1, 0, T0 + 3_600_000, T0)
    assert due_step(delivered, T0 + 599_999, TIMING) == "wait"
    assert due_step(delivered, T0 + 600_000, TIMING) == "time_out"
    assert due_step(Progress("succeeded", 1, 0, 0, T0), T0 + 10**9, TIMING) == "wait"


def test_replies_and_telemetry() -> None:
    assert after_reply("sent", "done") == "delivered"
    assert after_reply("queued", "rejected") == "failed"  # a reply to an earlier attempt
    assert after_reply("succeeded", "done") is None
    assert telemetry_agrees("close", T0, "closed", T0)
    assert not telemetry_agrees("close", T0, "closed", T0 - 1)
    assert not telemetry_agrees("open", T0, "closed", T0 + 1)
    assert telemetry_agrees("arm", T0, "closed", T0 + 1)
    assert not telemetry_agrees("close", None, "closed", T0)
