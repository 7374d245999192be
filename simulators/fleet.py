"""Building a fleet of simulated meters, with faults injected into a few. Pure."""

from __future__ import annotations

import random
from dataclasses import dataclass

from contract.profiles import MeterProfile
from safety.config import RulesConfig, model_limits
from simulators.config import SimulatorConfig
from simulators.meter import Fault, FaultKind, SimMeter

MODEL_MIX = (("G2.5", 0.74), ("G1.6", 0.1), ("G4", 0.1), ("G6", 0.05), ("G16", 0.01))
CATEGORY_OF_MODEL = {"G6": "commercial", "G16": "industrial"}  # restaurants, small factories


@dataclass(frozen=True, slots=True)
class FleetPlan:
    meters: tuple[SimMeter, ...]
    labels: tuple[tuple[str, str, int], ...]
    """Ground truth: (meter_id, fault kind, fault start ms)."""


def meter_ids(config: SimulatorConfig) -> list[str]:
    width = max(6, len(str(config.first_index + config.meters)))
    return [
        f"{config.id_prefix}{i:0{width}d}"
        for i in range(config.first_index, config.first_index + config.meters)
    ]


def build_fleet(config: SimulatorConfig, start_ms: int) -> FleetPlan:
    rng = random.Random(config.seed)
    meters = []
    skew_ms = round(config.clock_skew_s * 1000)
    for meter_id in meter_ids(config):
        model = rng.choices([m for m, _ in MODEL_MIX], [w for _, w in MODEL_MIX])[0]
        category = CATEGORY_OF_MODEL.get(model, "residential")
        profile = MeterProfile(meter_id, model, category, max(1, round(config.report_interval_s)))  # type: ignore[arg-type]
        meters.append(
            SimMeter(
                profile,
                volume_m3=round(rng.uniform(10, 3000), 3),
                clock_offset_ms=rng.randint(-skew_ms, skew_ms) if skew_ms else 0,
                readings_per_message=config.readings_per_message,
                resend_every=config.resend_every,
                battery_drain_pct_per_day=config.battery_drain_pct_per_day,
            )
        )
    residential = [m for m in meters if m.profile.category == "residential"]
    faulty = iter(rng.sample(residential, min(len(residential), _fault_count(config))))
    offline_from = start_ms + int(config.offline_after_s * 1000)
    for silent in rng.sample(meters, min(len(meters), config.offline_meters)):
        silent.offline = (offline_from, offline_from + int(config.offline_for_s * 1000))
    labels = []
    for kind, count, fault_at, flow in _fault_specs(config, start_ms):
        for _ in range(count):
            meter = next(faulty, None)
            if meter is None:
                break
            fault_flow = (
                flow
                if kind != "over_flow"
                else 1.3 * model_limits(RulesConfig(), meter.profile.model).over_flow_m3h
            )
            meter.faults = (Fault(kind, fault_at, round(fault_flow, 3)),)
            labels.append((meter.meter_id, kind, fault_at))
    return FleetPlan((*meters, *_mixed_fleet(config)), tuple(labels))


CJT188_FIRST_ADDRESS = 20_260_000_000_001
WMBUS_FIRST_ID = 31_000_001
ONENET_FIRST_IMEI = 868_000_000_000_001


def _mixed_fleet(config: SimulatorConfig) -> list[SimMeter]:
    """The mixed fleet's meters of the other profiles (CJ/T 188, DLMS, wM-Bus): households
    on G2.5, each profile drawn from its own random stream (the rest of the plan is the
    same with or without them)."""
    ids = {
        "cjt188": [f"{CJT188_FIRST_ADDRESS + n:014d}" for n in range(config.cjt188_meters)],
        "dlms": [f"DL{n + 1:06d}" for n in range(config.dlms_meters)],
        "wmbus": [f"{WMBUS_FIRST_ID + n:08d}" for n in range(config.wmbus_meters)],
        "onenet": [f"{ONENET_FIRST_IMEI + n:015d}" for n in range(config.onenet_meters)],
        "ctwing": [f"ctsim{n + 1:06d}" for n in range(config.ctwing_meters)],
        config.sleeping_profile: [f"SL{n + 1:06d}" for n in range(config.sleeping_meters)],
    }
    interval = max(1, round(config.report_interval_s))
    wakes = max(1, round(config.nb_wake_every_s))  # a sleeping meter reports when it wakes
    meters: list[SimMeter] = []
    for offset, (profile, meter_ids) in enumerate(ids.items()):
        rng = random.Random(config.seed + 188 + offset)
        sleeps = profile in ("onenet", "ctwing", config.sleeping_profile)
        every = wakes if sleeps else interval
        listen_ms = (
            round(config.sleeping_listen_s * 1000) if profile == config.sleeping_profile else None
        )
        meters.extend(
            SimMeter(
                MeterProfile(meter_id, "G2.5", "residential", every, profile),
                volume_m3=round(rng.uniform(10, 3000), 2),
                battery_drain_pct_per_day=config.battery_drain_pct_per_day,
                listen_ms=listen_ms,
            )
            for meter_id in meter_ids
        )
    return meters


def _fault_count(config: SimulatorConfig) -> int:
    return (
        config.leak_faults
        + config.over_flow_faults
        + config.micro_flow_faults
        + len(config.more_faults)
    )


def _fault_specs(config: SimulatorConfig, start_ms: int) -> list[tuple[FaultKind, int, int, float]]:
    micro_start = start_ms - int(config.micro_flow_history_s * 1000)
    return [
        ("leak_detector", config.leak_faults, start_ms + int(config.leak_after_s * 1000), 0.0),
        (
            "over_flow",
            config.over_flow_faults,
            start_ms + int(config.over_flow_after_s * 1000),
            0.0,
        ),
        ("micro_flow", config.micro_flow_faults, micro_start, config.micro_flow_m3h),
        *(
            (kind, 1, start_ms + int(config.more_faults_start_s * 1000), 0.0)
            for kind in config.more_faults
        ),
    ]
