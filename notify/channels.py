"""Each channel's request for a notice, as the channel documents it. Pure: time and the
channel's secrets are passed in; the notifier package sends what these build.

* ``webhook``: a JSON POST of ``Notice.as_json`` with ``X-Gasguard-Timestamp`` (epoch ms)
  and ``X-Gasguard-Signature: sha256=<hex>``, HMAC-SHA256 with the channel's secret over
  ``<timestamp>.<body>`` (the receiver recomputes it and refuses an old timestamp).
* ``wecom``: 企业微信群机器人, a text message to the robot's webhook (its key in the URL;
  WeCom robots have no signature), mentioning the on-call phones.
* ``dingtalk``: 钉钉自定义机器人 with 加签: ``timestamp`` (ms) and ``sign`` = Base64(
  HMAC-SHA256(secret, "<timestamp>\\n<secret>")) in the query, a text message at-ing phones.
* ``feishu``: 飞书自定义机器人 with 签名校验: ``timestamp`` (s) and ``sign`` = Base64(
  HMAC-SHA256 keyed with "<timestamp>\\n<secret>" over nothing) in the body.
* ``sms``: an SMS gateway through the channel's template (method, URL, headers and a body
  with ``{phone}`` and ``{text}``; ``{text}`` JSON-escaped in a JSON body), one request
  per phone.
* ``aliyun-sms``, ``tencent-sms``: the clouds' SendSms, signed as each documents
  (notify.sms_clouds), the channel's ``options`` naming ``key_id``, ``sign_name``,
  ``template`` (and Tencent's ``app_id``, ``region``; ``fields``, the template's
  variables in order, default ``meter,rule,time``), ``secret`` the key's secret.
* ``smtp``: a mail (the notifier's SMTP session sends it).

Each robot answers ``{"errcode": 0}`` (WeCom, DingTalk) or ``{"code": 0}`` (Feishu) when it
took the message; ``judge`` reads an answer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Literal, get_args

from contract.json_text import compact_json
from notify import sms_clouds
from notify.errors import ChannelError
from notify.notice import Notice

Kind = Literal["webhook", "wecom", "dingtalk", "feishu", "sms", "aliyun-sms", "tencent-sms", "smtp"]
KINDS: tuple[Kind, ...] = get_args(Kind)
CLOUD_SMS = frozenset({"aliyun-sms", "tencent-sms"})
SMS_TEXT_LIMIT = 300  # characters: a long SMS is split by the network, and costs more


@dataclass(frozen=True, slots=True)
class Channel:
    """One configured channel (settings ``[notifications.channels.<name>]``)."""

    name: str
    kind: Kind
    url: str = ""  # webhook, robots, sms
    secret: str = ""  # webhook, dingtalk, feishu: the signing secret
    to: tuple[str, ...] = ()  # smtp: addresses; sms, wecom, dingtalk: phones
    sender: str = ""  # smtp: the From address
    method: str = "POST"  # sms
    headers: tuple[tuple[str, str], ...] = ()  # sms: e.g. the gateway's key
    body_template: str = ""  # sms: with {phone} and {text}
    ack_as: str = ""  # the username its messages' acknowledgement link acts as (none: no link)
    options: tuple[tuple[str, str], ...] = ()  # a cloud SMS API's: key_id, sign_name, ...

    def option(self, name: str, default: str = "") -> str:
        return dict(self.options).get(name, default)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class Mail:
    sender: str
    to: tuple[str, ...]
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    answer: str  # what the channel said, for the operator (shortened)
    retry: bool = True  # a failure worth trying again (not a refusal of the request)


@dataclass(frozen=True, slots=True)
class Built:
    requests: tuple[HttpRequest, ...] = ()
    mails: tuple[Mail, ...] = field(default_factory=tuple)


JSON = (("Content-Type", "application/json; charset=utf-8"),)


def _json(body: object) -> bytes:
    return compact_json(body).encode()


def build(channel: Channel, notice: Notice, now_ms: int) -> Built:
    """What to send on ``channel`` for ``notice`` at ``now_ms``."""
    if channel.kind == "webhook":
        return Built((webhook(channel, notice, now_ms),))
    if channel.kind == "wecom":
        content = {"content": notice.text(), "mentioned_mobile_list": list(channel.to)}
        return Built(
            (HttpRequest("POST", channel.url, JSON, _json({"msgtype": "text", "text": content})),)
        )
    if channel.kind == "dingtalk":
        return Built((dingtalk(channel, notice, now_ms),))
    if channel.kind == "feishu":
        return Built((feishu(channel, notice, now_ms),))
    if channel.kind == "sms":
        return Built(tuple(sms(channel, phone, notice) for phone in channel.to))
    if channel.kind in CLOUD_SMS:
        return Built((cloud_sms(channel, notice, now_ms),))
    return Built(mails=(Mail(channel.sender, channel.to, notice.title, notice.text()),))


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def webhook(channel: Channel, notice: Notice, now_ms: int) -> HttpRequest:
    body = _json(notice.as_json())
    timestamp = str(now_ms)
    headers = (
        *JSON,
        ("X-Gasguard-Timestamp", timestamp),
        ("X-Gasguard-Signature", webhook_signature(channel.secret, timestamp, body)),
    )
    return HttpRequest("POST", channel.url, headers, body)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    text = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), text, hashlib.sha256).digest()).decode()


def dingtalk(channel: Channel, notice: Notice, now_ms: int) -> HttpRequest:
    url = channel.url
    if channel.secret:
        sign = urllib.parse.quote_plus(dingtalk_sign(channel.secret, now_ms))
        url += ("&" if "?" in url else "?") + f"timestamp={now_ms}&sign={sign}"
    body = {
        "msgtype": "text",
        "text": {"content": notice.text()},
        "at": {"atMobiles": list(channel.to), "isAtAll": False},
    }
    return HttpRequest("POST", url, JSON, _json(body))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def feishu(channel: Channel, notice: Notice, now_ms: int) -> HttpRequest:
    body: dict[str, object] = {"msg_type": "text", "content": {"text": notice.text()}}
    if channel.secret:
        timestamp = now_ms // 1000
        body = {"timestamp": str(timestamp), "sign": feishu_sign(channel.secret, timestamp), **body}
    return HttpRequest("POST", channel.url, JSON, _json(body))


def sms(channel: Channel, phone: str, notice: Notice) -> HttpRequest:
    template = channel.body_template
    if "{text}" not in template:
        raise ChannelError(f"channel {channel.name}: the SMS body template has no {{text}}")
    text = notice.text()[:SMS_TEXT_LIMIT]
    as_json = any(k.lower() == "content-type" and "json" in v for k, v in channel.headers)
    if as_json:  # the text inside a JSON string: escaped as JSON escapes it
        text = json.dumps(text, ensure_ascii=False)[1:-1]
    body = template.replace("{phone}", phone).replace("{text}", text)
    return HttpRequest(
        channel.method, channel.url.replace("{phone}", phone), channel.headers, body.encode()
    )


def cloud_sms(channel: Channel, notice: Notice, now_ms: int) -> HttpRequest:
    """SendSms at Aliyun or Tencent Cloud, for every phone of the channel at once."""
    fields = tuple(channel.option("fields", ",".join(sms_clouds.DEFAULT_FIELDS)).split(","))
    values = sms_clouds.template_values(notice, fields)
    key_id, sign_name, template = (
        channel.option(name) for name in ("key_id", "sign_name", "template")
    )
    if not (key_id and sign_name and template):
        raise ChannelError(f"channel {channel.name}: options need key_id, sign_name, template")
    if channel.kind == "aliyun-sms":
        url = sms_clouds.aliyun_send_sms(
            key_id,
            channel.secret,
            channel.to,
            sign_name,
            template,
            dict(zip(fields, values, strict=True)),
            now_ms,
            f"gasguard-{notice.alarm_id}-{now_ms}",  # unique per request, as the API wants
            channel.url or sms_clouds.ALIYUN_ENDPOINT,
        )
        return HttpRequest("GET", url, (), b"")
    url = channel.url or f"https://{sms_clouds.TENCENT_HOST}/"
    headers, body = sms_clouds.tencent_send_sms(
        key_id,
        channel.secret,
        channel.option("app_id"),
        channel.to,
        sign_name,
        template,
        values,
        now_ms,
        channel.option("region", "ap-guangzhou"),
        urllib.parse.urlsplit(url).netloc,
    )
    return HttpRequest("POST", url, headers, body)


def judge(channel: Channel, status: int, body: bytes) -> Outcome:
    """Whether the channel took it, from its answer: HTTP 2xx and, for a robot, its code 0.
    A 4xx (but 429) or a robot's refusal is not retried the same way: the request itself
    is wrong (a bad key, a bad signature), which trying again does not mend."""
    answer = f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}"
    if status == 429 or status >= 500:
        return Outcome(False, answer)
    if status >= 400:
        return Outcome(False, answer, retry=False)
    if channel.kind in CLOUD_SMS:  # a refusal may be a rate limit: tried again, later
        return Outcome(sms_clouds.cloud_answer_ok(channel.kind, body), answer)
    if channel.kind in ("wecom", "dingtalk", "feishu"):
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            return Outcome(False, answer)
        code = (
            parsed.get("errcode", parsed.get("code", parsed.get("StatusCode")))
            if isinstance(parsed, dict)
            else None
        )
        if code != 0:
            return Outcome(False, answer, retry=False)
    return Outcome(True, answer)
