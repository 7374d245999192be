"""The notifier end to end: a critical alarm recorded in the registry reaches a signed
webhook, a real SMTP server (aiosmtpd) and a DingTalk-style robot stand-in that checks the
signature as DingTalk documents it, within seconds; each notification is tracked and
audited; a channel that keeps failing is retried with backoff and then failed with its
answer; a warning goes only where a warning route sends it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request, Response

from contract.decisions import Decision
from contract.profiles import MeterProfile
from devices.profiles import BUILT_IN
from gasguard.servers import HttpAppThread, free_port
from meters.clock import wall_clock_ms
from meters.delivery_files import import_delivery
from meters.registry import Registry
from meters.views import Actor
from notifier.senders import Sender
from notifier.service import Notifier, NotifyTiming
from notify.channels import Channel, webhook_signature
from notify.links import read_link
from notify.rota import Shift, Step
from notify.routing import Route
from notify.sms_clouds import aliyun_signature
from safety.models import default_models
from tests.cloud_sms import tc3_as_the_demo
from tests.conftest import sqlite_registry
from tests.helpers import wait_until
from tests.smtp import Mailbox

pytestmark = pytest.mark.integration
HOOK_SECRET, DING_SECRET = "hook-secret", "SECding"


class StandIn:
    """A SOC's webhook, a DingTalk robot and a channel that is down."""

    def __init__(self) -> None:
        self.hooks: list[dict[str, Any]] = []
        self.robots: list[dict[str, Any]] = []
        self.down_calls = 0
        self.pager_up = False
        self.sms: list[tuple[str, str, str]] = []
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            body = await request.body()
            stamp = request.headers["X-Gasguard-Timestamp"]
            if request.headers["X-Gasguard-Signature"] != webhook_signature(
                HOOK_SECRET, stamp, body
            ):
                return Response(status_code=401)
            self.hooks.append({**await request.json(), "who": request.query_params.get("who")})
            return Response(status_code=204)

        @app.post("/robot/send")
        async def robot(request: Request) -> dict[str, Any]:
            stamp, sign = request.query_params["timestamp"], request.query_params["sign"]
            text = f"{stamp}\n{DING_SECRET}".encode()
            wanted = base64.b64encode(hmac.new(DING_SECRET.encode(), text, hashlib.sha256).digest())
            if sign != wanted.decode():
                return {"errcode": 310000, "errmsg": "sign not match"}
            self.robots.append(await request.json())
            return {"errcode": 0, "errmsg": "ok"}

        @app.get("/aliyun/")
        async def aliyun(request: Request) -> dict[str, Any]:
            query = dict(request.query_params)
            if query.pop("Signature") != aliyun_signature("ali-secret", "GET", query):
                return {"Code": "SignatureDoesNotMatch"}
            self.sms.append(("aliyun", query["PhoneNumbers"], query["TemplateParam"]))
            return {"Code": "OK", "Message": "OK", "BizId": "1"}

        @app.post("/tencent/")
        async def tencent(request: Request) -> dict[str, Any]:
            body = await request.body()
            headers = {k.title(): v for k, v in request.headers.items()}
            headers["X-TC-Timestamp"] = request.headers["x-tc-timestamp"]
            wanted = tc3_as_the_demo("tc-secret", headers, body, request.headers["x-tc-action"])
            if request.headers["authorization"].rsplit("Signature=", 1)[1] != wanted:
                return {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure"}}}
            sent = json.loads(body)
            self.sms.append(
                ("tencent", ",".join(sent["PhoneNumberSet"]), json.dumps(sent["TemplateParamSet"]))
            )
            return {"Response": {"SendStatusSet": [{"Code": "Ok"}], "RequestId": "r"}}

        @app.post("/down")
        async def down() -> Response:
            self.down_calls += 1
            return Response(status_code=204 if self.pager_up else 503)

        self.server = HttpAppThread(app)


@pytest.fixture
def stand_in() -> Iterator[StandIn]:
    stand = StandIn()
    yield stand
    stand.server.stop()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def notifier_for(registry: Registry, stand: StandIn, smtp_port: int) -> Notifier:
    base = stand.server.url
    channels = {
        "soc": Channel("soc", "webhook", f"{base}/hook", HOOK_SECRET),
        "ops-mail": Channel(
            "ops-mail",
            "smtp",
            f"smtp://127.0.0.1:{smtp_port}",
            to=("ops@gas.example",),
            sender="gasguard@gas.example",
        ),
        "duty-robot": Channel(
            "duty-robot",
            "dingtalk",
            f"{base}/robot/send?access_token=t",
            DING_SECRET,
            ("13800000000",),
        ),
        "pager": Channel("pager", "webhook", f"{base}/down", "x"),
    }
    routes = [
        Route(("soc", "ops-mail", "duty-robot", "pager"), "critical"),
        Route(("duty-robot",), "warning"),
    ]
    timing = NotifyTiming(poll_s=0.1, retry_initial_s=0.1, retry_max_s=0.3, max_attempts=3)
    return Notifier(registry, channels, routes, Sender(5.0), wall_clock_ms, timing)


def test_a_critical_alarm_reaches_every_channel_within_seconds_and_is_tracked(
    tmp_path: Path, stand_in: StandIn, mailbox: tuple[Mailbox, int]
) -> None:
    box, smtp_port = mailbox
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("M1"), MeterProfile("M2")], wall_clock_ms())
    notifier = notifier_for(registry, stand_in, smtp_port)
    notifier.start()
    try:
        now = wall_clock_ms()
        leak, _ = registry.alarms.record(Decision(now, "M1", "leak_detector", "shutoff"), now)
        wait_until(lambda: stand_in.hooks and box.mails and stand_in.robots, 10, "every channel")
        tamper, _ = registry.alarms.record(Decision(now, "M2", "tamper", "alarm"), now)
        wait_until(lambda: len(stand_in.robots) == 2, 10, "the warning on the robot")
        states = lambda: {n.channel: n.state for n in registry.notifications.for_alarm(leak.id)}  # noqa: E731
        wait_until(lambda: states()["pager"] == "failed", 10, "the pager given up")
    finally:
        notifier.stop()
    assert stand_in.hooks[0]["alarm"] == leak.id and stand_in.hooks[0]["severity"] == "critical"
    (mail,) = box.mails
    assert mail.rcpt_tos == ["ops@gas.example"] and b"leak_detector" in mail.content
    assert "M1" in stand_in.robots[0]["text"]["content"]
    assert "tamper" in stand_in.robots[1]["text"]["content"]
    assert states() == {"soc": "sent", "ops-mail": "sent", "duty-robot": "sent", "pager": "failed"}
    (pager,) = [n for n in registry.notifications.for_alarm(leak.id) if n.channel == "pager"]
    assert pager.attempts == 3 and stand_in.down_calls == 3 and "503" in pager.answer
    assert [n.channel for n in registry.notifications.for_alarm(tamper.id)] == ["duty-robot"]
    audit = [(e.action, e.target) for e in registry.audit.entries(limit=50)]
    assert ("notification.sent", f"alarm:{leak.id}") in audit
    assert ("notification.failed", f"alarm:{leak.id}") in audit
    (health,) = registry.alarms.find(meter_id="notifier")  # the pager that does not work
    assert (health.rule, health.severity, health.detail["channel"]) == (
        "notification_failed",
        "critical",
        "pager",
    )
    assert "503" in health.detail["why"] and health.detail["alarm"] == leak.id


