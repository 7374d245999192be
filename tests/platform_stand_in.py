"""The operator platforms' side for the tests: the simulator's platform
(simulators.platform: OneNET's and CTWing's command APIs, the devices' wake-ups, the
pushes) with the tests' accounts, and a helper that serves an app on a free port."""

from __future__ import annotations

from dataclasses import replace

from fastapi import FastAPI

from gasguard.servers import HttpAppThread
from simulators.platform import PlatformAccounts, SimulatedPlatform, ctwing_message

__all__ = ["PlatformStandIn", "ctwing_message", "serve"]

ONENET_TOKEN = "onenet-push-token"
ONENET_API_KEY = "onenet-master-key"
CTWING_TOKEN = "ctwing-subscription-token"
CTWING_ACCOUNT = {
    "app_key": "gasguard-app",
    "app_secret": "ctwing-app-secret",
    "master_key": "ctwing-master-key",
    "product_id": "15081413",
}
ACCOUNTS = PlatformAccounts(
    ONENET_TOKEN,
    ONENET_API_KEY,
    CTWING_TOKEN,
    CTWING_ACCOUNT,
    onenet_profile="acme-nb",
    ctwing_profile="ct-nb",
)


def PlatformStandIn(receiver_url: str, onenet_key: bytes | None = None) -> SimulatedPlatform:
    """The tests' platform: their profiles acme-nb (OneNET) and ct-nb (CTWing)."""
    return SimulatedPlatform(receiver_url, replace(ACCOUNTS, onenet_aes_key=onenet_key))


def serve(app: FastAPI) -> HttpAppThread:
    """``app`` on a free loopback port, in a thread: the caller stops it."""
    return HttpAppThread(app)
