"""The one typed settings object, built once at start-up and passed down.

Environment variables ``GASGUARD_*`` (nested sections with ``__``, e.g.
``GASGUARD_INGEST__BATCH_MAX_MESSAGES``); a TOML settings file given with ``--settings``
overrides them. With nothing set, gasguard runs on its embedded defaults.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connections.pauses import PauseReason
from connections.timelimits import CATEGORIES, DEFAULT_STAGE_NAMES, Category
from devices.profiles import Codec, Transport, Window
from gasguard.errors import GasguardError
from ingest.config import IngestConfig
from notify.channels import Kind as ChannelKind
from simulators.config import SimulatorConfig


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "gasguard"


class SettingsError(GasguardError):
    """The settings file or environment is invalid."""


class GuideSettings(BaseModel):
    """A city's service guide (办事指南): what to bring, the steps, whom to call."""

    model_config = {"frozen": True, "extra": "forbid"}

    materials: list[str] = Field(default_factory=list)
    steps: list[str] = Field(default_factory=list)
    contact: str = ""


class PolicySettings(BaseModel):
    """A city's connection time limit (``[connection_policies.<city>]`` in the settings
    file): whole natural or working days per external-works category, and how the policy
    counts them (connections/timelimits.py, docs/connections.md)."""

    model_config = {"frozen": True, "extra": "forbid"}

    unit: Literal["natural", "working"]
    days: dict[Category, Annotated[int, Field(ge=1, le=365)]]
    excludes_pauses: bool = False
    counts_acceptance_day: bool = False  # day 1 is the day of acceptance
    business_day_ends: dt.time | None = None  # "17:30": accepted later counts a day later
    holiday_extends: bool = False  # a last day on a rest day moves to the next working day
    rule: str = ""  # the policy's own words for how it counts
    # the longest a pause of each reason is left out (connections/pauses.py), in the unit
    pause_max_days: dict[PauseReason, Annotated[int, Field(ge=1, le=365)]] = Field(
        default_factory=dict
    )
    # the published fee list (明码标价): item -> price, yuan; nothing off it is charged
    fee_list: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    # the indicator table's comparison columns: the city's targets, the national frontier
    targets: dict[Literal["stages", "days"], Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict
    )
    frontier: dict[Literal["stages", "days"], Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict
    )
    stage_names: tuple[str, str] = DEFAULT_STAGE_NAMES
    # each stage's own limit: whole days for every category (``one = 1``) or per category
    # (``two = {none = 2, A = 4, B = 7}``)
    stage_days: dict[Literal["one", "two"], dict[Category, Annotated[int, Field(ge=1, le=365)]]] = (
        Field(default_factory=dict)
    )
    guide: GuideSettings = Field(default_factory=GuideSettings)

    @field_validator("stage_days", mode="before")
    @classmethod
    def _every_category(cls, value: Any) -> Any:
        """``one = 1`` is one day for every category."""
        if not isinstance(value, dict):
            return value
        return {
            stage: dict.fromkeys(CATEGORIES, days) if isinstance(days, int) else days
            for stage, days in value.items()
        }


class DeviceProfileSettings(BaseModel):
    """A device profile (``[device_profiles.<name>]``, devices/profiles.py): what a kind of
    meter speaks and how it is reached; one of a built-in name replaces it."""

    model_config = {"frozen": True, "extra": "forbid"}

    codec: Codec
    transport: Transport
    report_interval_s: int = Field(..., ge=1, le=31 * 86_400)
    window: Window = "always"
    wake_every_s: int | None = Field(None, ge=1, le=31 * 86_400)
    listen_s: int = Field(10, ge=1, le=3600)  # how long a sleeping meter listens after uplinks
    command_ttl_s: int = Field(3600, ge=0, le=31 * 86_400)
    max_flow_m3h: float | None = Field(None, gt=0)
    options: dict[str, str] = Field(default_factory=dict)
    # the firmware thresholds its meters should hold (contract.thresholds; per meter over it)
    thresholds: dict[str, float] = Field(default_factory=dict)
    description: str = ""


CJT188_ADDRESS = r"^[0-9A-F]{14}$"


class DtuSettings(BaseModel):
    """A DTU or concentrator that dials in (``[dtu_gateway.dtus.<id>]``): its registration
    token and the CJ/T 188 addresses of the meters it serves."""

    model_config = {"frozen": True, "extra": "forbid"}

    token: SecretStr = Field(..., min_length=12)
    meters: list[Annotated[str, Field(pattern=CJT188_ADDRESS)]] = Field(..., min_length=1)


