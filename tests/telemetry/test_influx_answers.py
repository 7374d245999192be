"""The InfluxDB adapter's edge: whatever a server (or something posing as one) answers,
only the store's own errors come out, never ``KeyError``, ``IndexError`` or a JSON error.
A small HTTP server plays the odd answers; the real InfluxDB is in the contract tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from telemetry import InfluxTelemetryStore
from telemetry.errors import StoreRejected

REJECTED = "rejected"
# answer -> what readings(), latest(), count(), counts() do with it
ODD_ANSWERS = {
    "not json at all": [REJECTED] * 4,
    "[]": [REJECTED] * 4,
    '{"results": []}': [REJECTED] * 4,
    '{"results": [{"series": "x"}]}': [REJECTED] * 4,
    '{"results": [{"series": [{"name": "readings"}]}]}': [[], None, 0, REJECTED],  # no rows
    '{"results": [{"series": [{"values": [[1, 2]]}]}]}': [REJECTED, REJECTED, 2, REJECTED],
    '{"results": [{"error": "database not found: gasguard"}]}': [REJECTED] * 4,
}


class _Odd(BaseHTTPRequestHandler):
    answer = ""

    def do_GET(self) -> None:
        body = self.answer.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def odd_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Odd)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("answer", ODD_ANSWERS)
def test_odd_answers_are_store_rejected(odd_server: ThreadingHTTPServer, answer: str) -> None:
    _Odd.answer = answer
    store = InfluxTelemetryStore(f"http://127.0.0.1:{odd_server.server_port}", "gasguard")
    outcomes: list[object] = []
    try:
        for call in (
            lambda: store.readings("M1", 0, 10, 10),
            lambda: store.latest("M1"),
            lambda: store.count("M1"),
            lambda: store.counts(0, 10),
        ):
            try:
                outcomes.append(call())
            except StoreRejected:
                outcomes.append(REJECTED)
    finally:
        store.close()
    assert outcomes == ODD_ANSWERS[answer]
