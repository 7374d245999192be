"""Operator accounts: roles, argon2 password hashes, and the ``users`` table.

Roles are ordered: viewer < operator < supervisor < admin; a route names the least role
it needs. Password hashes are argon2id (argon2-cffi defaults); a hash made with older
parameters is upgraded on the next successful login.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from contract.roles import ROLES
from meters.attempt_limits import AttemptLimits, account_key
from meters.audit import add_audit
from meters.db import Transactions, fetch
from meters.errors import Conflict, MetersError
from meters.models import User
from meters.views import Actor

USERNAME_RE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")  # fullmatch: no trailing newline
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()


class AccountError(MetersError):
    """A username, password or role is not acceptable."""


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


@dataclass(frozen=True, slots=True)
class UserView:
    """An account as the rest of gasguard sees it (never the hash)."""

    username: str
    role: str
    display_name: str
    disabled: bool
    created_ms: int
    token_version: int = 0  # a session token issued under another version is refused


def _view(user: User) -> UserView:
    return UserView(
        user.username,
        user.role,
        user.display_name,
        user.disabled,
        user.created_ms,
        user.token_version,
    )


def _user(session: Session, username: str) -> User:
    return fetch(session, User, username, f"user {username!r} does not exist")


class Accounts:
    """The ``users`` table, through the registry's transactions."""

    def __init__(self, transactions: Transactions, attempt_limits: AttemptLimits) -> None:
        self._run = transactions.run
        self._attempt_limits = attempt_limits

    def add(
        self, username: str, password: str, role: str, now_ms: int, display_name: str = ""
    ) -> UserView:
        if not USERNAME_RE.fullmatch(username):
            raise AccountError(f"username {username!r}: 1-64 letters, digits or _.@-")
        if role not in ROLES:
            raise AccountError(f"role {role!r}: one of {', '.join(ROLES)}")
        check_new_password(password)
        password_hash = _hasher.hash(password)

        def work(session: Session) -> UserView:
            if session.get(User, username) is not None:
                raise Conflict(f"user {username!r} already exists")
            user = User(
                username=username,
                password_hash=password_hash,
                role=role,
                display_name=display_name,
                disabled=False,
                created_ms=now_ms,
            )
            session.add(user)
            return _view(user)

        return self._run(work)

    def authenticate(self, username: str, password: str) -> UserView | None:
        """The account when the password is right and the account enabled, else None."""

        def work(session: Session) -> UserView | None:
            user = session.get(User, username)
            if user is None:
                _hasher.hash(password)  # the same work as a real check: no timing oracle
                return None
            try:
                _hasher.verify(user.password_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return None
            if user.disabled:
                return None
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            return _view(user)

        return self._run(work)

    def get(self, username: str) -> UserView:
        return self._run(lambda s: _view(_user(s, username)))

    def list(self) -> list[UserView]:
        return self._run(
            lambda s: [_view(u) for u in s.scalars(select(User).order_by(User.username))]
        )

    def set_password(self, username: str, password: str) -> None:
        """A new password; every session of the account ends (its tokens are revoked)."""
        check_new_password(password)
        password_hash = _hasher.hash(password)

        def change(user: User) -> None:
            user.password_hash = password_hash
            user.token_version += 1

        self._update(username, change)

    def set_disabled(self, username: str, disabled: bool) -> None:
        def change(user: User) -> None:
            user.disabled = disabled
            user.token_version += 1

        self._update(username, change)

    def sign_out(
        self, username: str, actor: Actor, now_ms: int, action: str = "user.sign_out_everywhere"
    ) -> None:
        """Every session of the account ends now (every token revoked: the user's own
        sign-out, ``auth.sign_out``, or an admin's order), audited in the same transaction;
        NotFound for an unknown account."""

        def work(session: Session) -> None:
            user = _user(session, username)
            user.token_version += 1
            add_audit(session, actor, action, f"user:{username}", "", now_ms)

        self._run(work)

    def unlock(self, username: str, actor: Actor, now_ms: int) -> None:
        """An account locked out by failed sign-ins may try again now, audited; NotFound
        for an unknown account."""
        self.get(username)
        self._attempt_limits.clear(account_key(username))
        self._run(lambda s: add_audit(s, actor, "user.unlock", f"user:{username}", "", now_ms))

    def _update(self, username: str, change: Callable[[User], None]) -> None:
        def work(session: Session) -> None:
            change(_user(session, username))

        self._run(work)
