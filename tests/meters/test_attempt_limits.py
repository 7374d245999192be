"""Attempt limits (sign-in, public lookup): the pure policy, and the counters on both
registries, with their expiry."""

from __future__ import annotations

from sqlalchemy import func, select

from meters.attempt_limits import Counter, LimitPolicy, after_failure, locked_for_ms
from meters.models import AttemptFailure
from meters.registry import Registry

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
    limits = registry.attempt_limits
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


def rows(registry: Registry) -> int:
    query = select(func.count()).select_from(AttemptFailure)
    with registry.engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def test_callers_are_forgotten_once_their_window_and_lock_have_passed(
    registry: Registry,
) -> None:
    """The per-process limiter this replaced kept every caller for ever (100,000 keys an
    hour later): the table holds only the last quarter of an hour's callers."""
    limits = registry.attempt_limits
    for n in range(2_000):
        limits.failed([f"lookup-addr:10.1.{n // 250}.{n % 250}"], T0 + n)
    for _ in range(12):  # locked for up to 15 min: kept while the lock lasts
        locked = limits.failed(["lookup-app:GU20260000001"], T0 + 3_000)[0]
    assert rows(registry) == 2_001
    assert limits.wait_ms(["lookup-app:GU20260000001"], T0 + 3_000) > 0
    later = locked.locked_until_ms - 1_000  # 15 min after the addresses, lock still on
    limits.failed(["lookup-addr:10.9.9.9"], later)  # expiry runs with a failure
    assert rows(registry) == 2  # the one still locked, and the newcomer
    assert limits.wait_ms(["lookup-app:GU20260000001"], later) == locked.locked_until_ms - later
    assert limits.expire(locked.locked_until_ms + 16 * 60_000) == 2


def test_each_counter_is_forgotten_after_its_own_policys_window(registry: Registry) -> None:
    """An online application counts for an hour, a failed lookup for a quarter hour: the
    expiry keeps the one and forgets the other."""
    limits = registry.attempt_limits
    limits.failed(["apply-addr:10.0.0.1", "lookup-addr:10.0.0.1"], T0)
    assert limits.expire(T0 + 20 * 60_000) == 1  # the lookup's quarter hour has passed
    assert rows(registry) == 1
    assert limits.expire(T0 + 61 * 60_000) == 1  # and the application's hour
    assert rows(registry) == 0
