"""Each channel's request as its platform documents it, the answers judged, and the
routes: pure, no fixtures."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import urllib.parse

import pytest

from contract.local_time import CHINA
from notify.channels import Channel, build, judge, webhook_signature
from notify.errors import ChannelError
from notify.notice import Notice
from notify.routing import Route, channels_for

NOW = 1_790_000_000_000
LEAK = Notice(7, "M1", "leak_detector", "shutoff", "critical", NOW - 5000, NOW, (("why", "gas"),))


def test_a_webhook_is_signed_over_its_timestamp_and_body() -> None:
    channel = Channel("hook", "webhook", "https://soc.example/gas", "s3cret")
    (request,) = build(channel, LEAK, NOW).requests
    headers = dict(request.headers)
    assert headers["X-Gasguard-Timestamp"] == str(NOW)
    expected = hmac.new(b"s3cret", f"{NOW}.".encode() + request.body, hashlib.sha256).hexdigest()
    assert headers["X-Gasguard-Signature"] == f"sha256={expected}"
    body = json.loads(request.body)
    assert (body["alarm"], body["rule"], body["severity"]) == (7, "leak_detector", "critical")
    assert webhook_signature("other", str(NOW), request.body) != headers["X-Gasguard-Signature"]


def test_the_group_robots_get_their_documented_formats_and_signatures() -> None:
    phones = ("13800000000",)
    wecom = build(
        Channel("wx", "wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", to=phones),
        LEAK,
        NOW,
    )
    body = json.loads(wecom.requests[0].body)
    assert body["msgtype"] == "text" and body["text"]["mentioned_mobile_list"] == list(phones)
    assert "leak_detector" in body["text"]["content"]

    ding = build(
        Channel(
            "dd", "dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=t", "SEC1", phones
        ),
        LEAK,
        NOW,
    )
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(ding.requests[0].url).query)
    assert query["timestamp"] == [str(NOW)] and query["access_token"] == ["t"]
    digest = hmac.new(b"SEC1", f"{NOW}\nSEC1".encode(), hashlib.sha256).digest()
    assert query["sign"] == [base64.b64encode(digest).decode()]
    assert json.loads(ding.requests[0].body)["at"]["atMobiles"] == list(phones)

    fei = build(
        Channel("fs", "feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/x", "SEC2"), LEAK, NOW
    )
    body = json.loads(fei.requests[0].body)
    key = f"{NOW // 1000}\nSEC2".encode()
    assert body["timestamp"] == str(NOW // 1000)
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["msg_type"] == "text" and "M1" in body["content"]["text"]


def test_an_sms_gateway_takes_its_template_with_the_text_escaped_for_json() -> None:
    template = '{"PhoneNumbers": "{phone}", "TemplateParam": "{text}"}'
    channel = Channel(
        "sms",
        "sms",
        "https://sms.example/send",
        to=("13800000000", "13900000000"),
        headers=(("Content-Type", "application/json"),),
        body_template=template,
    )
    requests = build(channel, LEAK, NOW).requests
    assert len(requests) == 2  # one per phone
    body = json.loads(requests[1].body)  # the line breaks of the text are JSON-escaped
    assert body["PhoneNumbers"] == "13900000000" and body["TemplateParam"].startswith("[gasguard")
    with pytest.raises(ChannelError, match="no \\{text\\}"):
        build(Channel("bad", "sms", "https://sms.example", to=("1",), body_template="x"), LEAK, NOW)


def test_a_mail_has_the_title_as_subject() -> None:
    mail = Channel("ops", "smtp", "smtp://127.0.0.1:25", to=("ops@gas.example",), sender="gg@x")
    (message,) = build(mail, LEAK, NOW).mails
    assert message.subject == LEAK.title and message.to == ("ops@gas.example",)
    when = dt.datetime.fromtimestamp((NOW - 5000) / 1000, CHINA)
    assert f"{when:%H:%M:%S}" in message.body


@pytest.mark.parametrize(
    ("kind", "status", "body", "ok", "retry"),
    [
        ("webhook", 200, b"", True, True),
        ("webhook", 503, b"busy", False, True),
        ("webhook", 429, b"", False, True),
        ("webhook", 401, b"bad signature", False, False),
        ("dingtalk", 200, b'{"errcode":0,"errmsg":"ok"}', True, True),
        ("dingtalk", 200, b'{"errcode":310000,"errmsg":"sign not match"}', False, False),
        ("feishu", 200, b'{"code":19021,"msg":"sign match fail"}', False, False),
        ("feishu", 200, b'{"code":0,"msg":"success"}', True, True),
        ("wecom", 200, b"<html>", False, True),
    ],
)
def test_an_answer_is_judged_as_the_channel_means_it(
    kind: str, status: int, body: bytes, ok: bool, retry: bool
) -> None:
    outcome = judge(Channel("c", kind, "https://x"), status, body)  # type: ignore[arg-type]
    assert (outcome.ok, outcome.retry) == (ok, retry) and str(status) in outcome.answer


def test_routes_choose_by_severity_and_rule_and_quiet_hours_never_hold_a_shutoff() -> None:
    night = int(dt.datetime(2026, 12, 5, 3, 0, tzinfo=CHINA).timestamp() * 1000)
    noon = int(dt.datetime(2026, 12, 5, 12, 0, tzinfo=CHINA).timestamp() * 1000)
    routes = [
        Route(("oncall-sms", "robot"), "critical"),
        Route(("robot", "mail"), "warning", quiet=(22, 7)),
        Route(("tamper-team",), "info", rules=("tamper",)),
    ]
    assert channels_for(LEAK, routes, night) == ("oncall-sms", "robot", "mail")
    tamper = Notice(8, "M2", "tamper", "alarm", "warning", night, night)
    assert channels_for(tamper, routes, night) == ("tamper-team",)  # quiet: the mail waits
    assert channels_for(tamper, routes, noon) == ("robot", "mail", "tamper-team")
    battery = Notice(9, "M3", "low_battery", "alarm", "info", noon, noon)
    assert channels_for(battery, routes, noon) == ()
    by_district = [Route(("tianhe-team",), "warning", districts=("天河区",)), *routes]
    here = Notice(10, "M4", "tamper", "alarm", "warning", noon, noon, district="天河区")
    there = Notice(11, "M5", "tamper", "alarm", "warning", noon, noon, district="越秀区")
    assert channels_for(here, by_district, noon)[0] == "tianhe-team"
    assert "tianhe-team" not in channels_for(there, by_district, noon)
    assert "越秀区" in there.text()
