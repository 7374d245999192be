"""Sign-in attempts, limited (issue 18): progressive refusal and temporary lockout per
account and per address, kept in the registry so that they survive a restart and are
shared by several API processes.

The policy is pure (``after_failure``, ``locked_for_ms``); ``SignInLimits`` keeps the
counters. A key is ``user:<name>`` or ``addr:<address>``. Within ``window_ms`` of its
first failure a key may fail ``free`` times (5 for an account, 20 for an address); every
failure after that locks it for ``base_lock_ms`` doubled per further failure (at most
``max_lock_ms``). A success clears the account's counter (not the address's: one right
password must not unlock an address guessing others).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from meters.db import Transactions
from meters.models import SignInFailure


@dataclass(frozen=True, slots=True)
class LimitPolicy:
    free: int = 5  # failures before the first lock
    window_ms: int = 15 * 60_000
    base_lock_ms: int = 30_000
    max_lock_ms: int = 15 * 60_000


@dataclass(frozen=True, slots=True)
class Counter:
    failures: int
    first_ms: int
    locked_until_ms: int


def after_failure(previous: Counter | None, now_ms: int, policy: LimitPolicy) -> Counter:
    """The counter after one more failure at ``now_ms``."""
    if previous is None or now_ms - previous.first_ms > policy.window_ms:
        previous = Counter(0, now_ms, 0)
    failures = previous.failures + 1
    locked = previous.locked_until_ms
    if failures > policy.free:
        lock_ms = min(policy.base_lock_ms * 2 ** (failures - policy.free - 1), policy.max_lock_ms)
        locked = now_ms + lock_ms
    return Counter(failures, previous.first_ms, locked)


def locked_for_ms(counters: Sequence[Counter | None], now_ms: int) -> int:
    """How long the caller must wait (0: it may try)."""
    waits = [c.locked_until_ms - now_ms for c in counters if c is not None]
    return max([0, *waits])


ACCOUNT_POLICY = LimitPolicy()
# an address may be a control room's NAT, many operators behind it: more room
ADDRESS_POLICY = LimitPolicy(free=20)


class SignInLimits:
    def __init__(
        self,
        transactions: Transactions,
        account: LimitPolicy = ACCOUNT_POLICY,
        address: LimitPolicy = ADDRESS_POLICY,
    ) -> None:
        self._run = transactions.run
        self.account, self.address = account, address

    def policy(self, key: str) -> LimitPolicy:
        return self.address if key.startswith("addr:") else self.account

    def wait_ms(self, keys: Sequence[str], now_ms: int) -> int:
        """0 when every key may try now; else how long until it may."""

        def work(session: Session) -> int:
            rows = {
                r.key: r
                for r in session.scalars(select(SignInFailure).where(SignInFailure.key.in_(keys)))
            }
            return locked_for_ms([_counter(rows.get(k)) for k in keys], now_ms)

        return self._run(work)

    def failed(self, keys: Sequence[str], now_ms: int) -> list[Counter]:
        """Count one failure on each key; the counters after it."""

        def work(session: Session) -> list[Counter]:
            counters = []
            for key in keys:
                row = session.get(SignInFailure, key, with_for_update=True)
                counter = after_failure(_counter(row), now_ms, self.policy(key))
                if row is None:
                    row = SignInFailure(key=key)
                    session.add(row)
                row.failures, row.first_ms = counter.failures, counter.first_ms
                row.locked_until_ms, row.last_ms = counter.locked_until_ms, now_ms
                counters.append(counter)
            return counters

        return self._run(work)

    def clear(self, key: str) -> bool:
        """Forget a key's failures (a success, or an admin's unlock); whether it had any."""

        def work(session: Session) -> bool:
            row = session.get(SignInFailure, key)
            if row is None:
                return False
            session.delete(row)
            return True

        return self._run(work)


def _counter(row: SignInFailure | None) -> Counter | None:
    return None if row is None else Counter(row.failures, row.first_ms, row.locked_until_ms)
