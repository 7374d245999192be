"""Building the parts from one Settings object. Nothing here runs at import time."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry

from api.context import ApiContext
from gasguard.settings import Settings
from ingest.actuator import Actuator
from ingest.commands import MqttCommandPublisher
from ingest.metrics import IngestMetrics
from ingest.pipeline import Pipeline
from ingest.service import MqttIngester
from meters.db import make_engine, migrate
from meters.mqtt import MqttEndpoint, make_client
from meters.registry import Registry
from meters.telemetry import open_store
from meters.telemetry.base import TelemetryStore
from safety.config import RulesConfig
from safety.engine import SafetyEngine
from simulators.fleet import FleetPlan
from simulators.runner import FleetRunner

log = logging.getLogger(__name__)


def mqtt_endpoint(settings: Settings) -> MqttEndpoint:
    return MqttEndpoint.from_url(settings.mqtt_url, ca_file=settings.mqtt_ca_file)


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
    endpoint = mqtt_endpoint(settings)
    config = settings.ingest
    client = make_client(
        endpoint, config.client_id, clean_start=not config.keep_session, manual_ack=True
    )
    engine = SafetyEngine(rules_config(settings), {p.meter_id: p for p in registry.profiles()})
    actuator = Actuator(registry, MqttCommandPublisher(client))
    pipeline = Pipeline(store, registry, engine, actuator, config.decode, IngestMetrics(metrics))
    return MqttIngester(client, endpoint, pipeline, config)


def build_api_context(
    registry: Registry, store: TelemetryStore, metrics: CollectorRegistry
) -> ApiContext:
    return ApiContext(registry=registry, store=store, metrics=metrics)


def build_fleet_runner(settings: Settings, plan: FleetPlan) -> FleetRunner:
    endpoint = mqtt_endpoint(settings)
    client = make_client(endpoint, settings.simulator.client_id)
    return FleetRunner(plan, client, endpoint)
