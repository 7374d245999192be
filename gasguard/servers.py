"""Local server processes on free loopback ports with their own folders: Mosquitto,
influxd, and the pure-Python amqtt broker. Used by the demo, the tests and the benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import getpass
import logging
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import httpx

from gasguard.errors import ServerStartError

log = logging.getLogger(__name__)

SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/sbin")
PR_SET_PDEATHSIG = 1


class Server(Protocol):
    @property
    def url(self) -> str: ...

    def stop(self) -> None: ...


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for folder in SBIN_DIRS:
        candidate = Path(folder) / name
        if candidate.is_file():
            return str(candidate)
    return None


def wait_for_port(
    port: int, timeout_s: float, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerStartError(
                f"process exited with code {process.returncode} before listening"
            )
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=0.5),
        ):
            return
        time.sleep(0.05)
    raise ServerStartError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


def _load_libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def die_with_parent_hook() -> Callable[[], None] | None:
    """A pre-exec hook asking Linux to SIGTERM the child when its parent dies. libc is
    loaded here, in the parent, so the child does nothing between fork and exec but one
    system call."""
    libc = _load_libc()
    prctl = getattr(libc, "prctl", None) if sys.platform == "linux" else None
    if prctl is None:
        return None
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class _Process:
    """A child process with its log file; ``stop`` terminates it, ``kill`` does not wait."""

    def __init__(self, name: str, argv: list[str], log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log_file:
            # A session of its own: Ctrl-C at the terminal reaches gasguard, which stops the
            # servers in order; the parent-death signal stops them if gasguard is killed.
            self.process = subprocess.Popen(
                self.argv,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=die_with_parent_hook(),
            )
        return self.process

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def signal(self, number: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(number)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class MosquittoServer:
    """``mosquitto`` on a free loopback port with persistence in ``folder``. ``security``:
    lines for the listener (TLS files, ``password_file``, ``acl_file``); without them the
    broker is open to anonymous clients (tests and the demo)."""

    def __init__(
        self,
        folder: Path,
        port: int | None = None,
        binary: str | None = None,
        security: Sequence[str] = (),
        stock: bool = False,
        sys_interval_s: int | None = None,
    ) -> None:
        """``stock``: Mosquitto's own limits (``max_inflight_messages`` 20,
        ``max_queued_messages`` 1000), as a broker a utility already runs has them;
        otherwise the deployment's tuned limits (deploy/mosquitto.conf)."""
        found = binary or find_binary("mosquitto")
        if found is None:
            raise ServerStartError(
                "mosquitto is not installed (Debian: apt-get install -y mosquitto)"
            )
        self.folder = folder
        self.port = port or free_port()
        folder.mkdir(parents=True, exist_ok=True)
        self.config_path = folder / "mosquitto.conf"
        self.config_path.write_text(
            "\n".join(
                [
                    f"listener {self.port} 127.0.0.1",
                    *(security or ["allow_anonymous true"]),
                    # Started as root, Mosquitto would switch to the 'mosquitto' user and
                    # then fail to write its persistence file in our folder: stay as we are.
                    f"user {getpass.getuser()}",
                    "persistence true",
                    f"persistence_location {folder}/",
                    "autosave_interval 1",
                    *([] if stock else ["max_inflight_messages 1000"]),
                    *([] if stock else ["max_queued_messages 1000000"]),
                    *([] if sys_interval_s is None else [f"sys_interval {sys_interval_s}"]),
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                    "",
                ]
            )
        )
        self._process = _Process(
            "mosquitto", [found, "-c", str(self.config_path)], folder / "mosquitto.log"
        )
        self.start()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        process = self._process.spawn()
        try:
            wait_for_port(self.port, 15, process)
        except ServerStartError as exc:
            raise ServerStartError(f"mosquitto: {exc}\n{self._process.log_tail()}") from exc

    def stop(self) -> None:
        self._process.stop()

    def kill(self) -> None:
        self._process.kill()

    def reload(self) -> None:
        """SIGHUP: Mosquitto reads its password file and ACL again."""
        self._process.signal(signal.SIGHUP)


class InfluxServer:
    """``influxd`` (1.x) on free loopback ports with its data in ``folder``."""

    def __init__(self, folder: Path, binary: str | None = None) -> None:
        found = binary or find_binary("influxd")
        if found is None:
            raise ServerStartError("influxd is not installed (Debian: apt-get install -y influxdb)")
        self.folder = folder
        self.port = free_port()
        rpc_port = free_port()
        folder.mkdir(parents=True, exist_ok=True)
        self.config_path = folder / "influxdb.conf"
        self.config_path.write_text(
            f"""reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{folder}/meta"
[data]
  dir = "{folder}/data"
  wal-dir = "{folder}/wal"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
[continuous_queries]
  log-enabled = false
"""
        )
        self._process = _Process(
            "influxd", [found, "-config", str(self.config_path)], folder / "influxd.log"
        )
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        process = self._process.spawn()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServerStartError(f"influxd exited early:\n{self._process.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/ping", timeout=1).status_code == 204:
                    return
            time.sleep(0.1)
        raise ServerStartError(f"influxd did not answer /ping in 30 s:\n{self._process.log_tail()}")

    def stop(self) -> None:
        self._process.stop()

    def kill(self) -> None:
        self._process.kill()


class AmqttServer:
    """The pure-Python amqtt broker in a thread of its own, on a free loopback port."""

    def __init__(self, port: int | None = None) -> None:
        from amqtt.broker import Broker

        self.port = port or free_port()
        self._loop = asyncio.new_event_loop()
        self._broker = Broker(
            {
                "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
                "plugins": {
                    "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}
                },
            },
            loop=self._loop,
        )
        self._thread = threading.Thread(target=self._loop.run_forever, name="amqtt", daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._broker.start(), self._loop).result(timeout=15)
        except Exception as exc:
            raise ServerStartError(f"amqtt broker did not start: {exc}") from exc

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _shutdown(self) -> None:
        await self._broker.shutdown()
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def embedded_broker(folder: Path) -> Server:
    """Mosquitto when the binary is installed, else the in-process amqtt broker."""
    if find_binary("mosquitto"):
        return MosquittoServer(folder)
    log.info("mosquitto not found; using the embedded amqtt broker")
    return AmqttServer()


class HttpAppThread:
    """An ASGI app served by uvicorn on a free loopback port, in a thread of this process
    (the demo's platform receiver and simulated platform; the tests' stand-ins)."""

    def __init__(self, app: object, timeout_s: float = 10.0) -> None:
        import uvicorn  # only where an app is served this way

        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")  # type: ignore[arg-type]
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise ServerStartError(f"the HTTP app on port {self.port} did not start")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