class DtuGatewayConfig(BaseModel):
    """``gasguard dtu-gateway``: the TCP listener for CJ/T 188 DTUs (docs/protocols.md)."""

    model_config = {"frozen": True, "extra": "forbid"}

    host: str = "127.0.0.1"
    port: int = Field(9188, ge=0, le=65535)
    idle_timeout_s: float = Field(900.0, gt=0)  # a DTU silent this long is disconnected
    dtus: dict[str, DtuSettings] = Field(default_factory=dict)


class ConcentratorSettings(BaseModel):
    """A CJ/T 188 concentrator that speaks MQTT itself (``[mqtt_concentrators.<name>]``):
    its account (gasguard-concentrator-<name>) may write these meters' cjt188-up and read
    their cjt188-down, nothing else (docs/security.md)."""

    model_config = {"frozen": True, "extra": "forbid"}

    meters: list[Annotated[str, Field(pattern=CJT188_ADDRESS)]] = Field(..., min_length=1)


class PushAccountSettings(BaseModel):
    """A profile's push on an operator platform (``[platform_receiver.onenet.<profile>]``):
    the token configured on the platform, and the EncodingAESKey of its secure mode."""

    model_config = {"frozen": True, "extra": "forbid"}

    token: SecretStr = Field(..., min_length=3)
    aes_key: SecretStr | None = None  # 43 characters; None: plaintext mode


class CtwingPushSettings(BaseModel):
    """A profile's subscription push on CTWing (``[platform_receiver.ctwing.<profile>]``):
    the secret token in the subscription's URL (the push itself is not signed)."""

    model_config = {"frozen": True, "extra": "forbid"}

    token: SecretStr = Field(..., min_length=16)


class PlatformReceiverConfig(BaseModel):
    """``gasguard platform-receiver``: the operator platforms' pushes (docs/protocols.md)."""

    model_config = {"frozen": True, "extra": "forbid"}

    host: str = "127.0.0.1"
    port: int = Field(8188, ge=0, le=65535)
    publish_timeout_s: float = Field(5.0, gt=0, le=60)  # the broker's PUBACK, before 200
    onenet: dict[str, PushAccountSettings] = Field(default_factory=dict)
    ctwing: dict[str, CtwingPushSettings] = Field(default_factory=dict)


class OneNetApiSettings(BaseModel):
    """A profile's OneNET command API (``[platform_api.onenet.<profile>]``)."""

    model_config = {"frozen": True, "extra": "forbid"}

    url: str = "https://api.heclouds.com"
    api_key: SecretStr = Field(..., min_length=8)  # the product's master key or an API key


class CtwingApiSettings(BaseModel):
    """A profile's CTWing command API (``[platform_api.ctwing.<profile>]``): the
    application's key and secret, the product's master key and id."""

    model_config = {"frozen": True, "extra": "forbid"}

    url: str = "https://ag-api.ctwing.cn"
    app_key: str = Field(..., min_length=1)
    app_secret: SecretStr = Field(..., min_length=1)
    master_key: SecretStr = Field(..., min_length=1)
    product_id: str = Field(..., pattern=r"^[0-9]{1,20}$")


class PlatformApiConfig(BaseModel):
    """The operator platforms' command APIs, through which the ingester sends commands to
    the meters of a platform profile (docs/protocols.md)."""

    model_config = {"frozen": True, "extra": "forbid"}

    timeout_s: float = Field(10.0, gt=0, le=120)
    onenet: dict[str, OneNetApiSettings] = Field(default_factory=dict)
    ctwing: dict[str, CtwingApiSettings] = Field(default_factory=dict)


class ChannelSettings(BaseModel):
    """A notification channel (``[notifications.channels.<name>]``, notify/channels.py)."""

    model_config = {"frozen": True, "extra": "forbid"}

    kind: ChannelKind
    # smtp: smtp://[user@]host:port[?starttls=1]; a cloud SMS API: empty for its endpoint
    url: str = Field("", max_length=2000)
    secret: SecretStr = SecretStr("")  # webhook, dingtalk, feishu: signing; smtp: password
    to: list[str] = Field(default_factory=list)  # smtp: addresses; sms, robots: phones
    sender: str = "gasguard@localhost"  # smtp
    method: Literal["POST", "GET"] = "POST"  # sms
    headers: dict[str, str] = Field(default_factory=dict)  # sms
    body_template: str = ""  # sms: with {phone} and {text}
    ack_as: str = ""  # the username its messages' acknowledgement link acts as
    # a cloud SMS API's (aliyun-sms, tencent-sms): key_id, sign_name, template, app_id, ...
    options: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _url_unless_a_cloud(self) -> ChannelSettings:
        if not self.url and self.kind not in ("aliyun-sms", "tencent-sms"):
            raise ValueError(f"a {self.kind} channel needs its url")
        return self