def test_the_health_alarm_ends_once_the_failed_channel_delivers_again(
    tmp_path: Path, stand_in: StandIn, mailbox: tuple[Mailbox, int]
) -> None:
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("M1"), MeterProfile("M2")], wall_clock_ms())
    notifier = notifier_for(registry, stand_in, mailbox[1])
    notifier.start()
    try:
        now = wall_clock_ms()
        registry.alarms.record(Decision(now, "M1", "leak_detector", "shutoff"), now)
        wait_until(lambda: registry.alarms.find(meter_id="notifier"), 10, "the health alarm")
        stand_in.pager_up = True  # the paging service is back
        now = wall_clock_ms()
        registry.alarms.record(Decision(now, "M2", "over_flow", "shutoff"), now)
        wait_until(
            lambda: registry.alarms.find(meter_id="notifier")[0].state == "cleared",
            10,
            "the health alarm cleared",
        )
    finally:
        notifier.stop()
    (health,) = registry.alarms.find(meter_id="notifier")
    assert health.cleared_by == "gasguard-safety" and "delivers again" in health.note


def test_a_restarted_notifier_sends_what_was_raised_while_it_was_down_and_nothing_twice(
    tmp_path: Path, stand_in: StandIn, mailbox: tuple[Mailbox, int]
) -> None:
    box, smtp_port = mailbox
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("M1")], wall_clock_ms())
    now = wall_clock_ms()
    leak, _ = registry.alarms.record(Decision(now, "M1", "leak_detector", "shutoff"), now)
    for _turn in range(2):  # started, stopped, started again
        notifier = notifier_for(registry, stand_in, smtp_port)
        notifier.start()
        try:
            wait_until(lambda: stand_in.hooks and box.mails, 10, "the alarm raised meanwhile")
            time.sleep(0.5)
        finally:
            notifier.stop()
    # once, though started twice (beside it, the health alarm of the pager, which is down)
    assert [h["alarm"] for h in stand_in.hooks].count(leak.id) == 1
    assert sum(b"leak_detector" in m.content for m in box.mails) == 1


