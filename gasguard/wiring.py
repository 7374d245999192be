"""Building the parts from one Settings object. Nothing here runs at import time."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry

from api.context import ApiContext
from gasguard.settings import Settings
from ingest.actuator import Actuator
from ingest.commands import MqttCommandPublisher
from ingest.durable import DurableWriter
from ingest.metrics import IngestMetrics
from ingest.pipeline import Pipeline
from ingest.service import MqttIngester, ingest_subscriptions, session_options
from ingest.sightings import SightingsBuffer
from ingest.snapshots import SnapshotKeeper
from ingest.spool import Spool
from meters.db import make_engine, migrate
from meters.mqtt import MqttEndpoint, MqttSession
from meters.registry import Registry
from meters.telemetry import open_store
from meters.telemetry.base import TelemetryStore
from safety.config import RulesConfig
from safety.engine import SafetyEngine
from simulators.fleet import FleetPlan
from simulators.runner import FleetRunner, runner_subscriptions

log = logging.getLogger(__name__)


def mqtt_endpoint(settings: Settings) -> MqttEndpoint:
    return MqttEndpoint.from_url(settings.mqtt_url, settings.mqtt_ca_file, settings.mqtt_protocol)


def rules_config(settings: Settings) -> RulesConfig:
    return RulesConfig.from_toml(settings.rules_file) if settings.rules_file else RulesConfig()


def open_registry(settings: Settings) -> Registry:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.registry_url)
    migrate(engine)
    return Registry(engine)


def open_telemetry(settings: Settings) -> TelemetryStore:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_store(
        settings.influx_url, settings.influx_db, settings.influx_token, settings.data_dir
    )


def build_ingester(
    settings: Settings, registry: Registry, store: TelemetryStore, metrics: CollectorRegistry
) -> MqttIngester:
    config = settings.ingest
    session = MqttSession(
        mqtt_endpoint(settings),
        config.client_id,
        ingest_subscriptions(),
        "ingest",
        session_options(config),
    )
    ingest_metrics = IngestMetrics(metrics)
    spool = Spool(settings.spool_dir, config.spool_max_bytes, config.spool_segment_bytes)
    writer = DurableWriter(store, spool, ingest_metrics, config.retry_initial_s, config.retry_max_s)
    engine = SafetyEngine(rules_config(settings), {p.meter_id: p for p in registry.profiles()})
    actuator = Actuator(registry, MqttCommandPublisher(session.client))
    sightings = SightingsBuffer(config.sightings_flush_s)
    pipeline = Pipeline(
        writer, registry, engine, actuator, config.decode, ingest_metrics, sightings
    )
    snapshot_path = settings.data_dir / "engine-snapshot.json"
    snapshots = SnapshotKeeper(snapshot_path, engine, config.snapshot_every_s)
    snapshots.restore()
    return MqttIngester(session, pipeline, config, snapshots)


def build_api_context(
    registry: Registry, store: TelemetryStore, metrics: CollectorRegistry
) -> ApiContext:
    return ApiContext(registry=registry, store=store, metrics=metrics)


def build_fleet_runner(settings: Settings, plan: FleetPlan) -> FleetRunner:
    session = MqttSession(
        mqtt_endpoint(settings), settings.simulator.client_id, runner_subscriptions(), "simulator"
    )
    return FleetRunner(plan, session)
