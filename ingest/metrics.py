"""Prometheus metrics of the ingester, registered on the registry passed in."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

WRITE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class LaneGauges:
    """The gauges of one lane (a partition run by this process): a takeover runs two lanes
    in one process, and each sets its own."""

    queue_depth: Gauge
    spool_bytes: Gauge
    spool_records: Gauge


@dataclass(frozen=True, slots=True)
class Totals:
    messages: int
    readings_stored: int
    dead_letters: int
    spool_records: int
    spool_bytes: int


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

        def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
            return Counter(f"gasguard_ingest_{name}", doc, labels, registry=registry)

        def lane_gauge(name: str, doc: str) -> Gauge:
            return Gauge(f"gasguard_ingest_{name}", doc, ("partition",), registry=registry)

        self.messages = counter("messages", "MQTT messages received, by topic kind", ("kind",))
        self.acknowledged = counter(
            "messages_acknowledged", "Messages acknowledged (PUBACK) after storage"
        )
        self.readings_stored = counter("readings_stored", "Readings written to the telemetry store")
        self.readings_spooled = counter("readings_spooled", "Readings written to the local spool")
        self.dead_letters = counter(
            "dead_letters", "Messages or readings refused, by reason", ("reason",)
        )
        self.decisions = Counter(
            "gasguard_safety_decisions", "Safety decisions", ("rule", "action"), registry=registry
        )
        self.retries = counter("retries", "Failed steps retried", ("step",))
        self.dead_letters_dropped = counter(
            "dead_letters_dropped", "Dead letters dropped past a meter's cap (ingest.flood)"
        )
        self.qos0_dropped = counter(
            "qos0_dropped", "QoS 0 messages dropped: the lane's queue was full"
        )
        self.chore_failures = counter(
            "chore_failures", "Lane chores that failed and were skipped", ("chore",)
        )
        self.lane_deaths = counter(
            "lane_deaths", "Lanes whose worker thread died (restarted or taken over)"
        )
        self.reconnects = counter("reconnects", "MQTT reconnection attempts")
        self.queue_depth = lane_gauge("queue_depth", "Messages received, not yet processed")
        self.spool_bytes = lane_gauge("spool_bytes", "Bytes waiting in the spool")
        self.spool_records = lane_gauge("spool_records", "Batches waiting in the spool")
        self.write_seconds = Histogram(
            "gasguard_ingest_store_write_seconds",
            "Telemetry store write latency",
            buckets=WRITE_BUCKETS,
            registry=registry,
        )

    def lane(self, partition: str) -> LaneGauges:
        """The gauges of the lane running ``partition`` ("K/N")."""
        return LaneGauges(
            self.queue_depth.labels(partition=partition),
            self.spool_bytes.labels(partition=partition),
            self.spool_records.labels(partition=partition),
        )

    def forget_lane(self, partition: str) -> None:
        """A lane stopped: its gauges go (whoever runs the partition next reports them)."""
        for gauge in (self.queue_depth, self.spool_bytes, self.spool_records):
            with contextlib.suppress(KeyError):
                gauge.remove(partition)

    def totals(self) -> Totals:
        """The counters and gauges summed over their labels (the worker's health report)."""
        value = ingest_sums(self._registry)
        return Totals(
            value("messages_total"),
            value("readings_stored_total"),
            value("dead_letters_total"),
            value("spool_records"),
            value("spool_bytes"),
        )


def ingest_sums(registry: CollectorRegistry) -> Callable[[str], int]:
    """``value(name)``: the ``gasguard_ingest_<name>`` samples summed over their labels
    (all lanes, all reasons), as read now."""
    sums: dict[str, float] = {}
    for metric in registry.collect():
        for sample in metric.samples:
            sums[sample.name] = sums.get(sample.name, 0.0) + sample.value

    def value(name: str) -> int:
        return int(sums.get(f"gasguard_ingest_{name}", 0.0))

    return value
