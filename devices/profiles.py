"""Device profiles: what a kind of meter speaks and how it is reached. Pure.

A profile names the meter's **codec** (its uplink bytes or JSON to contract readings and
events, contract commands to its downlink), its **transport** (the MQTT topic family, an
operator platform's webhook, or a gateway), how often it reports, its **command window**
(always connected, or asleep between wake-ups: a command waits for the next one) with the
command's lifetime, and its model's limits. The built-in profiles are below; a utility
adds or replaces one in the settings (``[device_profiles.<name>]``), and each meter is
assigned one at provisioning (default ``gasguard-json``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from contract.profiles import DEFAULT_DEVICE_PROFILE
from contract.thresholds import Thresholds
from devices.errors import ProfileError

Codec = Literal["gasguard-json", "cjt188", "onenet", "ctwing", "dlms", "wmbus"]
CODECS: tuple[Codec, ...] = ("gasguard-json", "cjt188", "onenet", "ctwing", "dlms", "wmbus")
Transport = Literal["mqtt", "platform", "gateway"]
Window = Literal["always", "wakes"]  # always connected, or asleep between wake-ups
DEFAULT_PROFILE = DEFAULT_DEVICE_PROFILE
HOUR_S = 3600


@dataclass(frozen=True, slots=True)
class DeviceProfile:
    name: str
    codec: Codec
    transport: Transport
    report_interval_s: int
    window: Window = "always"
    wake_every_s: int | None = None  # "wakes": the time between wake-ups
    listen_s: int = 10  # "wakes": how long the meter listens after each uplink
    command_ttl_s: int = HOUR_S  # a command not carried out by then expires (an alarm)
    max_flow_m3h: float | None = None  # the model's limits, when the profile knows them
    options: dict[str, str] = field(default_factory=dict)  # the codec's own settings
    # the firmware thresholds its meters should hold (parameter download)
    thresholds: Thresholds = field(default_factory=Thresholds)
    description: str = ""

    @property
    def sleeps(self) -> bool:
        return self.window == "wakes"

    @property
    def wakes_by_uplink(self) -> bool:
        """A sleeping meter that gasguard reaches itself in the window its uplink opens
        (not a platform's, which holds the meter's commands for it)."""
        return self.sleeps and self.transport != "platform"


def next_wake_ms(last_uplink_ms: int | None, every_ms: int, now_ms: int) -> int:
    """When a meter that wakes every ``every_ms`` is next expected: its last uplink plus
    whole intervals, the first after ``now_ms`` (``now_ms`` plus one interval when it
    has not been seen)."""
    if last_uplink_ms is None or last_uplink_ms > now_ms:
        return now_ms + every_ms
    return last_uplink_ms + ((now_ms - last_uplink_ms) // every_ms + 1) * every_ms


BUILT_IN: dict[str, DeviceProfile] = {
    p.name: p
    for p in (
        DeviceProfile(
            "gasguard-json",
            "gasguard-json",
            "mqtt",
            60,
            description="gasguard's MQTT JSON, contract v1 (DESIGN.md): connected meters",
        ),
        DeviceProfile(
            "gasguard-json-wakes",
            "gasguard-json",
            "mqtt",
            24 * HOUR_S,
            window="wakes",
            wake_every_s=24 * HOUR_S,
            command_ttl_s=48 * HOUR_S,
            description=(
                "gasguard's MQTT JSON from meters that sleep (NB-IoT or LTE-M on MQTT): "
                "a daily uplink, commands in the window it opens"
            ),
        ),
        DeviceProfile(
            "cjt188",
            "cjt188",
            "mqtt",
            HOUR_S,
            options={"edition": "2004", "meter_types": "30"},
            description=(
                "CJ/T 188 frames (gas meter type 30H) from DTUs and concentrators, binary on "
                "gas/v1/meters/{address}/cjt188"
            ),
        ),
        DeviceProfile(
            "onenet",
            "onenet",
            "platform",
            24 * HOUR_S,
            window="wakes",
            wake_every_s=24 * HOUR_S,
            command_ttl_s=48 * HOUR_S,
            options={"meter_key": "imei"},  # meter id = the IMEI, which commands name
            description="NB-IoT meters through China Mobile OneNET (data push, cached commands)",
        ),
        DeviceProfile(
            "ctwing",
            "ctwing",
            "platform",
            24 * HOUR_S,
            window="wakes",
            wake_every_s=24 * HOUR_S,
            command_ttl_s=48 * HOUR_S,
            description="NB-IoT meters through China Telecom CTWing (subscription push, commands)",
        ),
        DeviceProfile(
            "dlms",
            "dlms",
            "mqtt",
            15 * 60,
            description="DLMS/COSEM (IEC 62056) gas meters: push notifications, disconnect control",
        ),
        DeviceProfile(
            "wmbus",
            "wmbus",
            "gateway",
            15 * 60,
            window="wakes",
            command_ttl_s=0,  # one-way radio: no commands reach the meter
            description="wireless M-Bus / OMS meters read by a wmbusmeters gateway (JSON on MQTT)",
        ),
    )
}


def check_profile(profile: DeviceProfile) -> DeviceProfile:
    """The profile, or ProfileError naming what is wrong with it."""
    if profile.codec not in CODECS:
        raise ProfileError(
            f"profile {profile.name!r}: codec {profile.codec!r} is not one of {CODECS}"
        )
    if profile.report_interval_s <= 0:
        raise ProfileError(f"profile {profile.name!r}: report_interval_s must be positive")
    if profile.sleeps and profile.wake_every_s is None and profile.command_ttl_s > 0:
        raise ProfileError(
            f"profile {profile.name!r}: a meter that wakes needs wake_every_s (or no commands)"
        )
    if profile.codec == "cjt188" and profile.options.get("edition", "2004") not in ("2004", "2018"):
        raise ProfileError(f"profile {profile.name!r}: CJ/T 188 edition is 2004 or 2018")
    return profile


def build_profiles(configured: Mapping[str, DeviceProfile]) -> dict[str, DeviceProfile]:
    """The built-in profiles and the configured ones (a configured profile of a built-in
    name replaces it), each checked."""
    profiles = dict(BUILT_IN)
    for name, profile in configured.items():
        profiles[name] = check_profile(dataclasses.replace(profile, name=name))
    return profiles


def profile_of(profiles: Mapping[str, DeviceProfile], name: str) -> DeviceProfile:
    try:
        return profiles[name]
    except KeyError:
        raise ProfileError(f"no device profile {name!r}; known: {sorted(profiles)}") from None
