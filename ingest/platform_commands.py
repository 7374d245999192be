"""Commands to the meters of an operator platform's profile (OneNET, CTWing), through the
platform's command API: the pure codec builds the request (devices.onenet, devices.ctwing),
this adapter sends it and returns the platform's id for it. The platform holds the command
until the sleeping meter wakes, sends it, and pushes the result, which the platform
receiver publishes for the ingester (``platform-replies``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from contract.protocol import Command
from devices import ctwing, onenet
from devices.errors import CodecError
from devices.platforms import HttpCall
from devices.profiles import DeviceProfile
from ingest.errors import PlatformRefused, UnsupportedCommand
from transport.errors import PublishRefused

log = logging.getLogger(__name__)
PLATFORM_CODECS = frozenset({"onenet", "ctwing"})


@dataclass(frozen=True, slots=True)
class PlatformAccount:
    """A profile's account on its platform's command API: the base address and the
    secrets the codec signs with (OneNET: ``api_key``; CTWing: ``app_key``, ``app_secret``,
    ``master_key``, ``product_id``)."""

    url: str
    secrets: Mapping[str, str]


class PlatformCommands:
    def __init__(
        self,
        accounts: Mapping[str, PlatformAccount],
        http: httpx.Client,
        clock: Callable[[], int],
    ) -> None:
        self._accounts = accounts
        self._http = http
        self._clock = clock

    def send(self, command: Command, profile: DeviceProfile) -> str:
        """Hand ``command`` to the meter's platform; the platform's id for it. Raises
        ``PublishRefused`` when the platform cannot be reached or answers with a server
        error (the command is sent again), ``UnsupportedCommand`` when the profile cannot
        say it and ``PlatformRefused`` when the platform refuses it (the command fails)."""
        account = self._accounts.get(profile.name)
        if account is None:
            raise UnsupportedCommand(f"profile {profile.name}: no platform_api account")
        try:
            call = self._call(command, profile, account)
        except CodecError as exc:
            raise UnsupportedCommand(f"meter {command.meter_id}: {exc}") from exc
        answer = self._request(account, call, command.meter_id)
        try:
            return self._ref(profile, answer)
        except CodecError as exc:
            if exc.code == "platform_refused":
                raise PlatformRefused(f"{profile.codec} refused the command: {exc}") from exc
            raise PublishRefused(f"{profile.codec}: {exc}") from exc

    def _call(self, command: Command, profile: DeviceProfile, account: PlatformAccount) -> HttpCall:
        options = profile.options
        if profile.codec == "onenet":
            secret = account.secrets["api_key"]
            return onenet.execute_offline(
                command.meter_id,
                command.action,
                options,
                secret,
                command.expires_ms,
                command.params,
            )
        now_ms = self._clock()
        ttl_s = max(0, (command.expires_ms - now_ms) // 1000)
        return ctwing.create_command(
            command.meter_id,
            command.action,
            options,
            account.secrets,
            ttl_s,
            now_ms,
            command.params,
        )

    def _request(self, account: PlatformAccount, call: HttpCall, meter_id: str) -> bytes:
        try:
            response = self._http.request(
                call.method,
                account.url.rstrip("/") + call.path,
                params=call.params,
                headers=call.headers,
                content=call.body,
            )
        except httpx.HTTPError as exc:
            raise PublishRefused(f"the platform API did not answer: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise PublishRefused(f"the platform API answered {response.status_code}")
        if response.status_code >= 400:
            text = response.text[:200]
            raise PlatformRefused(f"the platform API refused ({response.status_code}): {text}")
        log.info("meter %s: command handed to the platform", meter_id)
        return response.content

    @staticmethod
    def _ref(profile: DeviceProfile, answer: bytes) -> str:
        return (
            onenet.command_uuid(answer) if profile.codec == "onenet" else ctwing.command_id(answer)
        )
