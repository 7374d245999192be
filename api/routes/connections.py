"""Connection applications (报装): the board with each record's time status, creating and
updating records (operator, audited), and the public progress lookup for applicants."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse

from api.auth import Operator, Viewer, client_address
from api.deps import ContextDep
from api.errors import field_error, field_errors, too_many
from api.params import EpochMs, Limit, Offset, RecordId
from api.schemas import (
    ApplicationIn,
    ApplicationOut,
    CommissionIn,
    DocumentsIn,
    FeeIn,
    GasOnIn,
    PauseIn,
    PublicApplicationIn,
    PublicGuide,
    PublicProgress,
    ReasonIn,
    Receipt,
)
from connections.applications import ApplicationView, NewApplication, category_problems
from connections.fees import FREE_ITEMS, fee_alarm, fee_problems
from connections.guide import ServiceGuide
from connections.indicators import Grouping, IndicatorRow, indicator_rows, to_csv
from connections.policies import documents_due_ms
from connections.query_codes import LOOSE_PATTERN
from connections.timelimits import DEFAULT_STAGE_NAMES, Policy
from meters.attempt_limits import apply_keys, lookup_keys
from meters.views import Actor
from telemetry.errors import TelemetryError

log = logging.getLogger(__name__)
router = APIRouter(tags=["connections"])
FLOW_CHECK_LIMIT = 10_000  # readings read back to look for flow before commissioning
AppId = RecordId


def _out(context: ContextDep, view: ApplicationView) -> ApplicationOut:
    now_ms = context.clock()
    status = context.policies.status(view, now_ms)
    fields = {f: getattr(view, f) for f in ApplicationView.__dataclass_fields__}
    documents = view.documents_state(now_ms)
    stages = [asdict(s) for s in context.policies.stage_statuses(view, now_ms)]
    policy = context.policies.by_name.get(view.policy)
    return ApplicationOut(
        **fields,
        time=asdict(status),
        documents=documents,
        stage_times=stages,
        stage_names=policy.stage_names if policy else DEFAULT_STAGE_NAMES,
    )


@router.get("/connections", response_model=list[ApplicationOut])
def list_connections(
    _viewer: Viewer,
    context: ContextDep,
    state: Literal["open", "done"] | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
    meter_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,32}$")] = None,
) -> list[ApplicationOut]:
    """Sorted by time left: the records closest to (or past) their limit first."""
    views = context.registry.connections.find(state, offset, limit, meter_id)
    out = [_out(context, v) for v in views]
    return sorted(out, key=_urgency)


def _urgency(application: ApplicationOut) -> tuple[bool, float]:
    """Running before finished; a missing calendar first (no deadline can be shown), then
    the least time left."""
    left = application.time["left_days"]
    return application.time["state"].startswith("done"), -1e9 if left is None else left


@router.post("/connections", response_model=ApplicationOut, status_code=201)
def create_connection(body: ApplicationIn, actor: Operator, context: ContextDep) -> ApplicationOut:
    problems = _form_problems(context, body)
    if body.missing_documents and body.documents_due_ms is None:
        problems.append(("documents_due_ms", "容缺受理: when are the missing documents due?"))
    if problems:
        raise field_errors("body", problems)
    new = NewApplication(**body.model_dump())
    now_ms = context.clock()
    view = context.registry.connections.create(new, actor, now_ms)
    _check_fees(context, view, now_ms)
    return _out(context, view)


def _form_problems(
    context: ContextDep, body: ApplicationIn | PublicApplicationIn
) -> list[tuple[str, str]]:
    """(field, why) for an application form, staff's or the applicant's: a city that is
    not configured, external works that contradict the category."""
    problems = category_problems(body.category, body.pipe_length_m, body.affects_others)
    if body.policy not in context.policies.by_name:
        problems.insert(0, ("policy", f"unknown policy; one of {sorted(context.policies.by_name)}"))
    return problems


def _check_fees(context: ContextDep, view: ApplicationView, now_ms: int) -> None:
    """A fee the city's published list does not allow raises an alarm at once."""
    policy = context.policies.by_name.get(view.policy)
    problems = fee_problems(policy.fee_list if policy else {}, view.charges())
    if problems:
        context.registry.alarms.record(fee_alarm(view.number, problems, now_ms), now_ms)


@router.post("/connections/{application_id}/fees", response_model=ApplicationOut)
def add_fee(
    application_id: AppId, body: FeeIn, actor: Operator, context: ContextDep
) -> ApplicationOut:
    """A fee charged (audited); one off the published list, above its price, or for the
    application or gas-on raises an alarm at once."""
    now_ms = context.clock()
    store = context.registry.connections
    view = store.add_fee(application_id, body.item, body.amount, actor, body.note, now_ms)
    _check_fees(context, view, now_ms)
    return _out(context, view)


