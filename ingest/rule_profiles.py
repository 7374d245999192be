"""What the rules know about each meter, kept up with the registry while the ingester
runs: a meter imported, installed, re-profiled, replaced or removed since the last look
(``MeterStore.profile_changes``) gets its model, category, report interval and, for a
meter whose device profile sleeps, the time between its uploads (its wake-ups: the
offline rule waits for them) in the engine, and a meter out of service (removed,
replaced) stops its offline deadline (its silence is no fault). A lane chore
(``profiles_refresh_s``) in the lane's thread, between batches: the engine is never
touched from another thread.

Each look reaches back ``look_back_ms`` before the newest change it saw, so a change
stamped by another process a little earlier but committed after the last look is not
missed; what it already applied (meter and stamp) it does not apply again."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping

from contract.profiles import MeterProfile
from devices.profiles import DeviceProfile
from meters.meter_store import MeterStore, ProfileChange
from safety.engine import SafetyEngine

log = logging.getLogger(__name__)


class RuleProfiles:
    def __init__(
        self,
        engine: SafetyEngine,
        meters: MeterStore,
        device_profiles: Mapping[str, DeviceProfile],
        owns: Callable[[str], bool] = lambda _meter_id: True,
        look_back_ms: int = 60_000,
    ) -> None:
        self._engine = engine
        self._meters = meters
        self._device_profiles = device_profiles
        self._owns = owns  # partitioned mode: this lane's meters only
        self._look_back_ms = look_back_ms
        self._since_ms = 0  # the first look takes every meter
        self._applied: dict[str, int] = {}  # meter -> the stamp applied, within the look-back

    def refresh(self) -> list[ProfileChange]:
        """Apply what changed since the last look; the changes applied."""
        first = self._since_ms == 0
        seen = self._meters.profile_changes(self._since_ms)
        changes = [
            c
            for c in seen
            if self._owns(c.profile.meter_id)
            and self._applied.get(c.profile.meter_id) != c.changed_ms
        ]
        if first:
            self._engine.reserve(len(changes))
        if changes:
            self._engine.set_profiles([self._for_rules(c.profile) for c in changes])
        for change in changes:
            if not change.in_service:
                self._engine.retire(change.profile.meter_id)
        if seen:
            newest = max(c.changed_ms for c in seen)
            self._since_ms = max(self._since_ms, newest - self._look_back_ms, 1)
        kept = {m: ms for m, ms in self._applied.items() if ms >= self._since_ms}
        self._applied = kept | {
            c.profile.meter_id: c.changed_ms for c in changes if c.changed_ms >= self._since_ms
        }
        if not first:
            for change in changes:
                log.info(
                    "meter %s (%s): the rules follow its profile",
                    change.profile.meter_id,
                    change.lifecycle,
                )
        return changes

    def _for_rules(self, profile: MeterProfile) -> MeterProfile:
        device = self._device_profiles.get(profile.device_profile)
        if device is None or not device.sleeps or not device.wake_every_s:
            return profile
        return dataclasses.replace(profile, upload_every_s=device.wake_every_s)