def test_an_unacknowledged_critical_alarm_escalates_on_time_and_an_acknowledged_one_does_not(
    tmp_path: Path, stand_in: StandIn
) -> None:
    """li is on call, wang after her, the supervisor last: compressed, wang is told 1.2 s
    after the alarm, the supervisor 3 s after; the alarm acknowledged at once goes to li
    alone."""
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("M1"), MeterProfile("M2")], wall_clock_ms())
    base = stand_in.server.url
    channels = {
        who: Channel(who, "webhook", f"{base}/hook?who={who}", HOOK_SECRET)
        for who in ("li", "wang", "boss")
    }
    rota = [Shift("li", "li"), Shift("wang", "wang")]  # both all week: li first
    steps = [Step(1.2, ("on-call-next",)), Step(3.0, ("boss",))]
    timing = NotifyTiming(poll_s=0.1, escalation_check_s=0.1)
    notifier = Notifier(
        registry,
        channels,
        [Route(("on-call",))],
        Sender(5.0),
        wall_clock_ms,
        timing,
        "https://gasguard.example/",
        rota=rota,
        escalation=steps,
        link_secret="link-secret",
    )
    otto = Actor("otto", "operator", "test")
    notifier.start()
    try:
        now = wall_clock_ms()
        leak, _ = registry.alarms.record(Decision(now, "M1", "leak_detector", "shutoff"), now)
        other, _ = registry.alarms.record(Decision(now, "M2", "over_flow", "shutoff"), now)
        wait_until(lambda: len(stand_in.hooks) >= 2, 10, "li told of both")
        registry.alarms.acknowledge(other.id, otto, "on my way", wall_clock_ms())
        wait_until(lambda: any(h["who"] == "boss" for h in stand_in.hooks), 15, "the boss told")
        time.sleep(0.5)
    finally:
        notifier.stop()
    told = sorted((h["alarm"], h["who"]) for h in stand_in.hooks)
    assert told == sorted([(leak.id, "li"), (other.id, "li"), (leak.id, "wang"), (leak.id, "boss")])
    first = next(h for h in stand_in.hooks if h["who"] == "li" and h["alarm"] == leak.id)
    token = first["ack_url"].rsplit("/", 1)[1]  # li's message acknowledges as li
    claim = read_link("link-secret", token, wall_clock_ms())
    assert (claim.alarm_id, claim.username) == (leak.id, "li") and token in first["text"]
    boss = next(h for h in stand_in.hooks if h["who"] == "boss")
    assert boss["ack_url"] is None  # the boss is on no rota and the channel names nobody
    sent = {n.channel: n.created_ms for n in registry.notifications.for_alarm(leak.id)}
    assert sent["wang"] - leak.created_ms >= 1200 and sent["boss"] - leak.created_ms >= 3000


