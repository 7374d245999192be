"""Prometheus metrics of the ingester, registered on the registry passed in."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages = Counter(
            "gasguard_ingest_messages", "MQTT messages received", ["kind"], registry=registry
        )
        self.readings_stored = Counter(
            "gasguard_ingest_readings_stored", "Readings durably stored", registry=registry
        )
        self.dead_letters = Counter(
            "gasguard_ingest_dead_letters", "Messages or readings refused", registry=registry
        )
        self.decisions = Counter(
            "gasguard_safety_decisions", "Safety decisions", ["rule", "action"], registry=registry
        )
        self.retries = Counter(
            "gasguard_ingest_retries", "Failed storage steps retried", ["step"], registry=registry
        )
        self.queue_depth = Gauge(
            "gasguard_ingest_queue_depth", "Messages received, not yet stored", registry=registry
        )
