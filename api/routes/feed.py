"""The live feed: server-sent events for new and changed alarms and commands.

The API process polls the registry for rows changed since its cursor (``updated_ms``),
so changes made by any process (the ingester's alarms, another operator's clear) reach
every open dashboard within ``feed_poll_s``. Each event's id is the change time: a client
that reconnects sends ``Last-Event-ID`` and misses nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.auth import Viewer, session_or_none
from api.context import ApiContext
from api.deps import ContextDep
from api.params import MAX_MS
from meters.views import AlarmView, CommandView

router = APIRouter(tags=["feed"])

HEARTBEAT_S = 15.0
FEED_LOOKBACK_MS = 5_000  # a dashboard reads its lists while its feed connects


def sse(kind: str, view: AlarmView | CommandView) -> str:
    data = json.dumps(asdict(view), separators=(",", ":"), default=str)
    return f"id: {view.updated_ms}\nevent: {kind}\ndata: {data}\n\n"


class FeedCursor:
    """Rows changed at or after ``since_ms``, each (kind, id, change time) sent once."""

    def __init__(self, since_ms: int) -> None:
        self.since_ms = since_ms
        self._sent_at_cursor: set[tuple[str, object, int]] = set()

    def fresh(self, kind: str, view: AlarmView | CommandView) -> str | None:
        """The event for this change, or None when it was sent already."""
        key = (kind, view.id, view.updated_ms)
        if key in self._sent_at_cursor:
            return None
        if view.updated_ms > self.since_ms:
            self.since_ms, self._sent_at_cursor = view.updated_ms, set()
        self._sent_at_cursor.add(key)
        return sse(kind, view)


async def _changes(context: ApiContext, cursor: FeedCursor, request: Request) -> AsyncIterator[str]:
    yield "retry: 2000\n\n"
    quiet_s = 0.0
    while not await request.is_disconnected():
        if await run_in_threadpool(session_or_none, request) is None:
            yield "event: signed_out\ndata: {}\n\n"
            return  # the session ended (expired, signed out, disabled): the feed closes
        since = cursor.since_ms
        alarms = await run_in_threadpool(context.registry.alarms.changed_since, since)
        commands = await run_in_threadpool(context.registry.commands.changed_since, since)
        changes: list[tuple[str, AlarmView | CommandView]] = [
            *(("alarm", a) for a in alarms),
            *(("command", c) for c in commands),
        ]
        changes.sort(key=lambda change: change[1].updated_ms)
        lines = [line for kind, view in changes if (line := cursor.fresh(kind, view))]
        for line in lines:
            yield line
        quiet_s = 0.0 if lines else quiet_s + context.feed_poll_s
        if quiet_s >= HEARTBEAT_S:
            quiet_s = 0.0
            yield ": keep-alive\n\n"
        await asyncio.sleep(context.feed_poll_s)


@router.get("/feed", response_class=StreamingResponse)
async def feed(
    _viewer: Viewer,
    context: ContextDep,
    request: Request,
    since_ms: Annotated[int | None, Query(ge=0, le=MAX_MS)] = None,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """``text/event-stream``: events ``alarm`` and ``command`` carrying the record as JSON.
    Starts a moment before now (``FEED_LOOKBACK_MS``: a change made while the client was
    still connecting reaches it), from ``since_ms``, or after the ``Last-Event-ID`` a
    client resumes with; an ``event: signed_out`` ends it when the session does."""
    start = since_ms if since_ms is not None else context.clock() - FEED_LOOKBACK_MS
    if last_event_id and last_event_id.isdigit() and int(last_event_id) <= MAX_MS:
        start = int(last_event_id)
    return StreamingResponse(
        _changes(context, FeedCursor(start), request),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
