"""Pipelines, stages, deals and the forecast over the API (operation ids ``sales_*``).

Deals follow the member's record scope: a salesperson lists, reads, changes and moves only their own.
Deal writes carry the ``version`` the client read; a stale one is a 409 problem.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from ninja import Router, Status

from clientela.contacts.models import Company, Person
from clientela.core.errors import ValidationFailed
from clientela.sales import selectors, services
from clientela.sales.models import Deal, Pipeline, Stage
from clientela.sales.schemas import (
    DealIn,
    DealMoveIn,
    DealOut,
    DealPage,
    DealPatch,
    ForecastOut,
    PipelineIn,
    PipelineOut,
    PipelinePatch,
    QualifyIn,
    StageNew,
    StageOut,
    StagePatch,
    StageReorderIn,
    StageRetireIn,
    StageSpanOut,
)
from clientela.workspaces.http import WorkspaceRequest
from clientela.workspaces.permissions import require
from clientela.workspaces.roles import Action, Module

router = Router(tags=["sales"])


def _view(request: WorkspaceRequest) -> None:
    require(request.membership, Module.SALES, Action.VIEW)


def _edit(request: WorkspaceRequest) -> None:
    require(request.membership, Module.SALES, Action.EDIT)


def _configure(request: WorkspaceRequest) -> None:
    require(request.membership, Module.SETTINGS, Action.EDIT)


def _pipeline_out(pipeline: Pipeline) -> dict[str, Any]:
    return {
        "id": pipeline.pk,
        "name": pipeline.name,
        "position": pipeline.position,
        "is_default": pipeline.is_default,
        "stages": list(selectors.stage_list(pipeline=pipeline, include_retired=True)),
    }


def _deal(request: WorkspaceRequest, deal_id: int) -> Deal:
    return selectors.deal_get(
        workspace=request.workspace, viewer=request.membership, deal_id=deal_id, customers=False
    )


def _may_assign(request: WorkspaceRequest, owner: int | None) -> None:
    """A member who sees only their own deals cannot hand one to someone else (they would lose it)."""
    if owner != request.user.pk and not selectors.sees_all_deals(request.membership):
        raise ValidationFailed(
            _("You can only own your deals yourself."), fields={"owner": [_("Must be yourself.")]}
        )


# --- pipelines and stages -------------------------------------------------------------------------


@router.get("/pipelines", response=list[PipelineOut], operation_id="sales_pipeline_list")
def pipeline_list(request: WorkspaceRequest) -> list[dict[str, Any]]:
    """Every pipeline with its stages (retired ones included, with ``retired_at``)."""
    _view(request)
    return [_pipeline_out(p) for p in selectors.pipeline_list(workspace=request.workspace)]


@router.post("/pipelines", response={201: PipelineOut}, operation_id="sales_pipeline_create")
def pipeline_create(request: WorkspaceRequest, payload: PipelineIn) -> Status:
    _configure(request)
    stages = (
        [services.StageInput(s.name, s.probability, s.kind) for s in payload.stages]
        if payload.stages is not None
        else None
    )
    pipeline = services.pipeline_create(
        workspace=request.workspace,
        actor=request.user,
        name=payload.name,
        stages=stages,
        is_default=payload.is_default,
    )
    return Status(201, _pipeline_out(pipeline))


@router.patch("/pipelines/{pipeline_id}", response=PipelineOut, operation_id="sales_pipeline_update")
def pipeline_update(request: WorkspaceRequest, pipeline_id: int, payload: PipelinePatch) -> dict[str, Any]:
    """Rename a pipeline or make it the default."""
    _configure(request)
    pipeline = selectors.pipeline_get(workspace=request.workspace, pipeline_id=pipeline_id)
    services.pipeline_update(pipeline=pipeline, actor=request.user, **payload.model_dump(exclude_unset=True))
    return _pipeline_out(pipeline)


@router.post("/pipelines/{pipeline_id}/stages", response={201: StageOut}, operation_id="sales_stage_add")
def stage_add(request: WorkspaceRequest, pipeline_id: int, payload: StageNew) -> Status:
    _configure(request)
    pipeline = selectors.pipeline_get(workspace=request.workspace, pipeline_id=pipeline_id)
    return Status(201, services.stage_add(pipeline=pipeline, actor=request.user, **payload.model_dump()))


@router.post(
    "/pipelines/{pipeline_id}/stages/reorder",
    response=PipelineOut,
    operation_id="sales_stage_reorder",
)
def stage_reorder(request: WorkspaceRequest, pipeline_id: int, payload: StageReorderIn) -> dict[str, Any]:
    _configure(request)
    pipeline = selectors.pipeline_get(workspace=request.workspace, pipeline_id=pipeline_id)
    services.stage_reorder(pipeline=pipeline, actor=request.user, stage_ids=payload.stages)
    return _pipeline_out(pipeline)


@router.patch("/stages/{stage_id}", response=StageOut, operation_id="sales_stage_update")
def stage_update(request: WorkspaceRequest, stage_id: int, payload: StagePatch) -> Stage:
    """Rename a stage, change its probability, or (while it has no deals) its kind."""
    _configure(request)
    stage = selectors.stage_get(workspace=request.workspace, stage_id=stage_id)
    return services.stage_update(stage=stage, actor=request.user, **payload.model_dump(exclude_unset=True))


@router.post("/stages/{stage_id}/retire", response=StageOut, operation_id="sales_stage_retire")
def stage_retire(request: WorkspaceRequest, stage_id: int, payload: StageRetireIn) -> Stage:
    """Retire a stage (history kept); its deals move to ``move_to``."""
    _configure(request)
    stage = selectors.stage_get(workspace=request.workspace, stage_id=stage_id)
    move_to = (
        selectors.stage_get(workspace=request.workspace, stage_id=payload.move_to)
        if payload.move_to is not None
        else None
    )
    return services.stage_retire(stage=stage, actor=request.user, move_to=move_to)


@router.post("/stages/{stage_id}/restore", response=StageOut, operation_id="sales_stage_restore")
def stage_restore(request: WorkspaceRequest, stage_id: int) -> Stage:
    """Bring a retired stage back, after the active stages of its kind."""
    _configure(request)
    return services.stage_restore(
        stage=selectors.stage_get(workspace=request.workspace, stage_id=stage_id), actor=request.user
    )


# --- deals ----------------------------------------------------------------------------------------


@router.get("/deals", response=DealPage, operation_id="sales_deal_list")
def deal_list(
    request: WorkspaceRequest,
    pipeline: int | None = None,
    stage: int | None = None,
    status: str = "",
    owner: str = "",
    tag: str = "",
    q: str = "",
    close_from: dt.date | None = None,
    close_to: dt.date | None = None,
    sort: str = "-created",
    cursor: str = "",
    page_size: int = 50,
) -> dict[str, Any]:
    """Deals filtered by ``pipeline``, ``stage``, ``status`` (open, won, lost), ``owner`` (id, ``me``,
    ``none``), ``tag`` of the person or company (repeatable), ``q`` (title), ``close_from``/``close_to``;
    sorted by ``-created``, ``created``, ``title``, ``amount``, ``-amount`` or ``board`` (column order);
    keyset-paginated with ``cursor``."""
    _view(request)
    query = selectors.DealQuery.parse(request.GET)
    page = selectors.deal_list(workspace=request.workspace, viewer=request.membership, query=query)
    return {"results": page.items, "next": page.next_cursor}


@router.post("/deals", response={201: DealOut}, operation_id="sales_deal_create")
def deal_create(request: WorkspaceRequest, payload: DealIn) -> Status:
    _edit(request)
    if payload.owner is not None:
        _may_assign(request, payload.owner)
    attributes = payload.model_dump(exclude_none=True)
    deal = services.deal_create(workspace=request.workspace, actor=request.user, attributes=attributes)
    return Status(201, _deal(request, deal.pk))


@router.post("/leads/qualify", response={201: DealOut}, operation_id="sales_lead_qualify")
def lead_qualify(request: WorkspaceRequest, payload: QualifyIn) -> Status:
    """Qualify a lead (a person or a company): open a deal for it; it becomes an opportunity."""
    _edit(request)
    if (payload.person is None) == (payload.company is None):
        raise ValidationFailed(
            _("Name the lead: a person or a company."), fields={"person": [_("Give a person or a company.")]}
        )
    record: Person | Company = (
        Person.objects.get(workspace=request.workspace, pk=payload.person)
        if payload.person is not None
        else Company.objects.get(workspace=request.workspace, pk=payload.company)
    )
    attributes = payload.model_dump(exclude_none=True, exclude={"person", "company"})
    deal = services.lead_qualify(
        workspace=request.workspace, actor=request.user, record=record, attributes=attributes
    )
    return Status(201, _deal(request, deal.pk))


@router.get("/deals/{deal_id}", response=DealOut, operation_id="sales_deal_get")
def deal_get(request: WorkspaceRequest, deal_id: int) -> Deal:
    _view(request)
    return _deal(request, deal_id)


@router.patch("/deals/{deal_id}", response=DealOut, operation_id="sales_deal_update")
def deal_update(request: WorkspaceRequest, deal_id: int, payload: DealPatch) -> Deal:
    """Change the fields sent (not the stage: see move). A stale ``version`` is a 409."""
    _edit(request)
    deal = _deal(request, deal_id)
    attributes = payload.model_dump(exclude_unset=True, exclude={"version"})
    if "owner" in attributes:
        _may_assign(request, attributes["owner"])
    services.deal_update(
        workspace=request.workspace,
        actor=request.user,
        deal=deal,
        attributes=attributes,
        expected_version=payload.version,
    )
    return _deal(request, deal_id)


@router.post("/deals/{deal_id}/move", response=DealOut, operation_id="sales_deal_move")
def deal_move(request: WorkspaceRequest, deal_id: int, payload: DealMoveIn) -> Deal:
    """Move a deal to ``stage`` at ``position``. Refused with 422 for a stage of another pipeline, a
    retired stage, a won stage without amount or customer, a lost stage without reason; 409 when
    ``version`` is stale."""
    _edit(request)
    deal = _deal(request, deal_id)
    stage = selectors.stage_get(workspace=request.workspace, stage_id=payload.stage)
    position = None
    if payload.position is not None:
        visible = (
            selectors.deal_scope(workspace=request.workspace, viewer=request.membership)
            .filter(stage=stage)
            .exclude(pk=deal.pk)
            .order_by("position", "id")
        )
        after = None
        if payload.position > 0:  # the card the client sees just above the drop (or the last one)
            window = list(visible[payload.position - 1 : payload.position])
            after = window[0] if window else visible.last()
        position = selectors.column_index_after(
            workspace=request.workspace, stage=stage, after=after, moving=deal
        )
    return services.deal_move_stage(  # the deal as moved, with the relations read above
        workspace=request.workspace,
        actor=request.user,
        deal=deal,
        stage=stage,
        position=position,
        expected_version=payload.version,
        lost_reason=payload.lost_reason,
    )


@router.get("/deals/{deal_id}/history", response=list[StageSpanOut], operation_id="sales_deal_history")
def deal_history(request: WorkspaceRequest, deal_id: int) -> list[dict[str, Any]]:
    """The stages the deal went through, with when it entered, left, and the seconds spent in each."""
    _view(request)
    deal = _deal(request, deal_id)
    return [
        {
            "stage": span.stage,
            "entered_at": span.entered_at,
            "left_at": span.left_at,
            "seconds": int(span.duration.total_seconds()),
            "changed_by": span.changed_by,
        }
        for span in selectors.deal_stage_history(workspace=request.workspace, deal=deal)
    ]


# --- forecast -------------------------------------------------------------------------------------


@router.get("/forecast", response=ForecastOut, operation_id="sales_forecast")
def forecast(
    request: WorkspaceRequest,
    pipeline: int | None = None,
    owner: str = "",
    start: dt.date | None = None,
    months: int = 6,
) -> dict[str, Any]:
    """Open deals' amount and weighted amount (amount x stage probability) by expected close month,
    in total, per owner and per pipeline; one row per currency (nothing is converted). ``start`` is any
    day of the first month (this month by default); ``months`` 1-24."""
    _view(request)
    if not 1 <= months <= 24:
        raise ValidationFailed(_("Ask for 1 to 24 months."), fields={"months": [_("From 1 to 24.")]})
    query = selectors.DealQuery.parse({"pipeline": pipeline or "", "owner": owner})
    result = selectors.forecast(
        workspace=request.workspace, viewer=request.membership, query=query, start=start, months=months
    )

    def row(r: selectors.ForecastRow) -> dict[str, Any]:
        return {
            "key": r.key,
            "label": r.label,
            "currency": r.currency,
            "months": [
                {"month": m.strftime("%Y-%m"), **vars(c)} for m, c in zip(result.months, r.cells, strict=True)
            ],
            "total": vars(r.total),
        }

    return {
        "months": [m.strftime("%Y-%m") for m in result.months],
        "currencies": result.currencies,
        "totals": [row(r) for r in result.totals],
        "by_owner": [row(r) for r in result.by_owner],
        "by_pipeline": [row(r) for r in result.by_pipeline],
        "overdue": {c: vars(cell) for c, cell in result.overdue.items()},
        "undated": {c: vars(cell) for c, cell in result.undated.items()},
    }
