"""Parameter download (issue 22): which firmware thresholds a meter should hold (its device
profile's, each overridden by the meter's own), which it confirmed it holds, and whether
they match; and the command that carries them to it. Pure.

A download is a command like a valve command (action ``params``): queued, signed with the
meter's key, sent in its protocol and, for a meter that sleeps, in its window; the meter's
``done`` is its confirmation (it holds exactly the signed thresholds), and only that
changes what the meter is recorded to hold. It never overtakes a close of the meter."""

from __future__ import annotations

from dataclasses import dataclass

from contract.thresholds import Thresholds, differences, parse_thresholds
from meters.command_store import NewCommand
from meters.errors import Conflict
from meters.views import CommandView, MeterView


@dataclass(frozen=True, slots=True)
class ThresholdStatus:
    meter_id: str
    configured: dict[str, float | int]  # what it should hold: the profile's, then its own
    profile: dict[str, float | int]  # its device profile's
    own: dict[str, float | int]  # the meter's own, over the profile's
    held: dict[str, float | int] | None  # what it confirmed it holds (None: never)
    confirmed_ms: int | None
    differs: tuple[str, ...]  # configured thresholds it does not hold
    download: CommandView | None = None  # the newest parameter download, if any

    @property
    def matches(self) -> bool:
        return not self.differs


def configured_for(profile_thresholds: Thresholds, meter: MeterView) -> Thresholds:
    return profile_thresholds.over(parse_thresholds(meter.thresholds or {}))


def threshold_status(
    profile_thresholds: Thresholds, meter: MeterView, download: CommandView | None = None
) -> ThresholdStatus:
    configured = configured_for(profile_thresholds, meter)
    held = None if meter.held_thresholds is None else parse_thresholds(meter.held_thresholds)
    return ThresholdStatus(
        meter.id,
        configured.as_dict(),
        profile_thresholds.as_dict(),
        dict(meter.thresholds or {}),
        None if held is None else held.as_dict(),
        meter.thresholds_confirmed_ms,
        differences(configured, held),
        download,
    )


def download_command(profile_thresholds: Thresholds, meter: MeterView, reason: str) -> NewCommand:
    """The parameter download of the meter's configured thresholds; ``Conflict`` when none
    are configured (there is nothing to send)."""
    configured = configured_for(profile_thresholds, meter)
    if configured.empty:
        raise Conflict(
            f"no firmware thresholds are configured for meter {meter.id} or its device "
            f"profile {meter.device_profile}: nothing to send"
        )
    return NewCommand(meter.id, "params", reason, params=configured.canonical())
