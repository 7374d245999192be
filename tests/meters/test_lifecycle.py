"""A meter's life in the registry, on SQLite and PostgreSQL: each step from its state
only, with what it needs, audited; a replacement installs the new meter with both
registers; removal revokes the meter's MQTT account; its first uplink commissions an
installed meter."""

from __future__ import annotations

import pytest

from connections.applications import NewApplication
from contract.profiles import MeterProfile
from devices.profiles import BUILT_IN
from meters.delivery_files import import_delivery
from meters.errors import Conflict
from meters.lifecycle import LifecycleStep, refusal
from meters.registry import Registry
from meters.views import Actor
from safety.models import default_models

T0 = 1_790_000_000_000
OTTO = Actor("otto", "operator", "test")
DELIVERY = (
    b"meter_id,model,profile,imei\n"
    b"NB1,G2.5,onenet,868000000000001\nNB2,G2.5,onenet,868000000000019\n"
)


def stock(registry: Registry) -> None:
    report = import_delivery(
        registry.meters, DELIVERY, "d.csv", tuple(default_models()), BUILT_IN, OTTO, T0
    )
    assert report.created == ("NB1", "NB2")


def test_what_each_step_needs_and_follows_pure() -> None:
    assert refusal("in_stock", LifecycleStep("install", "new home", installer="li")) is None
    assert refusal("in_stock", LifecycleStep("install", "x")) == "install needs the installer"
    assert refusal("active", LifecycleStep("install", "x", installer="li")) == (
        "a meter active cannot be installed"
    )
    assert "register_m3" in (refusal("active", LifecycleStep("remove", "x")) or "")
    assert "new_meter_id" in (refusal("active", LifecycleStep("replace", "x", register_m3=1)) or "")
    assert refusal("removed", LifecycleStep("resume", "x")) == "a meter removed cannot be resumed"


def test_a_meter_goes_from_stock_to_service_and_each_step_is_audited(registry: Registry) -> None:
    stock(registry)
    assert registry.meters.get("NB1").lifecycle == "in_stock"
    step = registry.meters.lifecycle_step
    installed = step(
        "NB1",
        LifecycleStep("install", "work order 7", installer="li", location="A-1"),
        OTTO,
        T0 + 1,
    )
    assert (installed.lifecycle, installed.installer, installed.location) == (
        "installed",
        "li",
        "A-1",
    )
    assert registry.meters.commission_seen({"NB1": T0 + 5, "NB2": T0 + 5}, T0 + 6) == [
        "NB1"
    ]  # NB2: in stock
    assert registry.meters.get("NB1").lifecycle == "commissioned"
    step("NB1", LifecycleStep("activate", "gas on"), OTTO, T0 + 7)
    step("NB1", LifecycleStep("suspend", "empty flat"), OTTO, T0 + 8)
    assert step("NB1", LifecycleStep("resume", "tenant back"), OTTO, T0 + 9).lifecycle == "active"
    with pytest.raises(Conflict, match="cannot be installed"):
        step("NB1", LifecycleStep("install", "again", installer="li"), OTTO, T0 + 10)
    actions = [e.action for e in registry.audit.entries() if e.target == "meter:NB1"]
    assert sorted(actions) == sorted(
        [
            "meter.import",
            "meter.install",
            "meter.commission",
            "meter.activate",
            "meter.suspend",
            "meter.resume",
        ]
    )


def test_a_replacement_installs_the_new_meter_with_both_registers(registry: Registry) -> None:
    """... and the customer's: the new meter takes the old one's category (the rules' bands
    are the customer's) and its connection record; both changes reach a running engine
    (``profile_changes``), the old meter out of service."""
    stock(registry)
    restaurant = MeterProfile("NB1", "G2.5", "commercial", 3600, "onenet")
    registry.meters.provision([restaurant], T0)
    record = registry.connections.create(
        NewApplication("lingbao", "A", "counter", "王先生", "13712345678", "函谷路 8 号"), OTTO, T0
    )
    registry.connections.commission(record.id, "NB1", OTTO, T0)
    step = registry.meters.lifecycle_step
    step("NB1", LifecycleStep("install", "wo 1", installer="li"), OTTO, T0)
    step("NB1", LifecycleStep("commission", "by hand"), OTTO, T0 + 1)
    itself = LifecycleStep("replace", "x", register_m3=1, new_meter_id="NB1", new_register_m3=0)
    with pytest.raises(Conflict, match="the new meter NB1 is commissioned, not in stock"):
        step("NB1", itself, OTTO, T0 + 2)
    swap = LifecycleStep(
        "replace", "broken display", register_m3=123.4, new_meter_id="NB2", new_register_m3=0.2
    )
    old = step("NB1", swap, OTTO, T0 + 2)
    assert (old.lifecycle, old.replaced_by, old.register_end_m3) == ("replaced", "NB2", 123.4)
    new = registry.meters.get("NB2")
    assert (new.lifecycle, new.replaces, new.register_start_m3) == ("installed", "NB1", 0.2)
    assert new.category == "commercial"
    assert registry.connections.get(record.id).meter_id == "NB2"
    changes = {c.profile.meter_id: c for c in registry.meters.profile_changes(T0 + 2)}
    assert set(changes) == {"NB1", "NB2"}
    assert not changes["NB1"].in_service and changes["NB2"].in_service
    assert changes["NB2"].profile.category == "commercial"
    (audit,) = [e for e in registry.audit.entries() if e.action == "meter.replace"]
    assert audit.detail["connections"] == [record.number]
    assert registry.mqtt_accounts.credentials() and "NB1" not in {
        c.username for c in registry.mqtt_accounts.credentials()
    }  # revoked: left out of the next export


def test_an_installers_keys_are_one_work_orders_and_never_a_meter_in_service(
    registry: Registry,
) -> None:
    stock(registry)
    keys = registry.meters.export_keys(["NB1", "NB2"], "WO-7", OTTO, T0)
    assert set(keys) == {"NB1", "NB2"} and keys == registry.commands.meter_keys(["NB1", "NB2"])
    exports = [e for e in registry.audit.entries() if e.action == "meter.key_export"]
    assert {(e.target, e.reason) for e in exports} == {("meter:NB1", "WO-7"), ("meter:NB2", "WO-7")}
    registry.meters.lifecycle_step("NB1", LifecycleStep("install", "x", installer="li"), OTTO, T0)
    registry.meters.lifecycle_step("NB1", LifecycleStep("commission", "x"), OTTO, T0)
    with pytest.raises(Conflict, match="NB1 is commissioned: its key is not for an installer"):
        registry.meters.export_keys(["NB2", "NB1"], "WO-8", OTTO, T0)
    assert len([e for e in registry.audit.entries() if e.action == "meter.key_export"]) == 2
    with pytest.raises(Conflict, match="1 to 500 meters"):
        registry.meters.export_keys([f"M{i}" for i in range(501)], "WO-9", OTTO, T0)
    with pytest.raises(Conflict, match="work order is needed"):
        registry.meters.export_keys(["NB2"], " ", OTTO, T0)
