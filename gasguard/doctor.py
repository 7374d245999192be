"""``gasguard doctor``: what the broker, InfluxDB, the registry and the clocks will do for
gasguard, and what the deployment leaves open (``gasguard.security_check``; alone with
``--security``), checked from here, and what to change.

Each check returns findings (ok / warn / fail, with the change to make); ``run`` prints
them and says how it went in its exit status: 0 all ok, 1 a warning, 2 something failed.
The broker probes publish only on ``gasguard/probe/…`` (``transport.probe``); the queue
probe (``--probe-queue``) makes a stock broker drop some of its own probe messages, which
a running ``gasguard ingest`` reports as broker drops.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gasguard.findings import Finding, Level
from gasguard.security_check import check_security
from gasguard.settings import Settings, SettingsError
from meters.db import database_clock_ms, make_engine, schema_revisions
from meters.errors import MetersError
from telemetry.errors import TelemetryError
from telemetry.influx import InfluxTelemetryStore
from transport.errors import TransportError
from transport.probe import probe_queue, probe_window, read_sys

QUEUE_PROBE = 5_000  # messages kept for a session that is away: at least this many
CLOCK_SKEW_WARN_MS = 2_000


def check_broker(settings: Settings, queue: bool) -> list[Finding]:
    from gasguard.wiring import mqtt_endpoint

    try:
        endpoint = mqtt_endpoint(settings)
    except SettingsError as exc:
        return [Finding("broker", "fail", str(exc), "fix the MQTT settings")]
    found: list[Finding] = []
    try:
        window = probe_window(endpoint, count=settings.ingest.min_window)
    except TransportError as exc:
        return [Finding("broker", "fail", f"cannot probe {endpoint.url}: {exc}", "start it")]
    if window.limited:
        found.append(
            Finding(
                "broker",
                "warn",
                f"in-flight window for MQTT 3.1.1 clients: {window.delivered} messages "
                f"(gasguard batches up to {settings.ingest.batch_max_messages}; below "
                f"{settings.ingest.min_window} it stores a few thousand readings/s at most)",
                "set max_inflight_messages 1000 (Mosquitto), or keep GASGUARD_MQTT_PROTOCOL"
                f"=auto: ingest then asks for Receive Maximum {settings.ingest.receive_maximum}"
                " over MQTT 5",
            )
        )
    else:
        found.append(Finding("broker", "ok", f"in-flight window: at least {window.delivered}"))
    if queue:
        kept = probe_queue(endpoint, count=QUEUE_PROBE)
        if kept.limited:
            found.append(
                Finding(
                    "broker",
                    "warn",
                    f"queue limit: it kept {kept.delivered} of {kept.published} messages for "
                    "a session that was away and dropped the rest (readings acknowledged to "
                    "meters are lost while ingest is down or behind)",
                    "set max_queued_messages 1000000 (Mosquitto; EMQX: mqueue max_len)",
                )
            )
        else:
            found.append(Finding("broker", "ok", f"queue: kept all {kept.published} probes"))
    else:
        found.append(
            Finding(
                "broker",
                "note",
                "queue limit not probed (it makes a stock broker drop probe messages)",
                "run gasguard doctor --probe-queue while no ingest runs",
            )
        )
    sys_topics = read_sys(endpoint)
    if sys_topics.dropped is None:
        found.append(
            Finding(
                "broker",
                "warn",
                "no $SYS drop counter visible: gasguard cannot see messages the broker drops",
                "allow the ingest account to read $SYS/broker/publish/messages/dropped "
                "(gasguard mqtt-auth export writes that ACL line)",
            )
        )
    else:
        level: Level = "warn" if sys_topics.dropped else "ok"
        found.append(
            Finding(
                "broker",
                level,
                f"{sys_topics.version or 'broker'}: {sys_topics.dropped} messages dropped since "
                "it started",
                "find the client that fell behind (the broker's log)" if level == "warn" else "",
            )
        )
    found.append(
        Finding(
            "broker",
            "note",
            "persistence cannot be seen by a client: a broker that restarts without it "
            "loses every queued message and persistent session",
            "check `persistence true` and `persistence_location` (Mosquitto)",
        )
    )
    return found


def check_influx(settings: Settings) -> list[Finding]:
    if not settings.influx_url:
        return [
            Finding(
                "influxdb",
                "note",
                "no InfluxDB configured: readings go to the embedded SQLite store",
                "set GASGUARD_INFLUX_URL for production",
            )
        ]
    store = InfluxTelemetryStore(
        settings.influx_url, settings.influx_db, settings.influx_token, settings.influx_timeout_s
    )
    try:
        facts = store.server_facts()
    except TelemetryError as exc:
        return [Finding("influxdb", "fail", f"{settings.influx_url}: {exc}", "start it")]
    finally:
        store.close()
    found = [Finding("influxdb", "ok", f"InfluxDB {facts.version} at {settings.influx_url}")]
    if not facts.database_exists:
        found.append(
            Finding(
                "influxdb",
                "warn",
                f"database {settings.influx_db!r} does not exist yet",
                "gasguard ingest creates it at start; or CREATE DATABASE",
            )
        )
    for name, duration, default in facts.retention:
        if default and duration in ("0s", "0"):
            found.append(
                Finding(
                    "influxdb",
                    "warn",
                    f"default retention policy {name!r} keeps readings for ever",
                    "docs/operations.md, Retention (400 d and an hourly roll-up)",
                )
            )
        elif default:
            found.append(Finding("influxdb", "ok", f"retention {name!r}: {duration}"))
    found.extend(_clock("influxdb", facts.server_ms, 1_000))
    return found


def check_registry(settings: Settings) -> list[Finding]:
    engine = make_engine(settings.registry_url)
    try:
        current, head = schema_revisions(engine)
        clock_ms = database_clock_ms(engine)
    except MetersError as exc:
        return [Finding("registry", "fail", str(exc), "check GASGUARD_DB_URL")]
    finally:
        engine.dispose()
    found = []
    if current != head:
        found.append(
            Finding(
                "registry",
                "warn",
                f"schema at revision {current or 'none'}, this gasguard needs {head}",
                "gasguard migrate",
            )
        )
    else:
        found.append(Finding("registry", "ok", f"schema at the newest revision ({head})"))
    found.extend(_clock("registry", clock_ms, 0))
    return found


def _clock(area: str, server_ms: int | None, resolution_ms: int) -> list[Finding]:
    if server_ms is None:
        return []
    skew = server_ms - int(time.time() * 1000)
    if abs(skew) > CLOCK_SKEW_WARN_MS + resolution_ms:
        return [
            Finding(
                area,
                "warn",
                f"its clock is {skew / 1000:+.1f} s from this machine's",
                "run NTP (chrony) on every machine: alarms, commands and audit carry times",
            )
        ]
    return [Finding(area, "ok", f"clock within {CLOCK_SKEW_WARN_MS / 1000:.0f} s of this one")]


def run(
    settings: Settings,
    probe_queue_too: bool,
    out: Callable[[str], object] = print,
    security_only: bool = False,
) -> int:
    findings = check_security(settings)
    if not security_only:
        findings = [
            *check_broker(settings, probe_queue_too),
            *check_influx(settings),
            *check_registry(settings),
            *findings,
        ]
    marks = {"ok": "ok  ", "note": "note", "warn": "WARN", "fail": "FAIL"}
    for finding in findings:
        out(f"[{marks[finding.level]}] {finding.area}: {finding.what}")
        if finding.change:
            out(f"       change: {finding.change}")
    levels = {f.level for f in findings}
    return 2 if "fail" in levels else 1 if "warn" in levels else 0
