"""Failed attempts, limited (issue 18): progressive refusal and temporary lockout per key,
kept in the registry so that they survive a restart and are shared by several API
processes. Two doors use it: sign-in (per account ``user:<name>`` and per address
``addr:<ip>``) and the applicants' public progress lookup (per address ``lookup-addr:<ip>``
and per application ``lookup-app:<number>``, so that guesses spread over many addresses
still stop at one application).

The policy is pure (``after_failure``, ``locked_for_ms``); ``AttemptLimits`` keeps the
counters. Within ``window_ms`` of its first failure a key may fail ``free`` times; every
failure after that locks it for ``base_lock_ms`` doubled per further failure (at most
``max_lock_ms``). A success clears the account's counter (not the address's: one right
password must not unlock an address guessing others). A counter whose window and lock
have both passed is forgotten (``expire``, run by ``failed`` at most once a minute): the
table holds only the callers of the last quarter of an hour, however many there were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from meters.db import Transactions
from meters.models import AttemptFailure


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


# Keyed by prefix. An address may be a control room's NAT, many operators behind it: more
# room than an account. An applicant mistyping the code gets five tries a quarter hour.
POLICIES: dict[str, LimitPolicy] = {
    "user:": LimitPolicy(),
    "addr:": LimitPolicy(free=20),
    "lookup-addr:": LimitPolicy(free=10),
    "lookup-app:": LimitPolicy(free=5),
    # online applications (each one counts; the lock comes after free + 1): three an hour
    # from an address, two from a phone
    "apply-addr:": LimitPolicy(
        free=2, window_ms=3_600_000, base_lock_ms=600_000, max_lock_ms=3_600_000
    ),
    "apply-phone:": LimitPolicy(
        free=1, window_ms=3_600_000, base_lock_ms=600_000, max_lock_ms=3_600_000
    ),
}
EXPIRE_EVERY_MS = 60_000


def account_key(username: str) -> str:
    return f"user:{username}"


def sign_in_keys(username: str, address: str) -> list[str]:
    """The counters one sign-in attempt counts on: its account and its address."""
    return [account_key(username), f"addr:{address}"]


def lookup_keys(address: str, number: str) -> list[str]:
    """The counters one public lookup counts on: its address and the application."""
    return [f"lookup-addr:{address}", f"lookup-app:{number}"]


def apply_keys(address: str, phone: str) -> list[str]:
    """The counters one online application counts on: its address and the phone."""
    return [f"apply-addr:{address}", f"apply-phone:{phone}"]


class AttemptLimits:
    def __init__(
        self, transactions: Transactions, policies: dict[str, LimitPolicy] | None = None
    ) -> None:
        self._run = transactions.run
        self.policies = dict(POLICIES if policies is None else policies)
        self._expired_ms = 0

    def policy(self, key: str) -> LimitPolicy:
        for prefix, policy in self.policies.items():
            if key.startswith(prefix):
                return policy
        raise ValueError(f"no attempt policy for key {key!r}")

    def wait_ms(self, keys: Sequence[str], now_ms: int) -> int:
        """0 when every key may try now; else how long until it may."""

        def work(session: Session) -> int:
            rows = {
                r.key: r
                for r in session.scalars(select(AttemptFailure).where(AttemptFailure.key.in_(keys)))
            }
            return locked_for_ms([_counter(rows.get(k)) for k in keys], now_ms)

        return self._run(work)

    def failed(self, keys: Sequence[str], now_ms: int) -> list[Counter]:
        """Count one failure on each key; the counters after it."""
        if now_ms - self._expired_ms >= EXPIRE_EVERY_MS:
            self._expired_ms = now_ms
            self.expire(now_ms)

        def work(session: Session) -> list[Counter]:
            counters = []
            for key in keys:
                row = session.get(AttemptFailure, key, with_for_update=True)
                counter = after_failure(_counter(row), now_ms, self.policy(key))
                if row is None:
                    row = AttemptFailure(key=key)
                    session.add(row)
                row.failures, row.first_ms = counter.failures, counter.first_ms
                row.locked_until_ms, row.last_ms = counter.locked_until_ms, now_ms
                counters.append(counter)
            return counters

        return self._run(work)

    def clear(self, key: str) -> bool:
        """Forget a key's failures (a success, or an admin's unlock); whether it had any."""

        def work(session: Session) -> bool:
            row = session.get(AttemptFailure, key)
            if row is None:
                return False
            session.delete(row)
            return True

        return self._run(work)

    def expire(self, now_ms: int) -> int:
        """Forget the counters whose window (their own policy's) and lock have both
        passed; how many. One statement per policy: an hour's window for applications
        must not keep a quarter hour's lookups."""
        queries = [
            delete(AttemptFailure).where(
                AttemptFailure.key.startswith(prefix, autoescape=True),
                AttemptFailure.last_ms < now_ms - policy.window_ms,
                AttemptFailure.locked_until_ms <= now_ms,
            )
            for prefix, policy in self.policies.items()
        ]
        return self._run(
            lambda s: sum(s.execute(q).rowcount for q in queries)  # type: ignore[attr-defined]
        )


def _counter(row: AttemptFailure | None) -> Counter | None:
    return None if row is None else Counter(row.failures, row.first_ms, row.locked_until_ms)
