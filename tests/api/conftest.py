"""API test helpers: a context with a token service on a clock the test controls, and
signed-in clients of each role."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi.testclient import TestClient
from playwright.sync_api import Page

from api.app import create_app
from api.context import ApiContext
from api.tokens import TokenService
from connections.policies import Policies
from gasguard.servers import free_port
from meters.clock import wall_clock_ms
from meters.registry import Registry
from telemetry import SqliteTelemetryStore
from telemetry.base import TelemetryStore
from tests.helpers import wait_until

SECRET = b"test-secret-test-secret-test-secret!"
PASSWORD = "correct horse battery"


@dataclass
class Clock:
    """A clock the test moves."""

    now_ms: int

    def __call__(self) -> int:
        return self.now_ms


def api_context(
    registry: Registry, store: TelemetryStore, clock: Callable[[], int], **extra: object
) -> ApiContext:
    return ApiContext(
        registry=registry,
        store=store,
        tokens=TokenService(SECRET, 1800, clock),
        clock=clock,
        **extra,  # type: ignore[arg-type]
    )


def add_user(registry: Registry, username: str, role: str, now_ms: int) -> None:
    registry.accounts.add(username, PASSWORD, role, now_ms)


def bearer(client: TestClient, username: str) -> dict[str, str]:
    """Sign in through the API; the Authorization header for that user."""
    response = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # each test chooses header or cookie explicitly
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class LiveApi:
    """The API served by uvicorn on a free port, for streaming."""

    def __init__(
        self,
        registry: Registry,
        folder: Path,
        store: TelemetryStore | None = None,
        policies: Policies | None = None,
    ) -> None:
        self.store = store or SqliteTelemetryStore(folder / "live.sqlite3")
        extra = {} if policies is None else {"policies": policies}
        context = api_context(registry, self.store, wall_clock_ms, feed_poll_s=0.1, **extra)
        app = create_app(context)
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        wait_until(lambda: self.server.started, what="uvicorn")
        self.url = f"http://127.0.0.1:{self.port}/api/v1"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.store.close()


@contextlib.contextmanager
def serving(
    registry: Registry, folder: Path, page: Page, policies: Policies | None = None
) -> Iterator[str]:
    """The API and dashboard served for ``page``; yields the dashboard's address. The page
    closes first: the server waits for the page's live feed to end before it stops. Every
    dashboard test also checks that the page broke none of the API's Content-Security-
    Policy (api.headers): Chromium reports each refusal on the console."""
    live = LiveApi(registry, folder, policies=policies)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Security Policy" in m.text else None)
    try:
        yield f"http://127.0.0.1:{live.port}/"
    finally:
        page.close()
        live.stop()
    assert not refused, f"the dashboard broke its Content-Security-Policy: {refused}"
