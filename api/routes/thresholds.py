"""A meter's firmware thresholds (parameter download, docs/meters.md): what it should hold
and what it confirmed (viewer); its own thresholds and sending them to it (supervisor:
they decide when the meter closes its valve by itself). Both audited."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status

from api.auth import Supervisor, require
from api.deps import ContextDep
from api.errors import field_error
from api.params import MeterId
from api.schemas import DownloadRequest, ThresholdsRequest
from contract.thresholds import ThresholdError, Thresholds, parse_thresholds
from meters.command_windows import window_for
from meters.errors import Conflict
from meters.parameters import ThresholdStatus, download_command, threshold_status
from meters.views import CommandView, MeterView

router = APIRouter(
    prefix="/meters/{meter_id}/thresholds",
    tags=["meters"],
    dependencies=[Depends(require("viewer"))],
)


def _profile_thresholds(context: ContextDep, meter: MeterView) -> Thresholds:
    profile = context.device_profiles.get(meter.device_profile)
    return Thresholds() if profile is None else profile.thresholds


@router.get("", response_model=ThresholdStatus)
def get_thresholds(meter_id: MeterId, context: ContextDep) -> ThresholdStatus:
    """The thresholds the meter should hold, those it confirmed it holds (a download's
    ``done``), which differ, and its newest download."""
    meter = context.registry.meters.get(meter_id)
    downloads = context.registry.commands.find(meter_id, limit=1, action="params")
    download = downloads[0] if downloads else None
    return threshold_status(_profile_thresholds(context, meter), meter, download)


@router.put("", response_model=ThresholdStatus)
def set_thresholds(
    meter_id: MeterId, body: ThresholdsRequest, actor: Supervisor, context: ContextDep
) -> ThresholdStatus:
    """Replace the meter's own thresholds (422 naming a threshold that cannot be one);
    sending them is a separate step (``POST …/send``)."""
    meter = context.registry.meters.get(meter_id)  # 404 for an unknown meter
    try:
        own = parse_thresholds({k: v for k, v in body.thresholds.items() if v is not None})
    except ThresholdError as exc:
        raise field_error("body", f"thresholds.{exc.field}", str(exc)) from exc
    meter = context.registry.meters.set_thresholds(
        meter_id, own, actor, body.reason, context.clock()
    )
    return threshold_status(_profile_thresholds(context, meter), meter)


@router.post("/send", response_model=CommandView, status_code=status.HTTP_202_ACCEPTED)
def send_thresholds(
    meter_id: MeterId, body: DownloadRequest, actor: Supervisor, context: ContextDep
) -> CommandView:
    """Queue a parameter download of the configured thresholds, signed and sent as valve
    commands are (a sleeping meter gets it when it next wakes); the meter's ``done``
    records them as held. 409 when none are configured, or a download with other
    thresholds is still in flight."""
    meter = context.registry.meters.get(meter_id)
    now_ms, default_ms = context.clock(), int(context.command_ttl_s * 1000)
    try:
        new = download_command(_profile_thresholds(context, meter), meter, body.reason)
        window = window_for(context.device_profiles, meter, now_ms, default_ms)
        command, _created = context.registry.commands.create(
            new, actor, now_ms, window.ttl_ms, window
        )
    except Conflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return command