@router.get(
    "/connections/report",
    response_model=list[IndicatorRow],
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def indicator_report(
    _viewer: Viewer,
    context: ContextDep,
    start: EpochMs,
    end: EpochMs,
    format: Literal["json", "csv"] = "json",
    by: Grouping = "category",
) -> Any:
    """The published indicator table for applications that reached gas-on in the period,
    per policy and category, district or month of gas-on."""
    if end <= start:
        raise field_error("query", "end", "end must be after start")
    applications = context.registry.connections.done_between(start, end)
    policies = context.policies
    rows = indicator_rows(applications, policies.by_name, policies.calendar, start, end, by)
    if format == "csv":
        return PlainTextResponse(to_csv(rows), media_type="text/csv; charset=utf-8")
    return rows


@router.get("/connections/{application_id}", response_model=ApplicationOut)
def get_connection(application_id: AppId, _viewer: Viewer, context: ContextDep) -> ApplicationOut:
    return _out(context, context.registry.connections.get(application_id))


@router.post("/connections/{application_id}/pause", response_model=ApplicationOut)
def pause(
    application_id: AppId, body: PauseIn, actor: Operator, context: ContextDep
) -> ApplicationOut:
    """Time outside the utility's control starts (design, construction, approval)."""
    store = context.registry.connections
    now_ms = context.clock()
    return _out(context, store.pause(application_id, actor, body.reason, now_ms, body.evidence))


@router.post("/connections/{application_id}/resume", response_model=ApplicationOut)
def resume(application_id: AppId, actor: Operator, context: ContextDep) -> ApplicationOut:
    store = context.registry.connections
    return _out(context, store.resume(application_id, actor, context.clock()))


@router.post("/connections/{application_id}/surveyed", response_model=ApplicationOut)
def surveyed(application_id: AppId, actor: Operator, context: ContextDep) -> ApplicationOut:
    """Stage one (application and survey) is complete."""
    store = context.registry.connections
    return _out(context, store.surveyed(application_id, actor, context.clock()))


@router.post("/connections/{application_id}/commission", response_model=ApplicationOut)
def commission(
    application_id: AppId, body: CommissionIn, actor: Operator, context: ContextDep
) -> ApplicationOut:
    """Link the meter; its first reading with flow after now confirms the gas-on the
    utility records. Flow the meter already showed since the application is flagged."""
    context.registry.meters.get(body.meter_id)  # 404 for an unknown meter
    store = context.registry.connections
    now_ms = context.clock()
    since_ms = store.get(application_id).submitted_ms
    flow_before = _first_flow_between(context, body.meter_id, since_ms, now_ms)
    view = store.commission(application_id, body.meter_id, actor, now_ms, flow_before)
    return _out(context, view)


def _first_flow_between(
    context: ContextDep, meter_id: str, start_ms: int, end_ms: int
) -> int | None:
    """The earliest reading with flow of the meter in [start, end); None when there is none
    or the store cannot say (commissioning does not wait for InfluxDB)."""
    try:
        readings = context.store.readings(meter_id, start_ms, end_ms, FLOW_CHECK_LIMIT)
    except TelemetryError as exc:
        log.warning("flow before commissioning of %s not checked: %s", meter_id, exc)
        return None
    flowing = [r.ts_ms for r in readings if (r.flow_m3h or 0.0) > 0]
    return min(flowing) if flowing else None


@router.post("/connections/{application_id}/documents", response_model=ApplicationOut)
def documents_received(
    application_id: AppId, body: DocumentsIn, actor: Operator, context: ContextDep
) -> ApplicationOut:
    """Missing documents handed in (容缺受理); 409 for one not on the missing list."""
    store = context.registry.connections
    view = store.documents_received(application_id, body.received, actor, context.clock())
    return _out(context, view)


@router.post("/connections/{application_id}/gas-on", response_model=ApplicationOut)
def record_gas_on(
    application_id: AppId, body: GasOnIn, actor: Operator, context: ContextDep
) -> ApplicationOut:
    """The utility's acceptance and gas-on (验收通气), now or at ``at_ms``; the application
    is done once its meter's first flow after commissioning confirms it."""
    store = context.registry.connections
    now_ms = context.clock()
    at_ms = now_ms if body.at_ms is None else body.at_ms
    if not store.get(application_id).submitted_ms <= at_ms <= now_ms:
        raise field_error("body", "at_ms", "gas-on is between the acceptance and now")
    return _out(context, store.record_gas_on(application_id, actor, at_ms, now_ms))


@router.post("/connections/{application_id}/query-code", response_model=ApplicationOut)
def new_query_code(
    application_id: AppId, body: ReasonIn, actor: Operator, context: ContextDep
) -> ApplicationOut:
    """Issue a new public query code for the applicant's receipt (a lost receipt, or an
    application from before codes existed); the old code stops working. Audited."""
    store = context.registry.connections
    return _out(context, store.new_query_code(application_id, actor, body.reason, context.clock()))


@router.get("/public/progress", response_model=PublicProgress)
def public_progress(
    request: Request,
    context: ContextDep,
    number: Annotated[str, Query(min_length=4, max_length=32)],
    code: Annotated[str, Query(pattern=LOOSE_PATTERN, description="the receipt's query code")],
) -> PublicProgress:
    """For applicants, no sign-in: the application number and the query code printed on
    the receipt (60 random bits). Failed lookups are limited per address and per
    application number (meters.attempt_limits, kept in the registry): a lock answers 429
    with Retry-After. Shows the stage and the time, nothing personal."""
    now_ms = context.clock()
    keys = lookup_keys(client_address(request), number)
    limits = context.registry.attempt_limits
    too_many(limits.wait_ms(keys, now_ms), "too many failed lookups")
    view = context.registry.connections.lookup(number, code)
    if view is None:
        limits.failed(keys, now_ms)
        raise HTTPException(404, detail="no application with that number and query code")
    status = context.policies.status(view, now_ms)
    stage = "done" if view.gas_on_ms else ("gas_on" if view.surveyed_ms else "application")
    return PublicProgress(
        number=view.number,
        stage=stage,
        submitted_ms=view.submitted_ms,
        surveyed_ms=view.surveyed_ms,
        gas_on_ms=view.gas_on_ms,
        paused=any(p.end_ms is None for p in view.pauses),
        used_days=status.used_days,
        left_days=status.left_days,
        budget_days=status.budget_days,
        unit=status.unit,
        state=status.state,
        deadline=status.deadline,
        deadline_ms=status.deadline_ms,
        policy=view.policy,
        timeline=_timeline(view, context.policies.by_name.get(view.policy)),
        missing_documents=list(view.missing_documents),
        documents_due_ms=view.documents_due_ms,
        contact=_guide_of(context, view.policy).contact,
    )


def _timeline(view: ApplicationView, policy: Policy | None) -> list[dict[str, Any]]:
    """The record's stages in order, with the city's names for its two stages."""
    one, two = policy.stage_names if policy else DEFAULT_STAGE_NAMES
    steps = [
        ("受理 accepted", view.submitted_ms),
        (f"{one}完成 stage one done", view.surveyed_ms),
        ("装表 meter installed", view.commissioned_ms),
        (f"{two} stage two: gas on", view.gas_on_ms),
    ]
    return [{"name": name, "at_ms": at_ms} for name, at_ms in steps]


def _guide_of(context: ContextDep, policy_name: str) -> ServiceGuide:
    policy = context.policies.by_name.get(policy_name)
    return policy.guide if policy else ServiceGuide()


@router.post("/public/applications", response_model=Receipt, status_code=201)
def apply_online(request: Request, body: PublicApplicationIn, context: ContextDep) -> Receipt:
    """For applicants, no sign-in: the one-form application (一表申请), with documents that
    may follow (容缺受理: due within the policy's maximum for them). Three applications an
    hour from an address and two from a phone (429 with Retry-After beyond). The receipt
    carries the query code, shown this once."""
    now_ms = context.clock()
    address = client_address(request)
    keys = apply_keys(address, body.phone)
    limits = context.registry.attempt_limits
    too_many(limits.wait_ms(keys, now_ms), "too many applications from here")
    problems = _form_problems(context, body)
    if problems:
        raise field_errors("body", problems)
    policy = context.policies.by_name[body.policy]
    limits.failed(keys, now_ms)  # every application taken counts towards the limit
    due_ms = documents_due_ms(policy, context.policies.calendar, now_ms)
    new = NewApplication(
        **body.model_dump(exclude={"missing_documents"}),
        channel="online",
        missing_documents=tuple(body.missing_documents),
        documents_due_ms=due_ms if body.missing_documents else None,
    )
    applicant = Actor("applicant", "applicant", address)
    view = context.registry.connections.create(new, applicant, now_ms)
    _check_fees(context, view, now_ms)
    assert view.query_code is not None  # issued with the record
    return Receipt(
        number=view.number,
        query_code=view.query_code,
        policy=view.policy,
        deadline=context.policies.status(view, now_ms).deadline,
        missing_documents=list(view.missing_documents),
        documents_due_ms=view.documents_due_ms,
    )


@router.get("/public/guide", response_model=PublicGuide)
def public_guide(
    context: ContextDep, policy: Annotated[str, Query(min_length=1, max_length=32)]
) -> PublicGuide:
    """For applicants, no sign-in: a city's service guide (办事指南), its time limits and
    its published fees, from the configuration."""
    found = context.policies.by_name.get(policy)
    if found is None:
        raise field_error(
            "query", "policy", f"unknown policy; one of {sorted(context.policies.by_name)}"
        )
    return PublicGuide(
        policy=found.name,
        stages=list(found.stage_names),
        unit=found.unit,
        days=dict(found.days),
        rule=found.rule,
        materials=list(found.guide.materials),
        steps=list(found.guide.steps),
        contact=found.guide.contact,
        fees=dict(found.fee_list),
        free=list(FREE_ITEMS),
    )
