"""Alarms: list (viewer), acknowledge and clear (operator; audited with who, where, why)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.auth import Operator, Viewer
from api.deps import ContextDep, RegistryDep
from api.params import Limit, Offset, RecordId
from api.schemas import AlarmAck, AlarmClear
from meters.protocol import METER_ID_RE
from meters.views import AlarmView

router = APIRouter(prefix="/alarms", tags=["alarms"])

AlarmId = RecordId


@router.get("", response_model=list[AlarmView])
def list_alarms(
    _viewer: Viewer,
    registry: RegistryDep,
    state: Literal["active", "acknowledged", "cleared"] | None = None,
    meter_id: Annotated[str | None, Query(pattern=METER_ID_RE.pattern)] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> list[AlarmView]:
    return registry.list_alarms(state, meter_id, offset, limit)


@router.get("/{alarm_id}", response_model=AlarmView)
def get_alarm(alarm_id: AlarmId, _viewer: Viewer, registry: RegistryDep) -> AlarmView:
    return registry.get_alarm(alarm_id)


@router.post("/{alarm_id}/ack", response_model=AlarmView)
def acknowledge(
    alarm_id: AlarmId, body: AlarmAck, actor: Operator, context: ContextDep
) -> AlarmView:
    """active -> acknowledged: someone is on it. 409 when the alarm is already cleared."""
    return context.registry.acknowledge_alarm(alarm_id, actor, body.note, context.clock())


@router.post("/{alarm_id}/clear", response_model=AlarmView)
def clear(alarm_id: AlarmId, body: AlarmClear, actor: Operator, context: ContextDep) -> AlarmView:
    """-> cleared, with a required reason. The rule may fire again for the meter (if the
    condition persists, a new alarm opens at once)."""
    return context.registry.clear_alarm(alarm_id, actor, body.reason, context.clock())
