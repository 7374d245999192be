"""Which device profile each meter speaks, for the decoder: the few meters not on
gasguard's JSON, refreshed from the registry (a lane chore, ``profiles_refresh_s``), so
a message costs one dictionary lookup. A meter not provisioned, or of a profile no longer
configured, has none: its frames are decoded with the codec's defaults."""

from __future__ import annotations

from collections.abc import Mapping

from devices.profiles import DeviceProfile
from meters.registry import Registry


class MeterProfiles:
    def __init__(self, registry: Registry, profiles: Mapping[str, DeviceProfile]) -> None:
        self._registry = registry
        self._profiles = profiles
        self._names: dict[str, str] = {}

    def refresh(self) -> None:
        self._names = self._registry.meters.device_profiles()

    def of(self, meter_id: str) -> DeviceProfile | None:
        name = self._names.get(meter_id)
        return None if name is None else self._profiles.get(name)
