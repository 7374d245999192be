"""The operator platforms' side, for the tests: OneNET's and CTWing's command APIs as they
document them (a cached command is checked, kept and given an id), the devices behind
them (a device that wakes gets its cached commands, and the platform pushes the result),
and their pushes to gasguard's receiver (OneNET signed, in the plaintext or the secure
mode; CTWing to the subscription URL with its token). A real HTTP server, started by the
test like Mosquitto is."""

from __future__ import annotations

import hmac
import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import uvicorn
from fastapi import FastAPI, Header, Query, Request

from devices import ctwing, onenet
from devices.platforms import compact
from gasguard.servers import free_port
from tests.helpers import wait_until

ONENET_TOKEN = "onenet-push-token"
ONENET_API_KEY = "onenet-master-key"
CTWING_TOKEN = "ctwing-subscription-token"
CTWING_ACCOUNT = {
    "app_key": "gasguard-app",
    "app_secret": "ctwing-app-secret",
    "master_key": "ctwing-master-key",
    "product_id": "15081413",
}


@dataclass
class Cached:
    """A command the platform holds for a device until it wakes."""

    platform: str
    ref: str
    device: str  # OneNET: the IMEI; CTWing: the deviceId
    request: dict[str, Any]  # what the API was given: query and body
    delivered: bool = False


@dataclass
class PlatformStandIn:
    receiver_url: str  # gasguard's platform receiver, http://host:port
    onenet_key: bytes | None = None  # the secure mode's AES key
    cached: list[Cached] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why the APIs refused a request

    def __post_init__(self) -> None:
        self.http = httpx.Client(timeout=30)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.app = self._api()

    # -- the command APIs ----------------------------------------------------------------

    def _api(self) -> FastAPI:
        app = FastAPI()

        @app.post("/nbiot/execute/offline")
        async def execute_offline(
            request: Request,
            imei: str,
            obj_id: int,
            obj_inst_id: int,
            res_id: int,
            expired_time: str,
            api_key: Annotated[str, Header(alias="api-key")],
            retry: Annotated[int, Query(ge=0, le=10)] = 3,
        ) -> dict[str, Any]:
            if not hmac.compare_digest(api_key, ONENET_API_KEY):
                self.refused.append("onenet: api-key")
                return {"errno": 3, "error": "auth failed"}
            body = json.loads(await request.body())
            if not isinstance(body.get("args"), str) or len(body["args"]) > 2048:
                self.refused.append("onenet: args")
                return {"errno": 5, "error": "args must be a string of at most 2k"}
            ref = f"onenet-{next(self._ids)}"
            query: dict[str, Any] = {"obj_id": obj_id, "obj_inst_id": obj_inst_id}
            query |= {"res_id": res_id, "expired_time": expired_time, "retry": retry}
            self._keep(Cached("onenet", ref, imei, {**query, **body}))
            return {"errno": 0, "error": "succ", "data": {"uuid": ref}}

        @app.post("/aep_device_command/command")
        async def create_command(
            request: Request,
            application: Annotated[str, Header()],
            timestamp: Annotated[str, Header()],
            signature: Annotated[str, Header()],
            master_key: Annotated[str, Header(alias="MasterKey")],
        ) -> dict[str, Any]:
            raw = await request.body()
            account = CTWING_ACCOUNT
            expected = ctwing.signature(
                account["app_secret"], application, timestamp, {"MasterKey": master_key}, raw
            )
            if application != account["app_key"] or master_key != account["master_key"]:
                self.refused.append("ctwing: account")
                return {"code": 1003, "msg": "application or MasterKey unknown"}
            if not hmac.compare_digest(signature, expected):
                self.refused.append("ctwing: signature")
                return {"code": 1010, "msg": "signature mismatch"}
            body = json.loads(raw)
            if str(body.get("productId")) != account["product_id"]:
                self.refused.append("ctwing: productId")
                return {"code": 8001, "msg": "product not found"}
            ref = str(next(self._ids))
            self._keep(Cached("ctwing", ref, body["deviceId"], body))
            return {
                "code": 0,
                "msg": "ok",
                "result": {"commandId": ref, "commandStatus": "指令已保存"},
            }

        return app

    def _keep(self, command: Cached) -> None:
        with self._lock:
            self.cached.append(command)

    def pending(self, device: str) -> list[Cached]:
        with self._lock:
            return [c for c in self.cached if c.device == device and not c.delivered]

    # -- the devices -----------------------------------------------------------------------

    def wake(self, device: str, at_ms: int) -> list[Cached]:
        """The device's uplink: the platform sends it its cached commands and pushes the
        result of each to gasguard."""
        woken = self.pending(device)
        for command in woken:
            command.delivered = True
            if command.platform == "onenet":
                result = {"type": 7, "imei": device, "dev_id": 9, "cmd_type": 1}
                self.push_onenet([{**result, "cmd_id": command.ref, "at": at_ms}])
            else:
                self.push_ctwing(
                    ctwing_message("commandResponse", device, at_ms)
                    | {
                        "taskId": int(command.ref),
                        "result": {"resultCode": "DELIVERED", "resultDetail": ""},
                    }
                )
        return woken

    # -- the pushes ------------------------------------------------------------------------

    def push_onenet(self, messages: object, nonce: str = "n0nce") -> httpx.Response:
        text = compact(messages)
        if self.onenet_key is None:
            body = {"msg": messages, "msg_signature": onenet.signature(ONENET_TOKEN, nonce, text)}
        else:
            sealed = onenet.encrypt(text, self.onenet_key, b"0123456789abcdef")
            body = {
                "enc_msg": sealed,
                "msg_signature": onenet.signature(ONENET_TOKEN, nonce, sealed),
            }
        return self.http.post(self.onenet_url, content=compact({**body, "nonce": nonce}))

    def verify_onenet(self, msg: str = "verify-me", nonce: str = "nOnCe123") -> httpx.Response:
        signature = onenet.signature(ONENET_TOKEN, nonce, msg)
        params = {"msg": msg, "nonce": nonce, "signature": signature}
        return self.http.get(self.onenet_url, params=params)

    def push_ctwing(self, message: dict[str, Any], token: str = CTWING_TOKEN) -> httpx.Response:
        url = f"{self.receiver_url}/ctwing/ct-nb"
        return self.http.post(url, params={"token": token}, content=compact(message))

    @property
    def onenet_url(self) -> str:
        return f"{self.receiver_url}/onenet/acme-nb"


def ctwing_message(kind: str, device: str, at_ms: int, **extra: Any) -> dict[str, Any]:
    return {
        "timestamp": at_ms,
        "tenantId": "2000050324",
        "protocol": "lwm2m",
        "productId": CTWING_ACCOUNT["product_id"],
        "messageType": kind,
        "deviceId": device,
        "IMEI": "862592051651472",
        **extra,
    }


def serve(app: FastAPI) -> tuple[uvicorn.Server, threading.Thread, int]:
    """``app`` on a free loopback port, in a thread: the caller stops the server."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, what="the HTTP server")
    return server, thread, port
