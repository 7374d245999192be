"""Registry migrations: a fresh registry migrated by several processes at once (a rollout
starting its workers together) ends at head, with every process succeeding."""

from __future__ import annotations

import multiprocessing
import traceback
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import text

from meters.db import alembic_config, make_engine, migrate
from tests.conftest import pg_schema

PROCESSES = 4
ROUNDS = 3


def _migrate_together(url: str, schema: str | None, barrier: Any, errors: Any) -> None:
    engine = make_engine(url, schema=schema)
    barrier.wait()
    try:
        migrate(engine)
    except Exception:
        errors.put(traceback.format_exc())
        raise
    finally:
        engine.dispose()


def _race(url: str, schema: str | None = None) -> list[str]:
    """Migrate from PROCESSES processes released at the same moment; their failures."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(PROCESSES)
    errors = context.Queue()
    workers = [
        context.Process(target=_migrate_together, args=(url, schema, barrier, errors))
        for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    failures = [f"exit code {w.exitcode}" for w in workers if w.exitcode != 0]
    while failures and not errors.empty():
        failures.append(errors.get(timeout=5))
    return failures


def _version(url: str, schema: str | None = None) -> list[str]:
    engine = make_engine(url, schema=schema)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    engine.dispose()
    return [row[0] for row in rows]


def _head() -> list[str]:
    return [ScriptDirectory.from_config(alembic_config()).get_current_head() or ""]


def test_concurrent_first_migrations_of_a_sqlite_file_all_succeed(tmp_path: Path) -> None:
    for round_number in range(ROUNDS):
        url = f"sqlite:///{tmp_path / f'registry-{round_number}.sqlite3'}"
        assert _race(url) == []
        assert _version(url) == _head()


def test_concurrent_first_migrations_of_a_postgresql_schema_all_succeed(pg_url: str) -> None:
    for _ in range(ROUNDS):
        with pg_schema(pg_url) as schema:
            assert _race(pg_url, schema) == []
            assert _version(pg_url, schema) == _head()
