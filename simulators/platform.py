"""A simulated operator platform (China Mobile OneNET, China Telecom CTWing) with its NB-IoT
meters: the platforms' command APIs as they document them (a cached command is checked,
kept and given an id), the devices behind them (a device that wakes gets its cached
commands, and the platform pushes the result), and their pushes to gasguard's platform
receiver (OneNET signed, in the plaintext or the secure mode; CTWing to the subscription
URL with its token). The simulator's sleeping meters live behind it, and the tests use it
as their stand-in for the platforms (started by the test like Mosquitto is)."""

from __future__ import annotations

import hmac
import itertools
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
from fastapi import FastAPI, Header, Query, Request

from contract.readings import Reading
from devices import ctwing, onenet
from devices.platforms import compact

IMEI_KEY = "imei"


@dataclass(frozen=True)
class PlatformAccounts:
    """What gasguard and the platform share: OneNET's push token and API key (and the
    secure mode's AES key), CTWing's subscription token and application (``app_key``,
    ``app_secret``, ``master_key``, ``product_id``)."""

    onenet_token: str
    onenet_api_key: str
    ctwing_token: str
    ctwing: Mapping[str, str]
    onenet_aes_key: bytes | None = None
    onenet_profile: str = "onenet"  # the receiver's route for each: /onenet/<profile>
    ctwing_profile: str = "ctwing"


@dataclass
class Cached:
    """A command the platform holds for a device until it wakes."""

    platform: str
    ref: str
    device: str  # OneNET: the IMEI; CTWing: the deviceId
    request: dict[str, Any]  # what the API was given: query and body
    delivered: bool = False

    @property
    def action(self) -> str:
        """What the device is told: the OneNET args, the CTWing valve parameter."""
        if self.platform == "onenet":
            return str(self.request.get("args"))
        value = self.request.get("content", {}).get("params", {}).get("valve")
        return {0: "close", 1: "open"}.get(value, str(value))


@dataclass
class SimulatedPlatform:
    receiver_url: str  # gasguard's platform receiver, http://host:port
    accounts: PlatformAccounts
    cached: list[Cached] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why the APIs refused a request

    def __post_init__(self) -> None:
        self.http = httpx.Client(timeout=30)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.app = self._api()

    # -- the command APIs ----------------------------------------------------------------

    def _api(self) -> FastAPI:
        app = FastAPI(title="simulated operator platform", docs_url=None, redoc_url=None)

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
            if not hmac.compare_digest(api_key, self.accounts.onenet_api_key):
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
            account = self.accounts.ctwing
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
            result = {"commandId": ref, "commandStatus": "指令已保存"}
            return {"code": 0, "msg": "ok", "result": result}

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
                result = {"type": 7, IMEI_KEY: device, "dev_id": 9, "cmd_type": 1}
                self.push_onenet([{**result, "cmd_id": command.ref, "at": at_ms}])
            else:
                answer = {"resultCode": "DELIVERED", "resultDetail": ""}
                message = ctwing_message("commandResponse", device, at_ms)
                self.push_ctwing({**message, "taskId": int(command.ref), "result": answer})
        return woken

    # -- the pushes ------------------------------------------------------------------------

    def push_onenet(self, messages: object, nonce: str = "n0nce") -> httpx.Response:
        text, token, key = (
            compact(messages),
            self.accounts.onenet_token,
            self.accounts.onenet_aes_key,
        )
        if key is None:
            body = {"msg": messages, "msg_signature": onenet.signature(token, nonce, text)}
        else:
            sealed = onenet.encrypt(text, key, b"0123456789abcdef")
            body = {"enc_msg": sealed, "msg_signature": onenet.signature(token, nonce, sealed)}
        return self.http.post(self.onenet_url, content=compact({**body, "nonce": nonce}))

    def verify_onenet(self, msg: str = "verify-me", nonce: str = "nOnCe123") -> httpx.Response:
        signature = onenet.signature(self.accounts.onenet_token, nonce, msg)
        params = {"msg": msg, "nonce": nonce, "signature": signature}
        return self.http.get(self.onenet_url, params=params)

    def push_ctwing(self, message: dict[str, Any], token: str | None = None) -> httpx.Response:
        url = f"{self.receiver_url}/ctwing/{self.accounts.ctwing_profile}"
        params = {"token": token or self.accounts.ctwing_token}
        return self.http.post(url, params=params, content=compact(message))

    def upload(self, platform: str, device: str, readings: list[Reading]) -> int:
        """A meter's buffered readings, as its platform pushes them: OneNET one push of
        data points (volume, valve), CTWing one data report each. The HTTP status of the
        last push (200: the receiver took them)."""
        if platform == "onenet":
            return self.push_onenet(onenet_points(device, readings)).status_code
        status = 200
        for reading in readings:
            status = self.push_ctwing(ctwing_report(device, reading)).status_code
        return status

    @property
    def onenet_url(self) -> str:
        return f"{self.receiver_url}/onenet/{self.accounts.onenet_profile}"


def onenet_points(imei: str, readings: list[Reading]) -> list[dict[str, Any]]:
    """Data points named as the built-in profile's streams (the reading fields)."""
    points = []
    for reading in readings:
        base = {"type": 1, IMEI_KEY: imei, "dev_id": 9, "at": reading.ts_ms}
        points.append({**base, "ds_id": "volume_m3", "value": round(reading.volume_m3, 3)})
        if reading.valve is not None:
            valve = 0 if reading.valve == "closed" else 1
            points.append({**base, "ds_id": "valve", "value": valve})
    return points


def ctwing_report(device: str, reading: Reading) -> dict[str, Any]:
    payload: dict[str, Any] = {"volume_m3": round(reading.volume_m3, 3)}
    if reading.valve is not None:
        payload["valve"] = 0 if reading.valve == "closed" else 1
    return ctwing_message("dataReport", device, reading.ts_ms, payload=payload)


def ctwing_message(kind: str, device: str, at_ms: int, **extra: Any) -> dict[str, Any]:
    return {
        "timestamp": at_ms,
        "tenantId": "2000050324",
        "protocol": "lwm2m",
        "productId": "15081413",
        "messageType": kind,
        "deviceId": device,
        "IMEI": "862592051651472",
        **extra,
    }
