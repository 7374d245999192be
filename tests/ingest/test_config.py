"""Ingest settings that exclude each other are refused at start, with the reason."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ingest.config import IngestConfig
from ingest.service import ingest_subscriptions


def test_a_partition_outside_the_partitioning_is_refused() -> None:
    with pytest.raises(ValidationError, match="partition 2 must be below partitions 2"):
        IngestConfig(partition=2, partitions=2)


def test_a_lease_renewed_less_than_twice_per_lease_time_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"lease_renew_s 11\.0 must be at most half"):
        IngestConfig(lease_ttl_s=20, lease_renew_s=11)


def test_shared_subscriptions_and_partitions_exclude_each_other() -> None:
    with pytest.raises(ValidationError, match="shared_group and partitions > 1"):
        IngestConfig(shared_group="gasguard", partitions=2)
    with pytest.raises(ValidationError, match="shared_group"):
        IngestConfig(shared_group="bad/group")


def test_a_shared_group_subscribes_through_share() -> None:
    assert ingest_subscriptions("gasguard") == [
        ("$share/gasguard/gas/v1/meters/+/telemetry", 1),
        ("$share/gasguard/gas/v1/meters/+/events", 1),
        ("$share/gasguard/gas/v1/meters/+/replies", 1),
        ("$share/gasguard/gas/v1/meters/+/status", 1),
        ("$share/gasguard/gas/v1/meters/+/cjt188-up", 1),  # the cjt188 profile's frames
        ("$share/gasguard/gas/v1/meters/+/wmbus", 1),  # a wmbusmeters gateway's telegrams
        ("$share/gasguard/gas/v1/meters/+/dlms", 1),  # DLMS/COSEM Data-Notifications
        ("$share/gasguard/gas/v1/meters/+/platform-replies", 1),  # the platforms' results
        ("$share/gasguard/gas/v1/meters/+/meter-alarms", 1),  # their meters' alarm codes
    ]
    assert ingest_subscriptions()[0] == ("gas/v1/meters/+/telemetry", 1)
