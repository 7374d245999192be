"""Attack tests of the API's transport (issue 18), on ``gasguard api`` as a user runs it:
TLS served by uvicorn, Secure cookies by default, HSTS and a strict CSP from the app, and
X-Forwarded-For believed only from a configured proxy."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from gasguard import wiring
from gasguard.servers import free_port
from gasguard.settings import load_settings
from tests.tls import make_ca

PASSWORD = "correct horse battery"


@contextmanager
def api_process(data_dir: Path, scheme: str = "http", **env: str) -> Iterator[str]:
    """``gasguard api`` on a free port with one operator account; its base URL."""
    registry = wiring.open_registry(load_settings(None, data_dir=data_dir))
    registry.accounts.add("ops", PASSWORD, "operator", int(time.time() * 1000))
    port = free_port()
    variables = {
        **os.environ,
        "GASGUARD_DATA_DIR": str(data_dir),
        "GASGUARD_API_PORT": str(port),
        **env,
    }
    log = (data_dir / "api.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gasguard.cli", "api"], env=variables, stdout=log, stderr=log
    )
    url = f"{scheme}://127.0.0.1:{port}"
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def wait_up(client: httpx.Client, url: str) -> httpx.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            return client.get(f"{url}/api/v1/health")
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def sign_in(
    client: httpx.Client, url: str, username: str = "ops", **headers: str
) -> httpx.Response:
    data = {"username": username, "password": PASSWORD}
    return client.post(f"{url}/api/v1/auth/token", data=data, headers=headers)


def test_tls_hsts_csp_and_a_secure_cookie(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "tls")
    env = {
        "GASGUARD_API_TLS_CERT_FILE": str(ca.server_cert),
        "GASGUARD_API_TLS_KEY_FILE": str(ca.server_key),
    }
    with api_process(tmp_path / "data", "https", **env) as url:
        with httpx.Client(
            verify=ssl.create_default_context(cafile=str(ca.ca_cert)), timeout=10
        ) as client:
            health = wait_up(client, url)
            assert health.status_code == 200
            assert health.headers["strict-transport-security"].startswith("max-age=31536000")
            assert "frame-ancestors 'none'" in health.headers["content-security-policy"]
            page = client.get(f"{url}/")
            assert "script-src 'self'" in page.headers["content-security-policy"]
            signed_in = sign_in(client, url)
            assert signed_in.status_code == 200
            cookie = signed_in.headers["set-cookie"].lower()
            assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
        plain = url.replace("https://", "http://")
        with pytest.raises(httpx.TransportError), httpx.Client(timeout=5) as client:
            client.get(f"{plain}/api/v1/health")  # no sign-in form travels in clear


def test_cookies_are_secure_by_default_and_forwarded_addresses_are_ignored(
    tmp_path: Path,
) -> None:
    """uvicorn's own default believes X-Forwarded-For from 127.0.0.1: a local caller could
    give every guess a new address and never meet the per-address limit."""
    with api_process(tmp_path / "data") as url, httpx.Client(timeout=10) as client:
        wait_up(client, url)
        assert "secure" in sign_in(client, url).headers["set-cookie"].lower()
        answers = [
            sign_in(client, url, f"nobody{n}", **{"X-Forwarded-For": f"203.0.113.{n}"})
            for n in range(22)
        ]
        assert answers[0].status_code == 401
        assert answers[-1].status_code == 429  # one address, whatever the header said
        over_plain_http = client.get(f"{url}/api/v1/health", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in over_plain_http.headers


def test_a_configured_proxy_is_believed(tmp_path: Path) -> None:
    env = {"GASGUARD_API_TRUSTED_PROXIES": '["127.0.0.1"]'}
    with api_process(tmp_path / "data", **env) as url, httpx.Client(timeout=10) as client:
        wait_up(client, url)
        answers = [
            sign_in(client, url, f"nobody{n}", **{"X-Forwarded-For": f"203.0.113.{n}"})
            for n in range(22)
        ]
        assert {a.status_code for a in answers} == {401}  # 22 callers, one failure each
        proxied = client.get(f"{url}/api/v1/health", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" in proxied.headers
