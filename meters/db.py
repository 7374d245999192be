"""Registry database: engine creation and Alembic migrations to head."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Select, create_engine, event, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from meters.errors import NotFound, RegistryError

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")
LOCK_KEY = 0x67617367_75617264  # "gasguard": the PostgreSQL advisory lock of migrations
T = TypeVar("T")
Row = TypeVar("Row")
V = TypeVar("V")
IN_CHUNK = 1000  # ids per IN (...) list: one statement per thousand, never one per row


def in_chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """``items`` in slices of ``IN_CHUNK``, for queries with an IN list."""
    for first in range(0, len(items), IN_CHUNK):
        yield items[first : first + IN_CHUNK]


def as_view(view_type: type[V], row: object) -> V:
    """A frozen view (``meters.views``) of a row: its fields read by name."""
    return view_type(**{f.name: getattr(row, f.name) for f in fields(view_type)})  # type: ignore[arg-type]


def changed_since_query(model: Any, since_ms: int, limit: int) -> Select[Any]:
    """Rows of ``model`` changed at or after ``since_ms``, oldest change first (the live
    feed)."""
    return (
        select(model)
        .where(model.updated_ms >= since_ms)
        .order_by(model.updated_ms, model.id)
        .limit(limit)
    )


def fetch(session: Session, model: type[Row], key: object, missing: str) -> Row:
    """The row of ``model`` with primary key ``key``; NotFound(``missing``) without one."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(missing)
    return row


class Transactions:
    """Runs a unit of work in one transaction; database errors become RegistryError."""

    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def run(self, work: Callable[[Session], T]) -> T:
        try:
            with self._sessions.begin() as session:
                return work(session)
        except SQLAlchemyError as exc:
            raise RegistryError(f"registry operation failed: {exc}") from exc


def normalise_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (SQLAlchemy would pick psycopg2)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, schema: str | None = None) -> Engine:
    """An engine for ``url``; ``schema`` (PostgreSQL) sets the search path, for tests."""
    url = normalise_url(url)
    connect_args: dict[str, object] = {}
    if url.startswith("sqlite"):
        connect_args["check_same_thread"] = False
        connect_args["timeout"] = 30
    elif schema:
        connect_args["options"] = f"-csearch_path={schema}"
    engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config() -> Config:
    return Config(str(ALEMBIC_INI))


def migrate(engine: Engine) -> None:
    """Bring the registry schema to the newest Alembic revision. Safe to run from several
    processes at once (workers of a rollout starting together): one migrates, the others
    wait for it and then find the schema at head."""
    config = alembic_config()
    try:
        with _sqlite_file_lock(engine), engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # held to the end of this transaction, which holds the whole upgrade
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise RegistryError(f"registry migration failed: {exc}") from exc


def schema_revisions(engine: Engine) -> tuple[str | None, str]:
    """(the registry's Alembic revision, the newest this gasguard has)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head() or ""
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise RegistryError(f"cannot read the registry's schema revision: {exc}") from exc
    return current, head


def database_clock_ms(engine: Engine) -> int | None:
    """The database server's clock (PostgreSQL); None for SQLite, which is this machine."""
    if engine.dialect.name != "postgresql":
        return None
    try:
        with engine.connect() as connection:
            epoch = connection.scalar(text("SELECT extract(epoch FROM clock_timestamp())"))
    except SQLAlchemyError as exc:
        raise RegistryError(f"cannot read the database's clock: {exc}") from exc
    return int(float(epoch) * 1000)


@contextlib.contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """An exclusive lock on ``<database>.migrate-lock`` for a SQLite file (its DDL is not
    transactional under the driver, so a transaction alone does not serialise two
    migrations); nothing for other databases or an in-memory one."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes
        yield
