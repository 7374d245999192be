"""Valve commands: list and follow them (viewer); issue one (operator; open: supervisor,
never after a safety closure). Every command is audited with who, why and from where."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status

from api.auth import Operator, Viewer
from api.deps import ContextDep, RegistryDep
from api.params import Limit, MeterId, Offset
from api.schemas import CommandRequest
from contract.protocol import METER_ID_PATTERN
from meters.command_policy import role_refusal
from meters.command_store import NewCommand
from meters.command_windows import window_for
from meters.views import CommandView

router = APIRouter(tags=["commands"])

CommandState = Literal["queued", "sent", "delivered", "succeeded", "failed", "expired", "timed_out"]


@router.get("/commands", response_model=list[CommandView])
def list_commands(
    _viewer: Viewer,
    registry: RegistryDep,
    meter_id: Annotated[str | None, Query(pattern=METER_ID_PATTERN)] = None,
    state: CommandState | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> list[CommandView]:
    """Newest first."""
    return registry.commands.find(meter_id, state, limit, offset)


@router.get("/commands/{command_id}", response_model=CommandView)
def get_command(
    command_id: Annotated[str, Path(max_length=36)], _viewer: Viewer, registry: RegistryDep
) -> CommandView:
    return registry.commands.get(command_id)


@router.post(
    "/meters/{meter_id}/commands",
    response_model=CommandView,
    status_code=status.HTTP_202_ACCEPTED,
)
def issue_command(
    meter_id: MeterId, body: CommandRequest, actor: Operator, context: ContextDep
) -> CommandView:
    """Queue a signed command; the ingester publishes it within a second and follows it to
    the end (``GET /commands/{id}``, the live feed). A close while one is in flight joins
    it (the same command comes back). A meter that sleeps gets it when it next wakes:
    ``wake_expected_ms`` says when that is expected (docs/protocols.md)."""
    registry = context.registry
    meter = registry.meters.get(meter_id)  # 404 for an unknown meter
    refused = role_refusal(body.action, actor.role)
    if refused is not None:
        detail = {"refused": refused, "role": actor.role}
        target = f"meter:{meter_id}"
        action = f"command.{body.action}.refused"
        registry.audit.record(actor, action, target, body.reason, detail, context.clock())
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=refused)
    new = NewCommand(meter_id, body.action, body.reason, body.closure)
    now_ms, default_ms = context.clock(), int(context.command_ttl_s * 1000)
    window = window_for(context.device_profiles, meter, now_ms, default_ms)
    # a remote open the valve's closures forbid: Conflict (409), audited by the store
    command, _created = registry.commands.create(new, actor, now_ms, window.ttl_ms, window)
    return command
