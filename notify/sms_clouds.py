"""Ready templates for the common Chinese cloud SMS APIs, signed as each documents: Aliyun
(阿里云短信 SendSms, RPC signature version 1.0, HMAC-SHA1) and Tencent Cloud (腾讯云短信
SendSms 2021-01-11, TC3-HMAC-SHA256). Pure: the time and the nonce are passed in.

An SMS at these clouds is a pre-approved template with variables: the channel's
``template`` names it, ``sign_name`` the approved signature (短信签名), and the alarm's
facts fill the variables: ``meter``, ``rule``, ``time`` (HH:MM, UTC+8) and ``alarm``
(Aliyun: ``${meter}`` … by name; Tencent: ``{1}`` … in the order of ``fields``)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Mapping, Sequence

from contract.json_text import compact_json
from contract.local_time import CHINA
from notify.notice import Notice

ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
TENCENT_HOST = "sms.tencentcloudapi.com"
DEFAULT_FIELDS = ("meter", "rule", "time")


def template_values(notice: Notice, fields: Sequence[str]) -> list[str]:
    when = dt.datetime.fromtimestamp(notice.opened_ts_ms / 1000, CHINA)
    facts = {
        "meter": notice.meter_id,
        "rule": notice.rule,
        "time": f"{when:%H:%M}",
        "alarm": str(notice.alarm_id),
    }
    return [facts.get(name, "") for name in fields]


# -- Aliyun -------------------------------------------------------------------------------


def aliyun_quote(text: str) -> str:
    """RFC 3986 percent-encoding, as Aliyun's POP signature wants it (space %20, * %2A)."""
    return urllib.parse.quote(text, safe="-_.~")


def aliyun_signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    query = "&".join(f"{aliyun_quote(k)}={aliyun_quote(v)}" for k, v in sorted(params.items()))
    text = f"{method}&{aliyun_quote('/')}&{aliyun_quote(query)}"
    digest = hmac.new(f"{secret}&".encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def aliyun_send_sms(
    key_id: str,
    secret: str,
    phones: Sequence[str],
    sign_name: str,
    template: str,
    values: Mapping[str, str],
    now_ms: int,
    nonce: str,
    endpoint: str = ALIYUN_ENDPOINT,
) -> str:
    """The signed GET URL of SendSms."""
    stamp = dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    params = {
        "AccessKeyId": key_id,
        "Action": "SendSms",
        "Format": "JSON",
        "PhoneNumbers": ",".join(phones),
        "RegionId": "cn-hangzhou",
        "SignName": sign_name,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": nonce,
        "SignatureVersion": "1.0",
        "TemplateCode": template,
        "TemplateParam": compact_json(dict(values)),
        "Timestamp": stamp,
        "Version": "2017-05-25",
    }
    signature = aliyun_signature(secret, "GET", params)
    query = "&".join(f"{aliyun_quote(k)}={aliyun_quote(v)}" for k, v in sorted(params.items()))
    return f"{endpoint}?Signature={aliyun_quote(signature)}&{query}"


# -- Tencent Cloud ------------------------------------------------------------------------


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


SIGNED_HEADERS = "content-type;host;x-tc-action"


def tc3_authorization(
    secret_id: str,
    secret_key: str,
    service: str,
    host: str,
    action: str,
    body: bytes,
    timestamp: int,
) -> str:
    """The ``Authorization`` header of a TC3-HMAC-SHA256 POST of a JSON ``body``, signing
    the content type, the host and the action (as Tencent's own signing demo does)."""
    date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
    content_type = "application/json; charset=utf-8"
    canonical = (
        f"POST\n/\n\ncontent-type:{content_type}\nhost:{host}\nx-tc-action:{action.lower()}\n\n"
        f"{SIGNED_HEADERS}\n{_sha256_hex(body)}"
    )
    scope = f"{date}/{service}/tc3_request"
    text = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{_sha256_hex(canonical.encode())}"
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders={SIGNED_HEADERS}, Signature={signature}"
    )


def tencent_send_sms(
    secret_id: str,
    secret_key: str,
    app_id: str,
    phones: Sequence[str],
    sign_name: str,
    template: str,
    values: Sequence[str],
    now_ms: int,
    region: str = "ap-guangzhou",
    host: str = TENCENT_HOST,
) -> tuple[tuple[tuple[str, str], ...], bytes]:
    """The headers and body of SendSms (phones in E.164: +86 is added to a bare number)."""
    body = compact_json(
        {
            "PhoneNumberSet": [p if p.startswith("+") else f"+86{p}" for p in phones],
            "SmsSdkAppId": app_id,
            "SignName": sign_name,
            "TemplateId": template,
            "TemplateParamSet": list(values),
        }
    ).encode()
    timestamp = now_ms // 1000
    headers = (
        ("Content-Type", "application/json; charset=utf-8"),
        ("Host", host),
        ("X-TC-Action", "SendSms"),
        ("X-TC-Version", "2021-01-11"),
        ("X-TC-Timestamp", str(timestamp)),
        ("X-TC-Region", region),
        (
            "Authorization",
            tc3_authorization(secret_id, secret_key, "sms", host, "SendSms", body, timestamp),
        ),
    )
    return headers, body


def cloud_answer_ok(kind: str, body: bytes) -> bool:
    """Aliyun answers ``{"Code": "OK"}``; Tencent ``{"Response": {"SendStatusSet": [{"Code":
    "Ok"}, …]}}`` (an ``Error`` inside ``Response`` when it refused the request)."""
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return False
    if not isinstance(answer, dict):
        return False
    if kind == "aliyun-sms":
        return answer.get("Code") == "OK"
    response = answer.get("Response")
    if not isinstance(response, dict) or "Error" in response:
        return False
    statuses = response.get("SendStatusSet") or []
    return bool(statuses) and all(s.get("Code") == "Ok" for s in statuses if isinstance(s, dict))