def test_a_critical_alarm_goes_by_sms_through_aliyun_and_tencent_cloud(
    tmp_path: Path, stand_in: StandIn
) -> None:
    """Both stand-ins check the signature as their cloud documents it."""
    registry = sqlite_registry(tmp_path)
    registry.meters.provision([MeterProfile("M1")], wall_clock_ms())
    base = stand_in.server.url
    common = (("sign_name", "燃气公司"), ("template", "SMS_1"))
    channels = {
        "ali": Channel(
            "ali",
            "aliyun-sms",
            f"{base}/aliyun/",
            "ali-secret",
            ("13800000000",),
            options=(("key_id", "LTAI-test"), *common),
        ),
        "tc": Channel(
            "tc",
            "tencent-sms",
            f"{base}/tencent/",
            "tc-secret",
            ("13900000000",),
            options=(("key_id", "AKID-test"), ("app_id", "1400000000"), *common),
        ),
    }
    timing = NotifyTiming(poll_s=0.1)
    notifier = Notifier(
        registry, channels, [Route(("ali", "tc"))], Sender(5.0), wall_clock_ms, timing
    )
    notifier.start()
    try:
        now = wall_clock_ms()
        leak, _ = registry.alarms.record(Decision(now, "M1", "leak_detector", "shutoff"), now)
        wait_until(lambda: len(stand_in.sms) == 2, 10, "both SMS")
    finally:
        notifier.stop()
    sent = {cloud: (phones, values) for cloud, phones, values in stand_in.sms}
    assert sent["aliyun"][0] == "13800000000" and json.loads(sent["aliyun"][1])["meter"] == "M1"
    assert sent["tencent"][0] == "+8613900000000" and json.loads(sent["tencent"][1])[:2] == [
        "M1",
        "leak_detector",
    ]
    assert {n.state for n in registry.notifications.for_alarm(leak.id)} == {"sent"}


def test_a_route_by_district_reaches_the_districts_team_only(
    tmp_path: Path, stand_in: StandIn
) -> None:
    registry = sqlite_registry(tmp_path)
    delivery = (
        b"meter_id,model,profile,imei,district\n"
        b"NB1,G2.5,gasguard-json,868000000000001,Tianhe\nNB2,G2.5,gasguard-json,868000000000019,Yuexiu\n"
    )
    actor = Actor("sam", "supervisor", "test")
    report = import_delivery(
        registry.meters,
        delivery,
        "d.csv",
        tuple(default_models()),
        BUILT_IN,
        actor,
        wall_clock_ms(),
    )
    assert report.created == ("NB1", "NB2")
    base = stand_in.server.url
    team = Channel("tianhe", "webhook", f"{base}/hook?who=tianhe", HOOK_SECRET)
    routes = [Route(("tianhe",), "warning", districts=("Tianhe",))]
    notifier = Notifier(
        registry, {"tianhe": team}, routes, Sender(5.0), wall_clock_ms, NotifyTiming(poll_s=0.1)
    )
    notifier.start()
    try:
        now = wall_clock_ms()
        registry.alarms.record(Decision(now, "NB2", "tamper", "alarm"), now)
        near, _ = registry.alarms.record(Decision(now, "NB1", "tamper", "alarm"), now)
        wait_until(lambda: stand_in.hooks, 10, "the district's team told")
        time.sleep(0.5)
    finally:
        notifier.stop()
    assert [(h["alarm"], h["district"]) for h in stand_in.hooks] == [(near.id, "Tianhe")]
