"""The receiver of the operator platforms' pushes (NB-IoT meters through OneNET and
CTWing), its own process (``gasguard platform-receiver``): an edge adapter like the DTU
gateway. A push is checked and opened by the pure codec (``devices.onenet``,
``devices.ctwing``), its readings, status changes and command results are published as
contract messages on the meters' topics (QoS 1), and the platform gets its 200 only once
the broker has taken every one of them: the guarantee a meter on MQTT gets. Otherwise it
gets a 503 and pushes again (the platform retries)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from contract.protocol import topic
from devices import ctwing, onenet
from devices.errors import CodecError
from devices.platforms import ContractMessage, Ignored
from transport.errors import PublishRefused
from transport.mqtt import MqttSession

log = logging.getLogger(__name__)
REFUSED_STATUS = {"bad_signature": 403, "bad_key": 500}
MAX_PUSH_BYTES = 1_000_000  # a push carries a few data points: far below this


Platform = Literal["onenet", "ctwing"]


@dataclass(frozen=True, slots=True)
class PushAccount:
    """A profile's push settings on its platform: the token (OneNET's signing token,
    CTWing's secret in the subscription URL), and OneNET's secure mode's key."""

    profile: str
    platform: Platform
    token: str
    aes_key: bytes | None
    options: Mapping[str, str]


class Receiver:
    def __init__(
        self, session: MqttSession, accounts: Mapping[str, PushAccount], timeout_s: float
    ) -> None:
        self.session = session
        self._accounts = accounts
        self._timeout_s = timeout_s
        self.published = 0

    def account(self, platform: Platform, profile: str) -> PushAccount:
        found = self._accounts.get(profile)
        if found is None or found.platform != platform:
            raise HTTPException(404, f"no {platform} push account for profile {profile!r}")
        return found

    def receive(self, account: PushAccount, body: bytes) -> int:
        """The push's contract messages, each taken by the broker; how many."""
        try:
            out, ignored = _open(account, body)
        except CodecError as exc:
            log.error("push for %s refused: %s (%s)", account.profile, exc, exc.code)
            raise HTTPException(REFUSED_STATUS.get(exc.code, 400), f"{exc.code}: {exc}") from exc
        for item in ignored:
            log.warning("push for %s: %s", account.profile, item.reason)
        for message in out:
            name = topic(message.meter_id, message.kind)  # type: ignore[arg-type]
            try:
                retain = message.kind == "status"  # as a meter's own status is
                self.session.publish_durably(name, message.payload, self._timeout_s, retain)
            except PublishRefused as exc:
                log.error("push for %s not taken by the broker: %s", account.profile, exc)
                raise HTTPException(503, "the broker did not take the data: push again") from exc
            self.published += 1
        return len(out)


def _open(account: PushAccount, body: bytes) -> tuple[list[ContractMessage], list[Ignored]]:
    if account.platform == "onenet":
        messages = onenet.open_push(body, account.token, account.aes_key)
        return onenet.to_contract(messages, account.options)
    return ctwing.to_contract(ctwing.open_push(body), account.options)


async def _body(request: Request) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_PUSH_BYTES:
            raise HTTPException(413, f"a push is at most {MAX_PUSH_BYTES} bytes")
    return bytes(body)


def create_receiver_app(receiver: Receiver) -> FastAPI:
    app = FastAPI(title="gasguard platform receiver", docs_url=None, redoc_url=None)

    @app.get("/onenet/{profile}", response_class=PlainTextResponse)
    def verify(
        profile: str,
        msg: Annotated[str, Query(max_length=1000)],
        nonce: Annotated[str, Query(max_length=100)],
        signature: Annotated[str, Query(max_length=200)],
    ) -> str:
        """OneNET's URL verification: ``msg`` back when the signature checks out."""
        account = receiver.account("onenet", profile)
        if not onenet.verify_url(account.token, msg, nonce, signature):
            raise HTTPException(403, "signature does not match the token")
        return msg

    @app.post("/onenet/{profile}", response_class=PlainTextResponse)
    async def onenet_push(profile: str, request: Request) -> str:
        account = receiver.account("onenet", profile)
        count = await run_in_threadpool(receiver.receive, account, await _body(request))
        return f"ok {count}"

    @app.post("/ctwing/{profile}", response_class=PlainTextResponse)
    async def ctwing_push(
        profile: str, request: Request, token: Annotated[str, Query(max_length=200)]
    ) -> str:
        """CTWing's subscription push: the URL registered on the platform carries the
        profile's secret token (the push itself is not signed)."""
        account = receiver.account("ctwing", profile)
        if not hmac.compare_digest(token.encode(), account.token.encode()):
            raise HTTPException(403, "token does not match the subscription's")
        count = await run_in_threadpool(receiver.receive, account, await _body(request))
        return f"ok {count}"

    return app
