"""Simulator settings (a section of ``gasguard.settings.Settings``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

MoreFault = Literal["seismic", "tamper", "pressure_low", "pressure_high", "low_battery"]


class SimulatorConfig(BaseModel):
    model_config = {"frozen": True}

    meters: int = Field(200, ge=1, le=1_000_000)
    id_prefix: str = Field("GZ", pattern=r"^[A-Za-z0-9_-]{0,24}$")
    first_index: int = Field(1, ge=0)
    report_interval_s: float = Field(60.0, gt=0)
    seed: int = 1
    client_id: str = "gasguard-simulator"
    leak_faults: int = Field(1, ge=0)
    leak_after_s: float = Field(15.0, ge=0)
    over_flow_faults: int = Field(1, ge=0)
    over_flow_after_s: float = Field(20.0, ge=0)
    micro_flow_faults: int = Field(1, ge=0)
    micro_flow_m3h: float = Field(0.012, gt=0)
    micro_flow_history_s: float = Field(4 * 3600 + 120, ge=0)
    # One meter each with these faults, from more_faults_start_s after the start (negative:
    # the fault began before, and the meter uploads the readings since first).
    more_faults: list[MoreFault] = []
    more_faults_start_s: float = -120.0
    battery_drain_pct_per_day: float = Field(0.03, ge=0)  # ~7 years from 95 % to 20 %
    # How the meters behave on the network (simulators.runner):
    readings_per_message: int = Field(1, ge=1, le=1000)  # buffer k readings, send them at once
    clock_skew_s: float = Field(0.0, ge=0)  # each meter's clock is off by up to +/- this
    resend_every: int = Field(0, ge=0)  # every n-th message is sent twice (a lost PUBACK)
    own_connections: int = Field(0, ge=0, le=1000)  # meters on their own MQTT connection,
    # with a last will that marks them offline when the connection drops
    # Meters that lose their network for a while (a basement, a dead cell) keep measuring
    # and upload what they buffered when they are back:
    offline_meters: int = Field(0, ge=0)
    offline_after_s: float = Field(30.0, ge=0)
    offline_for_s: float = Field(60.0, gt=0)
    # A mixed fleet: this many more meters speak CJ/T 188 behind a DTU (profile cjt188,
    # ids are their 14-digit addresses), their frames on cjt188-up (docs/protocols.md).
    cjt188_meters: int = Field(0, ge=0, le=100_000)
    # ... DLMS/COSEM meters (profile dlms, ids DL000001 ...): Data-Notifications on dlms,
    # valve commands through an association on dlms-down (Gurux's meter side);
    dlms_meters: int = Field(0, ge=0, le=10_000)
    # ... and wireless M-Bus meters behind a wmbusmeters gateway (profile wmbus, 8-digit
    # ids from 31000001): wmbusmeters' JSON on wmbus; one-way radio, no commands.
    wmbus_meters: int = Field(0, ge=0, le=100_000)
    # ... and NB-IoT meters that sleep behind an operator platform (simulators.platform):
    # OneNET (profile onenet, ids their IMEIs from 868000000000001) and CTWing (profile
    # ctwing, ids their deviceIds ctsim000001 ...). Each wakes every nb_wake_every_s (a
    # day, compressed), uploads its reading through the platform's push to gasguard's
    # platform receiver, and takes the commands the platform cached for it.
    onenet_meters: int = Field(0, ge=0, le=10_000)
    # ... and meters that sleep on MQTT (gasguard's JSON, profile sleeping_profile, ids
    # SL000001 ...): each wakes every nb_wake_every_s, sends its reading, and hears
    # commands only for sleeping_listen_s after it (the window its uplink opens).
    sleeping_meters: int = Field(0, ge=0, le=10_000)
    sleeping_profile: str = "gasguard-json-wakes"
    sleeping_listen_s: float = Field(2.0, gt=0)
    ctwing_meters: int = Field(0, ge=0, le=10_000)
    nb_wake_every_s: float = Field(20.0, gt=0)
