"""Acknowledgement by the link in a notification (notify.links): opening it shows what it
acknowledges and a button; the button's POST acknowledges, as the person the link names
(an enabled account of role operator or above), once. The link is its own credential:
signed, short-lived, single-use; no session. Not found when no link secret is set."""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from api.auth import client_address
from api.deps import ContextDep
from contract.alarms import AlarmRefused
from contract.roles import role_at_least
from meters.errors import Conflict, NotFound
from meters.views import Actor
from notify.links import AckClaim, LinkRefused, read_link

router = APIRouter(tags=["alarms"])
Token = Annotated[str, Path(max_length=600, pattern=r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+$")]
PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width"><title>gasguard</title></head>
<body><h1>gasguard</h1><p>{text}</p>{form}</body></html>"""


def _page(status: int, text: str, form: str = "") -> HTMLResponse:
    return HTMLResponse(PAGE.format(text=html.escape(text), form=form), status_code=status)


def _claim(context: ContextDep, token: str) -> AckClaim | HTMLResponse:
    if not context.ack_link_secret:
        return _page(404, "链接无效 No such link")
    try:
        return read_link(context.ack_link_secret, token, context.clock())
    except LinkRefused as exc:
        return _page(
            410 if "expired" in str(exc) else 400, f"链接无效 This link cannot be used: {exc}"
        )


@router.get("/ack-links/{token}", response_class=HTMLResponse, include_in_schema=False)
def show_link(token: Token, context: ContextDep) -> HTMLResponse:
    """What the link acknowledges, and its button; nothing changes by opening it."""
    claim = _claim(context, token)
    if isinstance(claim, HTMLResponse):
        return claim
    try:
        alarm = context.registry.alarms.get(claim.alarm_id)
    except NotFound:
        return _page(404, "报警不存在 No such alarm")
    text = (
        f"确认报警 Acknowledge alarm #{alarm.id}: {alarm.rule} · 表 meter {alarm.meter_id} "
        f"({alarm.state}) as {claim.username}?"
    )
    form = '<form method="post"><button type="submit">确认 Acknowledge</button></form>'
    return _page(200, text, form)


@router.post("/ack-links/{token}", response_class=HTMLResponse, include_in_schema=False)
def use_link(token: Token, request: Request, context: ContextDep) -> HTMLResponse:
    claim = _claim(context, token)
    if isinstance(claim, HTMLResponse):
        return claim
    try:
        user = context.registry.accounts.get(claim.username)
    except NotFound:
        return _page(403, "账号不存在 The link's account does not exist")
    if user.disabled or not role_at_least(user.role, "operator"):
        return _page(403, "账号不能确认报警 The link's account may not acknowledge alarms")
    actor = Actor(user.username, user.role, f"link {client_address(request)}")
    registry = context.registry
    try:
        alarm = registry.alarms.acknowledge_by_link(
            claim.alarm_id, claim.nonce, actor, context.clock()
        )
    except Conflict as exc:
        return _page(409, f"未确认 Not acknowledged: {exc}")
    except AlarmRefused as exc:
        return _page(409, f"未确认 Not acknowledged: alarm {exc}")
    except NotFound:
        return _page(404, "报警不存在 No such alarm")
    return _page(200, f"已确认 Alarm #{alarm.id} acknowledged by {alarm.acknowledged_by}")
