"""Session-scoped real servers: Mosquitto and influxd as subprocesses on free loopback
ports with temporary folders; PostgreSQL from GASGUARD_TEST_PG_URL with a fresh schema."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from playwright.sync_api import Browser, sync_playwright

from gasguard.servers import InfluxServer, MosquittoServer
from meters.db import make_engine, migrate
from meters.registry import Registry

# CI machines are shared and slow at times: hypothesis's timing checks would fail tests
# for the machine's load, not for the code. Every property keeps its example count.
settings.register_profile("gasguard", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("gasguard")

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoServer]:
    server = MosquittoServer(tmp_path_factory.mktemp("mosquitto"))
    yield server
    server.stop()


@pytest.fixture
def stock_mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoServer]:
    """Mosquitto with its own limits (in-flight 20, queue 1,000), as a utility's broker
    may be. One per test: its drop counter counts from its start. ``sys_interval`` 1 s
    instead of 10 so the $SYS counters arrive within a test's patience."""
    server = MosquittoServer(
        tmp_path_factory.mktemp("stock-mosquitto"), stock=True, sys_interval_s=1
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    server = InfluxServer(tmp_path_factory.mktemp("influxd"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The test PostgreSQL; unreachable is a failure, never a skip (CI must run it)."""
    url = os.environ.get("GASGUARD_TEST_PG_URL", DEFAULT_PG_URL)
    try:
        with psycopg.connect(url, connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL at {url} is required (set GASGUARD_TEST_PG_URL): {exc}", pytrace=False
        )
    return url


@contextlib.contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A fresh schema in the test database, dropped afterwards."""
    schema = f"gasguard_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def sqlite_registry(folder: Path) -> Registry:
    engine = make_engine(f"sqlite:///{folder / 'registry.sqlite3'}")
    migrate(engine)
    return Registry(engine)


@pytest.fixture(params=["sqlite", "postgresql"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    """A migrated, empty registry on each backend."""
    if request.param == "sqlite":
        yield sqlite_registry(tmp_path)
        return
    url: str = request.getfixturevalue("pg_url")
    with pg_schema(url) as schema:
        engine = make_engine(url, schema=schema)
        migrate(engine)
        yield Registry(engine)
        engine.dispose()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium driven by Playwright (no browser download). Missing is a failure:
    the README test command installs it."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run ./scripts/test (it installs chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def artifacts() -> Path:
    """Where browser tests keep screenshots (test-artifacts/, not in git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