class RouteSettings(BaseModel):
    """Which alarms go to which channels (``[[notifications.routes]]``)."""

    model_config = {"frozen": True, "extra": "forbid"}

    channels: list[str] = Field(..., min_length=1)
    min_severity: Literal["critical", "warning", "info"] = "critical"
    rules: list[str] = Field(default_factory=list)
    quiet_hours: tuple[int, int] | None = None  # (from, to) local hours: only critical then
    districts: list[str] = Field(default_factory=list)  # the meters' districts; empty: all


class ShiftSettings(BaseModel):
    """One shift of the on-call rota (``[[notifications.rota]]``): who, which channel
    reaches them, on which weekdays (0 Monday) between which local hours."""

    model_config = {"frozen": True, "extra": "forbid"}

    person: str = Field(..., min_length=1, max_length=64)  # a username
    channel: str
    start_hour: int = Field(0, ge=0, le=23)
    end_hour: int = Field(24, ge=1, le=24)
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(default=[0, 1, 2, 3, 4, 5, 6])


class EscalationSettings(BaseModel):
    """``[[notifications.escalation]]``: a critical alarm still not acknowledged
    ``after_min`` minutes after it was raised goes to ``channels`` too."""

    model_config = {"frozen": True, "extra": "forbid"}

    after_min: float = Field(..., gt=0)
    channels: list[str] = Field(..., min_length=1)


PSEUDO_CHANNELS = ("on-call", "on-call-next")  # notify.rota: whoever is on duty


