"""When a command can reach its meter: the meter's device profile and its last uplink
give the command's lifetime and, for a meter that sleeps, when it is next expected to
wake and whether the command waits for that uplink. Pure."""

from __future__ import annotations

from collections.abc import Mapping

from devices.profiles import DeviceProfile, next_wake_ms
from meters.views import CommandWindow, MeterView


def command_window(
    profile: DeviceProfile, last_uplink_ms: int | None, now_ms: int, default_ttl_ms: int
) -> CommandWindow:
    """An always-connected meter's command lives ``default_ttl_ms`` (the settings'); a
    sleeping meter's lives its profile's ``command_ttl_s`` and waits for its next wake-up
    (held for the uplink on MQTT, unless the meter listens now; handed at once to a
    platform, which holds it)."""
    wake_ms = expected_wake(profile, last_uplink_ms, now_ms)
    if wake_ms is None:
        return CommandWindow(default_ttl_ms)
    ttl_ms = profile.command_ttl_s * 1000 or default_ttl_ms
    if not profile.wakes_by_uplink:
        return CommandWindow(ttl_ms, wake_ms)
    if listening(profile, last_uplink_ms, now_ms):
        return CommandWindow(ttl_ms)  # awake now: it goes at once
    return CommandWindow(ttl_ms, wake_ms, hold=True)


def expected_wake(profile: DeviceProfile, last_uplink_ms: int | None, now_ms: int) -> int | None:
    """A sleeping meter's next expected wake-up after ``now_ms``; None for a meter that
    is always connected."""
    if not profile.sleeps or not profile.wake_every_s:
        return None
    return next_wake_ms(last_uplink_ms, profile.wake_every_s * 1000, now_ms)


def listening(profile: DeviceProfile, last_uplink_ms: int | None, now_ms: int) -> bool:
    """Whether a sleeping meter still listens after its last uplink."""
    return last_uplink_ms is not None and 0 <= now_ms - last_uplink_ms <= profile.listen_s * 1000


def window_for(
    profiles: Mapping[str, DeviceProfile], meter: MeterView, now_ms: int, default_ttl_ms: int
) -> CommandWindow:
    """A new command's window for ``meter``, from its device profile and last uplink (a
    profile not in force: always connected)."""
    profile = profiles.get(meter.device_profile)
    if profile is None:
        return CommandWindow(default_ttl_ms)
    return command_window(profile, meter.last_seen_ms, now_ms, default_ttl_ms)
