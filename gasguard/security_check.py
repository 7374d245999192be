"""``gasguard doctor --security``: what a deployment leaves open, checked from where the
command runs with that deployment's settings (docs/security.md, "Checking a deployment").

Anonymous MQTT (probed: an anonymous CONNECT to the broker), MQTT and the API without TLS,
session cookies without Secure, example secrets, key files and the SQLite registry
readable by others, the MQTT master key held by a process that does not need it, and
InfluxDB without credentials. Each finding says what to change.
"""

from __future__ import annotations

import ipaddress
import stat
from pathlib import Path
from urllib.parse import urlsplit

from gasguard.findings import Finding, Level
from gasguard.secrets_check import example_secrets
from gasguard.settings import Settings, SettingsError
from transport.probe import ProbeError, accepts_anonymous

AREA = "security"


def check_security(settings: Settings) -> list[Finding]:
    return [
        *_example_secrets(settings),
        *_mqtt(settings),
        *_api(settings),
        *_private_files(settings),
        *_master_key(settings),
        *_influx(settings),
    ]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _example_secrets(settings: Settings) -> list[Finding]:
    found = example_secrets(settings)
    if not found:
        return [Finding(AREA, "ok", "no example secret from .env.example in use")]
    return [
        Finding(AREA, "fail", f"{name} still holds the example value", "set a real secret")
        for name in found
    ]


def _mqtt(settings: Settings) -> list[Finding]:
    from gasguard.wiring import mqtt_endpoint

    try:
        endpoint = mqtt_endpoint(settings)
    except SettingsError as exc:
        return [Finding(AREA, "fail", str(exc), "fix the MQTT settings")]
    found = []
    if not endpoint.tls:
        level: Level = "note" if is_loopback(endpoint.host) else "warn"
        found.append(
            Finding(
                AREA,
                level,
                f"MQTT without TLS ({endpoint.url}): meters' passwords and readings cross "
                "the network in clear",
                "a TLS listener (deploy/mosquitto.conf) and mqtts:// with GASGUARD_MQTT_CA_FILE",
            )
        )
    try:
        anonymous = accepts_anonymous(endpoint)
    except ProbeError as exc:
        return [*found, Finding(AREA, "warn", f"anonymous MQTT not checked: {exc}")]
    if anonymous:
        found.append(
            Finding(
                AREA,
                "fail",
                f"the broker at {endpoint.url} lets clients in without a password: whoever "
                "reaches it can publish readings as any meter and so cause real shutoffs",
                "allow_anonymous false, with the password file and ACL of `gasguard "
                "mqtt-auth export` (deploy/mosquitto.conf)",
            )
        )
    else:
        found.append(Finding(AREA, "ok", f"the broker at {endpoint.url} refuses anonymous clients"))
    return found


def _api(settings: Settings) -> list[Finding]:
    where = f"{settings.api_host}:{settings.api_port}"
    if settings.api_tls_cert_file is not None:
        found = [Finding(AREA, "ok", f"the API serves HTTPS on {where}")]
    elif settings.api_trusted_proxies:
        proxies = ", ".join(settings.api_trusted_proxies)
        found = [
            Finding(
                AREA,
                "note",
                f"the API serves plain HTTP on {where} behind the TLS proxy {proxies}",
                "check that the proxy alone reaches that port and sends X-Forwarded-Proto",
            )
        ]
    else:
        level: Level = "note" if is_loopback(settings.api_host) else "warn"
        found = [
            Finding(
                AREA,
                level,
                f"the API serves plain HTTP on {where}: operators' passwords and session "
                "cookies cross the network in clear",
                "GASGUARD_API_TLS_CERT_FILE and _KEY_FILE, or a TLS proxy "
                "(GASGUARD_API_TRUSTED_PROXIES)",
            )
        ]
    if not settings.api_secure_cookies:
        found.append(
            Finding(
                AREA,
                "warn",
                "session cookies without Secure: a browser also sends them over plain HTTP",
                "GASGUARD_API_SECURE_COOKIES=true (the default everywhere but the demo)",
            )
        )
    if settings.api_hsts_max_age_s == 0:
        found.append(Finding(AREA, "warn", "HSTS is off", "GASGUARD_API_HSTS_MAX_AGE_S=31536000"))
    return found


def _private_files(settings: Settings) -> list[Finding]:
    candidates = [
        *sorted(settings.data_dir.glob("*.key")),
        settings.data_dir / "registry.sqlite3",
        *([settings.api_tls_key_file] if settings.api_tls_key_file else []),
    ]
    found = []
    for path in candidates:
        mode = _mode(path)
        if mode is not None and mode & 0o077:
            found.append(
                Finding(
                    AREA,
                    "fail",
                    f"{path} is open to other users (mode {mode:04o}): it holds keys, "
                    "password hashes or meters' command keys",
                    f"chmod 600 {path}",
                )
            )
    return found or [
        Finding(AREA, "ok", f"key files and registry in {settings.data_dir}: owner only")
    ]


def _mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None


def _master_key(settings: Settings) -> list[Finding]:
    found = []
    if settings.mqtt_auth_key is not None:
        found.append(
            Finding(
                AREA,
                "warn",
                "this environment holds GASGUARD_MQTT_AUTH_KEY, the key to every meter's "
                "MQTT account: only `gasguard mqtt-auth` needs it",
                "remove it from the ingest, api and simulator environments; they log in "
                "with GASGUARD_MQTT_PASSWORD",
            )
        )
    kept = settings.data_dir / "mqtt-auth.key"
    account = urlsplit(settings.mqtt_url).username
    if kept.exists() and account:
        found.append(
            Finding(
                AREA,
                "warn",
                f"the MQTT master key is kept in {kept}, the data folder of a process that "
                f"logs in as {account}",
                "move it to the mqtt-auth job's secret (GASGUARD_MQTT_AUTH_KEY) and delete "
                "the file",
            )
        )
    return found or [Finding(AREA, "ok", "no MQTT master key in this environment")]


def _influx(settings: Settings) -> list[Finding]:
    if not settings.influx_url or settings.influx_token:
        return []
    return [
        Finding(
            AREA,
            "warn",
            f"InfluxDB at {settings.influx_url} is used without credentials: whoever "
            "reaches it can read and rewrite the readings",
            "auth-enabled = true in influxdb.conf, and GASGUARD_INFLUX_TOKEN=user:password",
        )
    ]