class NotificationSettings(BaseModel):
    """Notifications (issue 23, docs/operations.md): ``gasguard notify`` sends them."""

    model_config = {"frozen": True, "extra": "forbid"}

    channels: dict[str, ChannelSettings] = Field(default_factory=dict)
    routes: list[RouteSettings] = Field(default_factory=list)
    rota: list[ShiftSettings] = Field(default_factory=list)
    escalation: list[EscalationSettings] = Field(default_factory=list)
    escalation_check_s: float = Field(10.0, gt=0)
    # signs the acknowledgement links in messages (notify.links), for the notifier and the
    # API alike; empty: no links
    link_secret: SecretStr = SecretStr("")
    link_ttl_s: float = Field(3600.0, gt=0, le=7 * 86_400)
    dashboard_url: str = ""  # links in the messages: https://gasguard.example/
    poll_s: float = Field(1.0, gt=0)
    retry_initial_s: float = Field(2.0, gt=0)
    retry_max_s: float = Field(300.0, gt=0)
    max_attempts: int = Field(8, ge=1, le=100)
    timeout_s: float = Field(10.0, gt=0)

    @model_validator(mode="after")
    def _channels_are_configured(self) -> NotificationSettings:
        named = [
            *(("route", c) for r in self.routes for c in r.channels),
            *(("escalation", c) for e in self.escalation for c in e.channels),
        ]
        for where, channel in named:
            if channel not in self.channels and channel not in PSEUDO_CHANNELS:
                raise ValueError(f"a {where} names channel {channel!r}, which is not configured")
        for shift in self.rota:
            if shift.channel not in self.channels:
                raise ValueError(f"the rota's {shift.person} has no channel {shift.channel!r}")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GASGUARD_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_ca_file: str | None = None
    # This process's own MQTT password, for the account named in mqtt_url (or put it in the
    # URL). `gasguard mqtt-auth password ingest` prints a server account's.
    mqtt_password: SecretStr | None = None
    # The master key every meter's and server account's MQTT password is derived from.
    # Only `gasguard mqtt-auth` needs it (and the demo, which is one process): never give
    # it to ingest, api or the simulator. When unset, a random key is kept in the data folder.
    mqtt_auth_key: SecretStr | None = None
    # "auto": 3.1.1 (paho decodes an MQTT 5 PUBLISH in 11.6 µs against 1.8 µs for 3.1.1,
    # its properties object: a fifth of a core at 18,000 messages/s), except that
    # `gasguard ingest` measures the broker's in-flight window at start and, when it is
    # below ingest.min_window (a stock Mosquitto gives 3.1.1 clients 20), connects with
    # MQTT 5 and asks for ingest.receive_maximum itself. Both keep a persistent session;
    # see docs/ingest.md, "A broker in its stock configuration".
    mqtt_protocol: Literal["auto", "5", "3.1.1"] = "auto"
    influx_url: str | None = None
    influx_db: str = "gasguard"
    influx_token: str | None = None
    influx_timeout_s: float = Field(5.0, gt=0)
    db_url: str | None = None
    data_dir: Path = Field(default_factory=default_data_dir)
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=0, le=65535)
    # Signs operator session tokens; when unset, a random key is kept in the data folder.
    api_secret_key: SecretStr | None = None
    api_token_ttl_s: int = Field(1800, ge=60, le=86_400)
    # The session cookie is Secure (sent over HTTPS only) everywhere but `gasguard demo`,
    # which serves plain HTTP on loopback; serve TLS (below) or behind a TLS proxy.
    api_secure_cookies: bool = True
    # TLS served by uvicorn itself: PEM certificate (chain) and its private key (0600).
    api_tls_cert_file: Path | None = None
    api_tls_key_file: Path | None = None
    # Addresses or networks (127.0.0.1, 10.0.0.0/8) of the TLS proxies in front of the API:
    # only from them are X-Forwarded-For (the caller's address, for the sign-in and
    # lookup limits) and X-Forwarded-Proto believed. Empty: those headers are ignored.
    api_trusted_proxies: list[str] = Field(default_factory=list)
    api_hsts_max_age_s: int = Field(31_536_000, ge=0)  # HSTS on HTTPS answers (0: none)
    # Origins (https://host:port) besides the API's own from which the dashboard's cookie
    # may make changes (api.csrf): a proxy that serves it under another address.
    api_allowed_origins: list[str] = Field(default_factory=list)
    api_feed_poll_s: float = Field(1.0, gt=0, le=60)
    rules_file: Path | None = None
    # The State Council's holiday schedule for years chinesecalendar does not cover yet
    # (JSON, see meters/workdays.py); without it, later years count Monday-Friday.
    holiday_file: Path | None = None
    # Share of a connection's time budget that raises a warning (超时预警), every policy.
    connection_warn_share: float = Field(0.8, gt=0, lt=1)
    # Cities beyond the built-in guangzhou and lingbao.
    connection_policies: dict[str, PolicySettings] = Field(default_factory=dict)
    # Device profiles beyond (or replacing) the built-in ones: `gasguard profiles list`.
    device_profiles: dict[str, DeviceProfileSettings] = Field(default_factory=dict)
    log_level: str = "INFO"
    ingest: IngestConfig = IngestConfig()
    simulator: SimulatorConfig = SimulatorConfig()
    dtu_gateway: DtuGatewayConfig = DtuGatewayConfig()
    platform_receiver: PlatformReceiverConfig = PlatformReceiverConfig()
    platform_api: PlatformApiConfig = PlatformApiConfig()
    notifications: NotificationSettings = NotificationSettings()
    mqtt_concentrators: dict[
        Annotated[str, Field(pattern=r"^[a-z0-9-]{1,40}$")], ConcentratorSettings
    ] = Field(default_factory=dict)

    @field_validator("api_trusted_proxies")
    @classmethod
    def _networks(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise ValueError(f"{proxy!r} is not an address or network") from exc
        return proxies

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.api_tls_cert_file is None) != (self.api_tls_key_file is None):
            raise ValueError("api_tls_cert_file and api_tls_key_file go together")
        return self

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool"

    @property
    def registry_url(self) -> str:
        return self.db_url or f"sqlite:///{self.data_dir / 'registry.sqlite3'}"


def load_settings(settings_file: Path | None = None, **overrides: Any) -> Settings:
    """Environment, then the settings file on top, then explicit ``overrides``."""
    values: dict[str, Any] = {}
    if settings_file is not None:
        try:
            values = tomllib.loads(settings_file.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"cannot read settings file {settings_file}: {exc}") from exc
    values.update(overrides)
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise SettingsError(f"invalid settings: {exc}") from exc
