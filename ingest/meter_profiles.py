"""Which device profile each meter speaks, the one place that knows it: for the decoder,
the few meters not on gasguard's JSON, refreshed from the registry (a lane chore,
``profiles_refresh_s``), so a message costs one dictionary lookup; for a command, the
meter's profile read at the moment it goes out (commands are rare, and a meter
provisioned a second ago must get its own protocol)."""

from __future__ import annotations

from collections.abc import Mapping

from devices.errors import ProfileError
from devices.profiles import DeviceProfile, profile_of
from ingest.errors import UnsupportedCommand
from meters.registry import Registry


class MeterProfiles:
    def __init__(self, registry: Registry, profiles: Mapping[str, DeviceProfile]) -> None:
        self._registry = registry
        self._profiles = profiles
        self._names: dict[str, str] = {}

    def refresh(self) -> None:
        self._names = self._registry.meters.device_profiles()

    def of(self, meter_id: str) -> DeviceProfile | None:
        """For the decoder: a meter not provisioned, or of a profile no longer configured,
        has none (its frames are decoded with the codec's defaults)."""
        name = self._names.get(meter_id)
        return None if name is None else self._profiles.get(name)

    def for_command(self, meter_id: str) -> DeviceProfile:
        """For a command: the meter's profile now; one no longer configured fails the
        command with its name."""
        name = self._registry.meters.get(meter_id).device_profile
        try:
            return profile_of(self._profiles, name)
        except ProfileError as exc:
            raise UnsupportedCommand(f"meter {meter_id}: {exc}") from exc
