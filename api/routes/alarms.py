"""Alarms: list (viewer); acknowledge, assign, comment and clear (operator; audited with
who, where, why)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.auth import Operator, Viewer
from api.deps import ContextDep, RegistryDep
from api.params import Limit, Offset, RecordId
from api.schemas import AlarmAck, AlarmAssign, AlarmClear, AlarmComment
from contract.protocol import METER_ID_PATTERN
from meters.notification_store import NotificationView
from meters.views import AlarmView

router = APIRouter(prefix="/alarms", tags=["alarms"])

AlarmId = RecordId


@router.get("", response_model=list[AlarmView])
def list_alarms(
    _viewer: Viewer,
    registry: RegistryDep,
    state: Annotated[
        Literal["active", "acknowledged", "cleared", "open"] | None,
        Query(description="open: active or acknowledged"),
    ] = None,
    meter_id: Annotated[str | None, Query(pattern=METER_ID_PATTERN)] = None,
    offset: Offset = 0,
    limit: Limit = 100,
    rule: Annotated[str | None, Query(max_length=32)] = None,
    assigned_to: Annotated[str | None, Query(max_length=64)] = None,
    order: Annotated[
        Literal["newest", "critical"],
        Query(description="newest first, or critical first (then newest)"),
    ] = "newest",
) -> list[AlarmView]:
    return registry.alarms.find(
        state, meter_id, offset, limit, rule, assigned_to, critical_first=order == "critical"
    )


@router.get("/{alarm_id}", response_model=AlarmView)
def get_alarm(alarm_id: AlarmId, _viewer: Viewer, registry: RegistryDep) -> AlarmView:
    return registry.alarms.get(alarm_id)


@router.get("/{alarm_id}/notifications", response_model=list[NotificationView])
def alarm_notifications(
    alarm_id: AlarmId, _viewer: Viewer, registry: RegistryDep
) -> list[NotificationView]:
    """Each message of the alarm and where it stands: queued, sent (with the channel's
    answer) or failed (with why), and how many attempts (``gasguard notify``)."""
    registry.alarms.get(alarm_id)  # 404 for an unknown alarm
    return registry.notifications.for_alarm(alarm_id)


@router.post("/{alarm_id}/ack", response_model=AlarmView)
def acknowledge(
    alarm_id: AlarmId, body: AlarmAck, actor: Operator, context: ContextDep
) -> AlarmView:
    """active -> acknowledged: someone is on it. 409 when the alarm is already cleared."""
    return context.registry.alarms.acknowledge(alarm_id, actor, body.note, context.clock())


@router.post("/{alarm_id}/clear", response_model=AlarmView)
def clear(alarm_id: AlarmId, body: AlarmClear, actor: Operator, context: ContextDep) -> AlarmView:
    """-> cleared, with a required reason. The rule may fire again for the meter (if the
    condition persists, a new alarm opens at once)."""
    return context.registry.alarms.clear(alarm_id, actor, body.reason, context.clock())


@router.post("/{alarm_id}/assign", response_model=AlarmView)
def assign(alarm_id: AlarmId, body: AlarmAssign, actor: Operator, context: ContextDep) -> AlarmView:
    """Give the alarm to an operator. 409 when it is cleared or the account cannot take
    alarms (disabled, or a viewer); 404 for an unknown account."""
    return context.registry.alarms.assign(
        alarm_id, body.username, actor, body.note, context.clock()
    )


@router.post("/{alarm_id}/comments", response_model=AlarmView)
def comment(
    alarm_id: AlarmId, body: AlarmComment, actor: Operator, context: ContextDep
) -> AlarmView:
    """Add a comment to the alarm's notes (a line with time and author), in any state."""
    return context.registry.alarms.comment(alarm_id, actor, body.text, context.clock())
