"""The cloud SMS APIs' requests, signed as each documents: Aliyun against the example of
its signature documentation (a published vector), Tencent Cloud step by step as its
signing demo computes TC3-HMAC-SHA256. Pure."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from notify.channels import Channel, build, judge
from notify.errors import ChannelError
from notify.notice import Notice
from notify.sms_clouds import aliyun_signature, cloud_answer_ok
from tests.cloud_sms import tc3_as_the_demo

NOW = 1_790_000_000_000
LEAK = Notice(7, "M1", "leak_detector", "shutoff", "critical", NOW, NOW)


def test_aliyun_signs_as_its_documentation_example() -> None:
    example = {  # Aliyun's SMS signature documentation, the SendSms example
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    assert aliyun_signature("testSecret", "GET", example) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_an_aliyun_channel_sends_the_alarm_into_its_template() -> None:
    options = (("key_id", "LTAI-test"), ("sign_name", "燃气公司"), ("template", "SMS_1"))
    channel = Channel("ali", "aliyun-sms", "", "sec", ("13800000000",), options=options)
    (request,) = build(channel, LEAK, NOW).requests
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.url).query))
    assert request.method == "GET" and request.url.startswith("https://dysmsapi.aliyuncs.com/?")
    assert json.loads(query["TemplateParam"]) == {
        "meter": "M1",
        "rule": "leak_detector",
        "time": "22:13",
    }
    signature = query.pop("Signature")
    assert signature == aliyun_signature("sec", "GET", query)
    with pytest.raises(ChannelError, match="key_id, sign_name, template"):
        build(Channel("ali", "aliyun-sms", "", "sec", ("1",)), LEAK, NOW)


def test_a_tencent_channel_signs_tc3_as_the_demo_does() -> None:
    options = (
        ("key_id", "AKID-test"),
        ("sign_name", "燃气公司"),
        ("template", "123456"),
        ("app_id", "1400000000"),
        ("fields", "meter,rule"),
    )
    channel = Channel("tc", "tencent-sms", "", "tc-secret", ("13800000000",), options=options)
    (request,) = build(channel, LEAK, NOW).requests
    headers = dict(request.headers)
    body = json.loads(request.body)
    assert body["PhoneNumberSet"] == ["+8613800000000"] and body["TemplateParamSet"] == [
        "M1",
        "leak_detector",
    ]
    assert headers["X-TC-Action"] == "SendSms" and headers["Host"] == "sms.tencentcloudapi.com"
    signature = headers["Authorization"].rsplit("Signature=", 1)[1]
    assert signature == tc3_as_the_demo("tc-secret", headers, request.body, "SendSms")
    assert "Credential=AKID-test/" in headers["Authorization"]


@pytest.mark.parametrize(
    ("kind", "body", "ok"),
    [
        ("aliyun-sms", b'{"Code":"OK","Message":"OK","BizId":"1"}', True),
        ("aliyun-sms", b'{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"limit"}', False),
        ("tencent-sms", b'{"Response":{"SendStatusSet":[{"Code":"Ok"}],"RequestId":"r"}}', True),
        (
            "tencent-sms",
            b'{"Response":{"SendStatusSet":[{"Code":"LimitExceeded.PhoneNumberDailyLimit"}]}}',
            False,
        ),
        ("tencent-sms", b'{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure"}}}', False),
    ],
)
def test_the_clouds_answers_are_read_as_they_mean_them(kind: str, body: bytes, ok: bool) -> None:
    assert cloud_answer_ok(kind, body) is ok
    outcome = judge(Channel("c", kind, ""), 200, body)  # type: ignore[arg-type]
    assert outcome.ok is ok and outcome.retry  # a refusal may be a limit: tried again later
