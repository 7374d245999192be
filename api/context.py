"""What the API needs from the rest of gasguard, built once at start-up and passed in."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry

from api.tokens import TokenService
from connections.policies import Policies
from connections.workdays import WorkCalendar
from devices.profiles import BUILT_IN, DeviceProfile
from meters.clock import wall_clock_ms
from meters.registry import Registry
from safety.models import default_models
from telemetry.base import TelemetryStore


@dataclass(frozen=True, slots=True)
class ApiContext:
    registry: Registry
    store: TelemetryStore
    tokens: TokenService
    metrics: CollectorRegistry = field(default_factory=CollectorRegistry)
    clock: Callable[[], int] = wall_clock_ms
    max_range_days: int = 31
    max_readings: int = 10_000
    secure_cookies: bool = False  # True behind HTTPS: the session cookie is then Secure
    hsts_max_age_s: int = 31_536_000  # Strict-Transport-Security on HTTPS answers (0: none)
    # origins besides the server's own whose cookie-authenticated changes are accepted
    # (api.csrf): a dashboard served from another address, through a proxy
    allowed_origins: tuple[str, ...] = ()
    feed_poll_s: float = 1.0
    ack_link_secret: str = ""  # acknowledgement links in notifications (notify.links)
    command_ttl_s: float = 3600.0
    # the device profiles in force (a sleeping meter's command waits for it: its window)
    device_profiles: Mapping[str, DeviceProfile] = field(default_factory=lambda: dict(BUILT_IN))
    # the rules' models and each one's over-flow limit, m³/h (imports; consumption)
    meter_models: Mapping[str, float] = field(
        default_factory=lambda: {n: m.over_flow_m3h for n, m in default_models().items()}
    )
    worker_stale_s: float = 15.0  # an ingest worker silent this long shows as stale
    completeness_min_share: float = 0.9  # a meter below it is incomplete (抄表率)
    policies: Policies = field(default_factory=lambda: Policies(WorkCalendar()))
    # at most this many argon2 checks at once (64 MiB and ~50 ms each): a burst of guesses
    # cannot stall the API; the rest wait up to hashing_wait_s, then get a 503
    hashing: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(4)
    )
    hashing_wait_s: float = 2.0
