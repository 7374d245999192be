"""Building the parts from one Settings object. Nothing here runs at import time."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
import secrets
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from api.context import ApiContext
from api.tokens import TokenService
from connections.errors import PolicyError
from connections.guide import ServiceGuide
from connections.policies import Policies, build_policies
from connections.timelimits import Policy
from connections.workdays import WorkCalendar, load_holiday_file
from contract.events import EVENT_NAMES
from contract.thresholds import ThresholdError, parse_thresholds
from devices import alarm_codes, onenet
from devices.dtu import DtuAccount
from devices.errors import CodecError, ProfileError
from devices.profiles import DeviceProfile, build_profiles
from gasguard.settings import GuideSettings, Settings, SettingsError
from ingest.actuator import Actuator
from ingest.broker_watch import BrokerWatch
from ingest.clock_watch import ClockWatch
from ingest.commands import ProfileCommandPublisher
from ingest.completeness_watch import CompletenessWatch
from ingest.connection_watch import ConnectionWatch
from ingest.dispatch import CommandDispatcher
from ingest.dtu_gateway import GATEWAY_SUBSCRIPTIONS, DtuGateway
from ingest.durable import DurableWriter
from ingest.flood import FloodGuard
from ingest.gas_on import GasOnWatcher
from ingest.health import HealthReporter
from ingest.meter_profiles import MeterProfiles
from ingest.metrics import IngestMetrics
from ingest.pipeline import Pipeline
from ingest.platform_commands import PlatformAccount, PlatformCommands
from ingest.platform_receiver import PushAccount, Receiver
from ingest.rule_profiles import RuleProfiles
from ingest.service import MqttIngester, ingest_subscriptions, session_options
from ingest.sightings import SightingsBuffer
from ingest.snapshots import SnapshotKeeper
from ingest.spool import Spool
from ingest.supervisor import PartitionSupervisor
from meters.clock import wall_clock_ms
from meters.db import make_engine, migrate
from meters.mqtt_auth import SERVICE_ACCOUNTS
from meters.partition import Partition
from meters.registry import Registry
from notifier.senders import Sender
from notifier.service import Notifier, NotifyTiming
from notify.channels import Channel
from notify.rota import Shift, Step
from notify.routing import Route
from safety.config import RulesConfig
from safety.engine import SafetyEngine
from safety.rulebook import RULE_IDS
from simulators.fleet import FleetPlan
from simulators.platform import SimulatedPlatform
from simulators.runner import FleetRunner, meter_session, runner_subscriptions
from telemetry import open_store
from telemetry.base import TelemetryStore
from transport.mqtt import MqttEndpoint, MqttSession, Protocol
from transport.probe import DROPPED_TOPIC, ProbeError, probe_window

log = logging.getLogger(__name__)


def mqtt_endpoint(settings: Settings) -> MqttEndpoint:
    """The broker from ``GASGUARD_MQTT_URL``, with this process's own password
    (``GASGUARD_MQTT_PASSWORD``, or the URL's). No password is derived here: a process
    that logs in holds its own credential, never the master key that makes every meter's
    (docs/security.md)."""
    protocol: Protocol = "5" if settings.mqtt_protocol == "5" else "3.1.1"
    endpoint = MqttEndpoint.from_url(settings.mqtt_url, settings.mqtt_ca_file, protocol)
    if settings.mqtt_password is not None and not endpoint.password:
        password = settings.mqtt_password.get_secret_value()
        endpoint = dataclasses.replace(endpoint, password=password)
    if endpoint.username is not None and not endpoint.password:
        hint = ""
        if endpoint.username in SERVICE_ACCOUNTS.values():
            hint = f" (`gasguard mqtt-auth password {_service_of(endpoint.username)}` prints it)"
        raise SettingsError(
            f"GASGUARD_MQTT_URL names the MQTT account {endpoint.username} but gives no "
            f"password: set GASGUARD_MQTT_PASSWORD{hint}"
        )
    return endpoint


def _service_of(account: str) -> str:
    return next(short for short, name in SERVICE_ACCOUNTS.items() if name == account)


def warn_of_master_key(settings: Settings, process: str) -> None:
    """A long-running process that holds the MQTT master key says so: it does not need
    it, and a leak of it lets anyone log in as any meter (gasguard doctor reports it too)."""
    if settings.mqtt_auth_key is not None:
        log.warning(
            "GASGUARD_MQTT_AUTH_KEY is set for gasguard %s, which does not use it: remove it "
            "from this process's environment (only `gasguard mqtt-auth` needs it)",
            process,
        )


def rules_config(settings: Settings) -> RulesConfig:
    return RulesConfig.from_toml(settings.rules_file) if settings.rules_file else RulesConfig()


def open_registry(settings: Settings) -> Registry:
    """The registry, migrated. A SQLite file is created 0600: it holds the meters' command
    keys and the operators' password hashes."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.db_url is None:
        path = settings.data_dir / "registry.sqlite3"
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    engine = make_engine(settings.registry_url)
    migrate(engine)
    return Registry(engine)


def open_telemetry(settings: Settings) -> TelemetryStore:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_store(
        settings.influx_url,
        settings.influx_db,
        settings.influx_token,
        settings.data_dir,
        settings.influx_timeout_s,
    )


def ingest_endpoint(settings: Settings) -> tuple[MqttEndpoint, str]:
    """The broker as the ingest lanes connect to it, and what the worker should say of
    it (a warning for the health report, or ""). With ``mqtt_protocol`` "auto", the
    broker's in-flight window for 3.1.1 is measured (``transport.probe``): when it is
    below ``ingest.min_window`` the lanes use MQTT 5 and ask for ``receive_maximum``."""
    endpoint, config = mqtt_endpoint(settings), settings.ingest
    if settings.mqtt_protocol != "auto":  # the operator's choice (gasguard doctor checks it)
        return endpoint, ""
    try:
        window = probe_window(endpoint, count=config.min_window)
    except ProbeError as exc:
        log.warning("broker in-flight window not measured (%s)", exc)
        return endpoint, ""
    if not window.limited:
        log.info("broker in-flight window: at least %d (MQTT 3.1.1)", window.delivered)
        return endpoint, ""
    warning = (
        f"the broker's in-flight window for MQTT 3.1.1 is {window.delivered} "
        f"(< {config.min_window}): ingest uses MQTT 5 with Receive Maximum "
        f"{config.receive_maximum}; raise max_inflight_messages for the faster 3.1.1 path. "
        "A broker with stock limits also drops what is queued past max_queued_messages "
        "(1,000) while ingest is away: check it with gasguard doctor --probe-queue"
    )
    endpoint = dataclasses.replace(endpoint, protocol="5")
    log.warning("%s", warning)
    return endpoint, warning


def build_broker_watch(settings: Settings, registry: Registry, worker: str) -> BrokerWatch | None:
    """The worker's watch of the broker's drop counter, on its own small MQTT session."""
    config = settings.ingest
    if not config.broker_watch:
        return None
    watch = BrokerWatch(registry, config.broker_watch_check_s, wall_clock_ms)
    endpoint = dataclasses.replace(mqtt_endpoint(settings), protocol="3.1.1")
    session = MqttSession(endpoint, f"{worker}-broker-watch", [(DROPPED_TOPIC, 0)], "broker watch")
    session.on_message(lambda message: watch.on_value(message.payload))
    watch.attach(session)
    return watch


def build_ingest_worker(
    settings: Settings, registry: Registry, store: TelemetryStore, metrics: CollectorRegistry
) -> PartitionSupervisor:
    """The ``gasguard ingest`` process: its own partition, and any other it takes over."""
    config = settings.ingest
    preferred = config.worker_partition()
    worker = config.client_id + preferred.suffix  # its lease holder name and health row
    ingest_metrics = IngestMetrics(metrics)
    endpoint, broker_warning = ingest_endpoint(settings)
    watch = build_broker_watch(settings, registry, worker)

    def faults() -> str:
        return "; ".join(f for f in (supervisor.fault, watch.fault if watch else "") if f)

    health = HealthReporter(
        registry.workers,
        ingest_metrics,
        worker,
        lambda: supervisor.describe(),  # bound below; called only once it runs
        config.health_every_s,
        wall_clock_ms,
        faults,
        lambda: broker_warning,
    )
    supervisor = PartitionSupervisor(
        registry.leases,
        worker,
        preferred,
        lambda partition: build_lane(
            settings, registry, store, ingest_metrics, partition, endpoint
        ),
        config.lease_ttl_s,
        config.lease_renew_s,
        wall_clock_ms,
        health,
        leased=config.shared_group is None,
        on_lane_death=ingest_metrics.lane_deaths.inc,
        broker_watch=watch,
        chore_failures=ingest_metrics.chore_failures,
    )
    return supervisor


def build_ingester(
    settings: Settings, registry: Registry, store: TelemetryStore, metrics: CollectorRegistry
) -> MqttIngester:
    """One lane for the configured partition, without leases (tests drive it directly)."""
    partition = settings.ingest.worker_partition()
    return build_lane(settings, registry, store, IngestMetrics(metrics), partition)


def build_lane(
    settings: Settings,
    registry: Registry,
    store: TelemetryStore,
    ingest_metrics: IngestMetrics,
    partition: Partition,
    endpoint: MqttEndpoint | None = None,
) -> MqttIngester:
    """Everything one partition needs: its MQTT session (the partition's persistent
    session), spool, engine and snapshot. ``endpoint``: the broker as negotiated by
    ``ingest_endpoint`` (default: as configured)."""
    config = settings.ingest
    session = MqttSession(
        endpoint or mqtt_endpoint(settings),
        config.client_id + partition.suffix,
        ingest_subscriptions(config.shared_group),
        "ingest",
        session_options(config),
    )
    spool_dir = settings.spool_dir.with_name(settings.spool_dir.name + partition.suffix)
    spool = Spool(spool_dir, config.spool_max_bytes, config.spool_segment_bytes)
    writer = DurableWriter(
        store,
        spool,
        ingest_metrics,
        config.retry_initial_s,
        config.retry_max_s,
        partition=partition.text,
    )
    engine = SafetyEngine(rules_config(settings))
    in_force = device_profiles(settings)
    rule_profiles = RuleProfiles(engine, registry.meters, in_force, partition.owns)
    profiles = MeterProfiles(registry, in_force)
    dispatcher = CommandDispatcher(
        registry,
        ProfileCommandPublisher(session, profiles.for_command, platform_commands(settings)),
        config.commands.timing(),
        wall_clock_ms,
        partition.owns,
        profiles.of,
    )
    actuator = Actuator(registry, dispatcher, int(config.late_data_s * 1000))
    sightings = SightingsBuffer(config.sightings_flush_s)
    gas_on = GasOnWatcher(registry)
    flood = FloodGuard(config.dead_letters_per_meter, config.dead_letters_window_s)
    pipeline = Pipeline(
        writer,
        registry,
        engine,
        actuator,
        config.decode,
        ingest_metrics,
        sightings,
        gas_on,
        flood,
        profiles,
        ClockWatch(
            int(config.clock_drift_s * 1000),
            sample_every_ms=int(config.clock_sample_every_s * 1000),
            interval_of=lambda meter_id: engine.profile(meter_id).report_interval_s * 1000,
        ),
    )
    snapshot_path = settings.data_dir / f"engine-snapshot{partition.suffix}.npz"
    snapshots = SnapshotKeeper(snapshot_path, engine, config.snapshot_every_s)
    snapshots.restore()
    rule_profiles.refresh()  # every meter's profile and life, over what the snapshot had
    pipeline.rule_profiles = rule_profiles
    watch = ConnectionWatch(registry, connection_policies(settings), wall_clock_ms)
    # Connection time limits and data completeness are not per partition: the lane of
    # partition 0 watches them.
    first = partition.index == 0
    completeness = CompletenessWatch(
        registry,
        store,
        config.completeness_window_s,
        config.completeness_min_share,
        wall_clock_ms,
    )
    return MqttIngester(
        session,
        pipeline,
        config,
        snapshots,
        connection_watch=watch if first else None,
        partition=partition,
        completeness_watch=completeness if first else None,
    )


def api_server_config(settings: Settings, app: Any, log_level: str = "info") -> uvicorn.Config:
    """uvicorn for the API: TLS when a certificate is configured; forwarded headers
    believed only from ``api_trusted_proxies`` (uvicorn's own default trusts 127.0.0.1,
    which would let any local caller choose the address the limits count)."""
    proxies = settings.api_trusted_proxies
    tls = settings.api_tls_cert_file is not None
    if settings.api_secure_cookies and not tls and not proxies:
        log.warning(
            "the API serves plain HTTP with Secure session cookies: browsers sign in only "
            "through HTTPS. Set GASGUARD_API_TLS_CERT_FILE/_KEY_FILE, or put a TLS proxy in "
            "front (GASGUARD_API_TRUSTED_PROXIES); GASGUARD_API_SECURE_COOKIES=false only "
            "for a trial on loopback"
        )
    return uvicorn.Config(
        app,
        host=settings.api_host,
        port=settings.api_port,
        log_level=log_level,
        ssl_certfile=str(settings.api_tls_cert_file) if tls else None,
        ssl_keyfile=str(settings.api_tls_key_file) if tls else None,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=",".join(proxies) if proxies else "",
        server_header=False,
    )


def build_api_context(
    settings: Settings, registry: Registry, store: TelemetryStore, metrics: CollectorRegistry
) -> ApiContext:
    tokens = TokenService(api_secret(settings), settings.api_token_ttl_s, wall_clock_ms)
    return ApiContext(
        registry=registry,
        store=store,
        tokens=tokens,
        metrics=metrics,
        secure_cookies=settings.api_secure_cookies,
        hsts_max_age_s=settings.api_hsts_max_age_s,
        allowed_origins=tuple(settings.api_allowed_origins),
        feed_poll_s=settings.api_feed_poll_s,
        command_ttl_s=settings.ingest.commands.ttl_s,
        device_profiles=device_profiles(settings),
        meter_models={n: m.over_flow_m3h for n, m in rules_config(settings).models.items()},
        worker_stale_s=3 * settings.ingest.health_every_s,
        completeness_min_share=settings.ingest.completeness_min_share,
        policies=connection_policies(settings),
        ack_link_secret=settings.notifications.link_secret.get_secret_value(),
    )


def connection_policies(settings: Settings) -> Policies:
    """The city policies in force: built-in and configured (``connections.build_policies``),
    with the configured warning share and holiday schedules."""
    configured = {  # a settings field is the Policy field of the same name
        name: Policy(
            name=name, **spec.model_dump(exclude={"guide"}), guide=service_guide(spec.guide)
        )
        for name, spec in settings.connection_policies.items()
    }
    try:
        return build_policies(work_calendar(settings), configured, settings.connection_warn_share)
    except PolicyError as exc:
        raise SettingsError(str(exc)) from exc


def build_dtu_gateway(settings: Settings) -> DtuGateway:
    """The DTU gateway on its own MQTT session (account gasguard-dtu-gateway)."""
    accounts = {
        dtu_id: DtuAccount(dtu_id, spec.token.get_secret_value(), frozenset(spec.meters))
        for dtu_id, spec in settings.dtu_gateway.dtus.items()
    }
    session = MqttSession(
        mqtt_endpoint(settings),
        f"gasguard-dtu-gateway-{os.getpid()}",
        GATEWAY_SUBSCRIPTIONS,
        "dtu-gateway",
    )
    return DtuGateway(session, accounts, settings.dtu_gateway.idle_timeout_s)


def build_platform_receiver(settings: Settings) -> Receiver:
    """The platform receiver on its own MQTT session; each push account is a configured
    profile of the platform's codec (its options name the data streams)."""
    profiles = device_profiles(settings)
    accounts = {}
    for name, spec in settings.platform_receiver.onenet.items():
        profile = profiles.get(name)
        if profile is None or profile.codec != "onenet":
            raise SettingsError(f"platform_receiver.onenet.{name}: no onenet profile {name!r}")
        try:
            key = onenet.aes_key(spec.aes_key.get_secret_value()) if spec.aes_key else None
        except CodecError as exc:
            raise SettingsError(f"platform_receiver.onenet.{name}.aes_key: {exc}") from exc
        secret = spec.token.get_secret_value()
        accounts[name] = PushAccount(name, "onenet", secret, key, profile.options)
    for name, ctwing_spec in settings.platform_receiver.ctwing.items():
        profile = profiles.get(name)
        if profile is None or profile.codec != "ctwing":
            raise SettingsError(f"platform_receiver.ctwing.{name}: no ctwing profile {name!r}")
        if name in accounts:
            raise SettingsError(f"platform_receiver: profile {name} has two platforms")
        secret = ctwing_spec.token.get_secret_value()
        accounts[name] = PushAccount(name, "ctwing", secret, None, profile.options)
    session = MqttSession(
        mqtt_endpoint(settings), f"gasguard-platforms-{os.getpid()}", [], "platform-receiver"
    )
    return Receiver(session, accounts, settings.platform_receiver.publish_timeout_s)


def platform_commands(settings: Settings) -> PlatformCommands | None:
    """The operator platforms' command APIs, for the meters of their profiles; None when
    none is configured (a platform meter's command then fails, naming why)."""
    config = settings.platform_api
    profiles = device_profiles(settings)
    accounts: dict[str, PlatformAccount] = {}
    for platform, specs in (("onenet", config.onenet), ("ctwing", config.ctwing)):
        for name, spec in specs.items():
            profile = profiles.get(name)
            if profile is None or profile.codec != platform:
                raise SettingsError(f"platform_api.{platform}.{name}: no {platform} profile")
            keys = {
                key: value.get_secret_value() if isinstance(value, SecretStr) else str(value)
                for key, value in spec
                if key != "url"
            }
            accounts[name] = PlatformAccount(spec.url, keys)
    if not accounts:
        return None
    http = httpx.Client(timeout=config.timeout_s)
    return PlatformCommands(accounts, http, wall_clock_ms)


def device_profiles(settings: Settings) -> dict[str, DeviceProfile]:
    """The device profiles in force: built-in and configured (``devices.profiles``)."""
    try:
        configured = {
            name: DeviceProfile(
                name=name,
                **spec.model_dump(exclude={"thresholds"}),
                thresholds=parse_thresholds(spec.thresholds),
            )
            for name, spec in settings.device_profiles.items()
        }
    except ThresholdError as exc:
        raise SettingsError(f"device profile thresholds: {exc}") from exc
    try:
        profiles = build_profiles(configured)
    except ProfileError as exc:
        raise SettingsError(str(exc)) from exc
    for profile in profiles.values():
        try:
            mapping = alarm_codes.alarm_map(profile.codec, profile.options)
            alarm_codes.check_targets(mapping, (*RULE_IDS, *EVENT_NAMES))
        except ProfileError as exc:
            raise SettingsError(f"device profile {profile.name}: {exc}") from exc
    return profiles


def service_guide(spec: GuideSettings) -> ServiceGuide:
    """The configured guide; what it leaves out keeps gasguard's generic text."""
    default = ServiceGuide()
    return ServiceGuide(
        tuple(spec.materials) or default.materials,
        tuple(spec.steps) or default.steps,
        spec.contact or default.contact,
    )


def work_calendar(settings: Settings) -> WorkCalendar:
    schedules = load_holiday_file(settings.holiday_file) if settings.holiday_file else {}
    return WorkCalendar(schedules)


def api_secret(settings: Settings) -> bytes:
    """The configured token key, or one generated once and kept (0600) in the data folder,
    so that sessions survive an API restart on the embedded defaults."""
    return kept_secret(settings, settings.api_secret_key, "GASGUARD_API_SECRET_KEY", "api-secret")


def mqtt_auth_key(settings: Settings) -> bytes:
    """The key meters' MQTT passwords are derived from (meters.mqtt_auth)."""
    return kept_secret(settings, settings.mqtt_auth_key, "GASGUARD_MQTT_AUTH_KEY", "mqtt-auth")


KEY_FILE_RE = re.compile(r"[A-Za-z0-9_-]{64}")  # secrets.token_urlsafe(48)


def kept_secret(settings: Settings, configured: SecretStr | None, env: str, name: str) -> bytes:
    """The configured secret (32+ characters), or one generated once and kept (0600) in
    the data folder as ``{name}.key``. The file is written whole before it appears (a
    crash or a full disk never leaves an empty key behind), and a key file of the wrong
    length or form is refused: an empty key would make every derived password public."""
    if configured is not None:
        secret = configured.get_secret_value().encode()
        if len(secret) < 32:
            raise SettingsError(f"{env} needs at least 32 characters")
        return secret
    path = settings.data_dir / f"{name}.key"
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        write_new_key(path, secrets.token_urlsafe(48))
    text = path.read_text().strip()
    if KEY_FILE_RE.fullmatch(text) is None:
        raise SettingsError(
            f"key file {path} is damaged ({len(text)} characters, not 64 of A-Z a-z 0-9 _ -): "
            f"set {env}, or move the file away to generate a new key (what was derived from "
            "the old one, sessions or MQTT passwords, then changes)"
        )
    return text.encode()


def write_new_key(path: Path, text: str) -> None:
    """``text`` into a new 0600 file at ``path``, all or nothing: written and fsynced under
    a temporary name, then linked into place (another process that got there first
    wins; its key is the one read)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def provision_fleet(registry: Registry, plan: FleetPlan, now_ms: int) -> None:
    """Register the simulated meters and give each the secret key the registry holds for
    it (what a utility does when it installs a meter)."""
    registry.meters.provision([m.profile for m in plan.meters], now_ms)
    keys = registry.commands.meter_keys([m.meter_id for m in plan.meters])
    for meter in plan.meters:
        meter.key = keys[meter.meter_id]


def build_fleet_runner(
    settings: Settings, plan: FleetPlan, platform: SimulatedPlatform | None = None
) -> FleetRunner:
    """One shared connection, and their own (with a last will) for the first
    ``own_connections`` meters; ``platform``: the NB-IoT meters' operator platform."""
    endpoint, client_id = mqtt_endpoint(settings), settings.simulator.client_id
    session = MqttSession(endpoint, client_id, runner_subscriptions(), "simulator")
    own = [m.meter_id for m in plan.meters[: settings.simulator.own_connections]]
    sessions = {meter_id: meter_session(endpoint, client_id, meter_id) for meter_id in own}
    return FleetRunner(plan, session, own_sessions=sessions, platform=platform)


def notification_channels(settings: Settings) -> dict[str, Channel]:
    return {
        name: Channel(
            name,
            spec.kind,
            spec.url,
            spec.secret.get_secret_value(),
            tuple(spec.to),
            spec.sender,
            spec.method,
            tuple(spec.headers.items()),
            spec.body_template,
            spec.ack_as,
            tuple(spec.options.items()),
        )
        for name, spec in settings.notifications.channels.items()
    }


def build_notifier(settings: Settings, registry: Registry) -> Notifier:
    """The notifier of the settings' channels and routes (notifier.service)."""
    config = settings.notifications
    routes = [
        Route(tuple(r.channels), r.min_severity, tuple(r.rules), r.quiet_hours, tuple(r.districts))
        for r in config.routes
    ]
    timing = NotifyTiming(
        config.poll_s,
        config.retry_initial_s,
        config.retry_max_s,
        config.max_attempts,
        escalation_check_s=config.escalation_check_s,
        link_ttl_s=config.link_ttl_s,
    )
    rota = [
        Shift(s.person, s.channel, s.start_hour, s.end_hour, tuple(s.weekdays)) for s in config.rota
    ]
    steps = [Step(e.after_min * 60, tuple(e.channels)) for e in config.escalation]
    return Notifier(
        registry,
        notification_channels(settings),
        routes,
        Sender(config.timeout_s),
        wall_clock_ms,
        timing,
        config.dashboard_url,
        rota,
        steps,
        config.link_secret.get_secret_value(),
    )
