"""Sign-in limits: the pure policy, and the counters on both registries."""

from __future__ import annotations

from meters.registry import Registry
from meters.sign_in_limits import Counter, LimitPolicy, after_failure, locked_for_ms

T0 = 1_790_000_000_000
POLICY = LimitPolicy(free=3, window_ms=60_000, base_lock_ms=1_000, max_lock_ms=4_000)


def test_locks_start_after_the_free_failures_and_double_up_to_the_cap() -> None:
    counter: Counter | None = None
    locks = []
    for i in range(7):
        counter = after_failure(counter, T0 + i, POLICY)
        locks.append(counter.locked_until_ms - (T0 + i) if counter.locked_until_ms else 0)
    assert counter is not None
    assert locks == [0, 0, 0, 1_000, 2_000, 4_000, 4_000]
    assert locked_for_ms([counter, None], T0 + 6) == 4_000
    assert locked_for_ms([counter], T0 + 6 + 4_000) == 0
    fresh = after_failure(counter, T0 + 61_000, POLICY)  # past the window: counting anew
    assert (fresh.failures, fresh.locked_until_ms) == (1, 0)


def test_counters_are_kept_in_the_registry_and_cleared(registry: Registry) -> None:
    limits = registry.sign_in_limits
    keys = ["user:otto", "addr:10.0.0.9"]
    for i in range(5):
        account, address = limits.failed(keys, T0 + i)
    assert (account.failures, address.failures) == (5, 5)
    assert limits.wait_ms(keys, T0 + 5) == 0  # 5 free for an account, 20 for an address
    account, _ = limits.failed(keys, T0 + 10)
    assert limits.wait_ms(keys, T0 + 10) == account.locked_until_ms - T0 - 10 > 0
    assert limits.wait_ms(["user:vera", "addr:10.0.0.9"], T0 + 10) == 0
    assert limits.clear("user:otto") and not limits.clear("user:otto")
    assert limits.wait_ms(keys, T0 + 10) == 0
