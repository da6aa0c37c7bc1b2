"""Pages for the sales process: the board, the deal list, a deal, its forms, the forecast, pipelines.

One view serves the full page or its htmx partial (filters, "more" in a column, a drop on the board).
Record scope is applied by the selectors: a salesperson sees and moves only their own deals.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clientela.contacts.models import Company, Person
from clientela.contacts.selectors import tag_list
from clientela.core.errors import ApplicationError, ValidationFailed
from clientela.sales import selectors, services
from clientela.sales.forms import DealForm, PipelineForm, StageForm
from clientela.sales.models import Deal, Pipeline, Stage, StageKind
from clientela.sales.selectors import DealQuery
from clientela.workspaces.http import WorkspaceRequest
from clientela.workspaces.permissions import workspace_view
from clientela.workspaces.roles import Action, Module, role_allows
from clientela.workspaces.selectors import member_list

S = Module.SALES


def _can_edit(request: WorkspaceRequest) -> bool:
    return role_allows(request.membership.role, S, Action.EDIT)


def _query(request: WorkspaceRequest) -> DealQuery:
    """The filters in the URL; invalid ones are reported and dropped rather than failing the page."""
    try:
        return DealQuery.parse(request.GET)
    except ValidationFailed as exc:
        messages.error(request, " ".join(m for msgs in exc.fields.values() for m in msgs) or exc.message)
        return DealQuery()


def _filter_context(request: WorkspaceRequest, query: DealQuery) -> dict[str, Any]:
    sees_all = selectors.sees_all_deals(request.membership)
    return {
        "query": query,
        "sees_all": sees_all,
        "members": member_list(workspace=request.workspace) if sees_all else [],
        "tags": tag_list(workspace=request.workspace),
        "can_edit": _can_edit(request),
        "currency": request.workspace.default_currency,
    }


# --- board ----------------------------------------------------------------------------------------


@workspace_view(S)
def board(request: WorkspaceRequest) -> HttpResponse:
    """The kanban board of one pipeline (``?pipeline=<id>``, else the default one)."""
    query = _query(request)
    pipeline = selectors.pipeline_get(workspace=request.workspace, pipeline_id=query.pipeline)
    query.pipeline = pipeline.pk
    context = {
        **_filter_context(request, query),
        "board": selectors.board(
            workspace=request.workspace, viewer=request.membership, pipeline=pipeline, query=query
        ),
        "pipelines": selectors.pipeline_list(workspace=request.workspace),
        "filter_qs": urlencode(query.as_params(board=True), doseq=True),
        "can_configure": role_allows(request.membership.role, Module.SETTINGS, Action.VIEW),
    }
    if request.htmx and request.htmx.target == "board":
        return render(request, "sales/partials/board.html", context)
    return render(request, "sales/pages/board.html", context)


@workspace_view(S)
def column(request: WorkspaceRequest, stage_id: int) -> HttpResponse:
    """The next cards of a board column ("more"), with the filters of the board."""
    stage = selectors.stage_get(workspace=request.workspace, stage_id=stage_id)
    query = _query(request)
    page = selectors.column_page(
        workspace=request.workspace,
        viewer=request.membership,
        stage=stage,
        query=query,
        cursor=request.GET.get("cursor", ""),
    )
    return render(
        request,
        "sales/partials/column_more.html",
        {
            "column": page,
            "can_edit": _can_edit(request),
            "filter_qs": urlencode(query.as_params(board=True), doseq=True),
        },
    )


@workspace_view(S, Action.EDIT)
@require_POST
def deal_move(request: WorkspaceRequest, deal_id: int) -> HttpResponse:
    """Move a deal to a stage (a drop on the board, or the form on the deal page).

    For htmx the answer is the refreshed column totals and card (out of band), or the refusal's message
    with its status (422, 409) so the board puts the card back. Otherwise a redirect with a message.
    """
    deal = selectors.deal_get(workspace=request.workspace, viewer=request.membership, deal_id=deal_id)
    try:
        stage = _stage_from(request, request.POST.get("stage", ""))
        version = int(request.POST.get("version", ""))
    except ValueError:
        return _refused(request, deal, ValidationFailed(_("Choose a stage.")))
    except Stage.DoesNotExist:
        return _refused(request, deal, ValidationFailed(_("Unknown stage.")))
    position: int | None = None
    if "after" in request.POST:
        after_id = request.POST["after"]
        after = (
            selectors.deal_scope(workspace=request.workspace, viewer=request.membership)
            .filter(pk=int(after_id))
            .first()
            if after_id.isdigit()
            else None
        )
        position = selectors.column_index_after(
            workspace=request.workspace, stage=stage, after=after, moving=deal
        )
    try:
        deal = services.deal_move_stage(
            workspace=request.workspace,
            actor=request.user,
            deal=deal,
            stage=stage,
            position=position,
            expected_version=version,
            lost_reason=request.POST.get("lost_reason"),
        )
    except ApplicationError as exc:
        return _refused(request, deal, exc)
    if not request.htmx:
        messages.success(
            request, _("%(deal)s is now in %(stage)s.") % {"deal": deal.title, "stage": stage.name}
        )
        return redirect("sales:deal_detail", deal_id=deal.pk)
    query = _query(request)
    columns = selectors.board_totals(
        workspace=request.workspace, viewer=request.membership, pipeline=deal.pipeline, query=query
    )
    return render(
        request,
        "sales/partials/move_result.html",
        {
            "columns": columns,
            "summary": selectors.summarize(columns),
            "deal": deal,
            "currency": request.workspace.default_currency,
        },
    )


def _stage_from(request: WorkspaceRequest, value: str) -> Stage:
    return selectors.stage_get(workspace=request.workspace, stage_id=int(value))


def _refused(request: WorkspaceRequest, deal: Deal, exc: ApplicationError) -> HttpResponse:
    if request.htmx:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")
    messages.error(request, exc.message)
    return redirect("sales:deal_detail", deal_id=deal.pk)


# --- list, deal page, forms -----------------------------------------------------------------------


@workspace_view(S)
def deal_list(request: WorkspaceRequest) -> HttpResponse:
    """Every deal the member may see, with the board's filters plus pipeline, stage and status."""
    query = _query(request)
    try:
        page = selectors.deal_list(workspace=request.workspace, viewer=request.membership, query=query)
    except ValidationFailed as exc:  # a stale or forged cursor
        messages.error(request, exc.message)
        query.cursor = ""
        page = selectors.deal_list(workspace=request.workspace, viewer=request.membership, query=query)
    params = query.as_params()
    pipelines = list(selectors.pipeline_list(workspace=request.workspace))
    context = {
        **_filter_context(request, query),
        "page": page,
        "pipelines": pipelines,
        "stages": list(
            Stage.objects.filter(workspace=request.workspace, pipeline__in=pipelines, retired_at__isnull=True)
            .select_related("pipeline")
            .order_by("pipeline__position", "pipeline_id", "position")
        ),
        "statuses": StageKind.choices,
        "next_url": "?" + urlencode({**params, "cursor": page.next_cursor}, doseq=True)
        if page.next_cursor
        else None,
        "filter_qs": urlencode(query.as_params(board=True), doseq=True),
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "sales/partials/deal_rows.html", context)
    if request.htmx and request.htmx.target == "deal-results":
        return render(request, "sales/partials/deal_results.html", context)
    return render(request, "sales/pages/deal_list.html", context)


@workspace_view(S)
def deal_detail(request: WorkspaceRequest, deal_id: int) -> HttpResponse:
    """A deal: its facts, its stage history with time in each stage, and its timeline."""
    deal = selectors.deal_get(workspace=request.workspace, viewer=request.membership, deal_id=deal_id)
    timeline = selectors.deal_timeline(
        workspace=request.workspace, deal=deal, cursor=request.GET.get("cursor", "")
    )
    context = {
        "deal": deal,
        "timeline": timeline,
        "can_edit": _can_edit(request),
        "weighted": selectors.weigh(deal.amount, deal.stage.probability),
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "sales/partials/deal_timeline.html", context)
    stages = list(selectors.stage_list(pipeline=deal.pipeline))
    context.update(
        history=selectors.deal_stage_history(workspace=request.workspace, deal=deal),
        stages=stages,
        steps=[(stage, _step_state(deal, stage)) for stage in stages],
    )
    return render(request, "sales/pages/deal_detail.html", context)


def _step_state(deal: Deal, stage: Stage) -> str:
    """How the stepper shows a stage: the current one, the open ones already passed, or neither."""
    if stage.pk == deal.stage_id:
        return "current"
    passed = deal.stage.kind == StageKind.WON or (
        deal.stage.kind == StageKind.OPEN and stage.position < deal.stage.position
    )
    return "done" if passed and stage.kind == StageKind.OPEN else ""


def _form(
    request: WorkspaceRequest, instance: Deal | None = None, initial: dict[str, Any] | None = None
) -> DealForm:
    pipelines = list(selectors.pipeline_list(workspace=request.workspace))
    stages = list(
        Stage.objects.filter(
            workspace=request.workspace, pipeline__in=pipelines, retired_at__isnull=True
        ).order_by("position", "id")
    )
    kwargs: dict[str, Any] = {}
    if instance is None:
        kwargs["initial"] = {"owner": str(request.user.pk), **(initial or {})}
    return DealForm(
        request.POST or None,
        workspace=request.workspace,
        pipelines=pipelines,
        stages=stages,
        instance=instance,
        can_assign=selectors.sees_all_deals(request.membership),
        **kwargs,
    )


def _form_page(
    request: WorkspaceRequest,
    form: DealForm,
    save: Any,
    *,
    title: str,
    record: Person | Company | None = None,
) -> HttpResponse:
    """Render the form, or hand it to ``save`` and go to the deal; service errors land on the fields."""
    if request.method == "POST" and form.is_valid():
        try:
            deal = save(form)
        except ValidationFailed as exc:
            form.add_service_errors(exc.fields, exc.message)
        except ApplicationError as exc:  # a conflict: someone saved first
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("%(deal)s saved.") % {"deal": deal.title})
            return redirect("sales:deal_detail", deal_id=deal.pk)
    return render(
        request,
        "sales/pages/deal_form.html",
        {
            "form": form,
            "deal": form.instance,
            "title": title,
            "record": record,
            "fixed": "" if record is None else "person" if isinstance(record, Person) else "company",
        },
        status=422 if form.errors else 200,
    )


@workspace_view(S, Action.EDIT)
@require_http_methods(["GET", "POST"])
def deal_create(request: WorkspaceRequest) -> HttpResponse:
    """A new deal, optionally for ``?person=``/``?company=`` and in ``?stage=``."""
    initial = {name: request.GET.get(name, "") for name in ("person", "company", "stage", "title")}
    person_id = initial["person"]
    if person_id.isdigit() and not initial["company"]:
        person = Person.objects.filter(workspace=request.workspace, pk=int(person_id)).first()
        initial["company"] = str(person.company_id or "") if person else ""
    form = _form(request, initial=initial)

    def save(form: DealForm) -> Deal:
        return services.deal_create(
            workspace=request.workspace, actor=request.user, attributes=form.attributes()
        )

    return _form_page(request, form, save, title=_("New deal"))


@workspace_view(S, Action.EDIT)
@require_http_methods(["GET", "POST"])
def deal_edit(request: WorkspaceRequest, deal_id: int) -> HttpResponse:
    deal = selectors.deal_get(workspace=request.workspace, viewer=request.membership, deal_id=deal_id)
    form = _form(request, instance=deal)

    def save(form: DealForm) -> Deal:
        return services.deal_update(
            workspace=request.workspace,
            actor=request.user,
            deal=deal,
            attributes=form.attributes(),
            expected_version=form.cleaned_data.get("version") or 0,
        )

    return _form_page(request, form, save, title=_("Edit %(deal)s") % {"deal": deal.title})


def _qualify(request: WorkspaceRequest, record: Person | Company) -> HttpResponse:
    key = "person" if isinstance(record, Person) else "company"
    initial = {key: str(record.pk), "title": str(record), "source": record.source_channel}
    if isinstance(record, Person) and record.company_id:
        initial["company"] = str(record.company_id)
    form = _form(request, initial=initial)

    def save(form: DealForm) -> Deal:
        attributes = form.attributes()
        attributes.pop(key, None)
        return services.lead_qualify(
            workspace=request.workspace, actor=request.user, record=record, attributes=attributes
        )

    return _form_page(request, form, save, title=_("Qualify %(name)s") % {"name": record}, record=record)


@workspace_view(S, Action.EDIT)
@require_http_methods(["GET", "POST"])
def qualify_person(request: WorkspaceRequest, person_id: int) -> HttpResponse:
    """Qualify a lead: open a deal for them; they become an opportunity."""
    return _qualify(request, Person.objects.get(workspace=request.workspace, pk=person_id))


@workspace_view(S, Action.EDIT)
@require_http_methods(["GET", "POST"])
def qualify_company(request: WorkspaceRequest, company_id: int) -> HttpResponse:
    return _qualify(request, Company.objects.get(workspace=request.workspace, pk=company_id))


@workspace_view(S)
def customer_options(request: WorkspaceRequest) -> HttpResponse:
    """``<option>``s of the people or companies matching ``q``, for the deal form's customer pickers."""
    from clientela.contacts.selectors import ListQuery, customer_list

    entity = "company" if request.GET.get("entity") == "company" else "person"
    q = request.GET.get("q", "").strip()
    items: list[Any] = []
    if q:
        items = customer_list(
            workspace=request.workspace, user=request.user, query=ListQuery(entity=entity, q=q, page_size=20)
        ).items
    return render(request, "sales/partials/customer_options.html", {"items": items, "q": q})


# --- forecast -------------------------------------------------------------------------------------


@workspace_view(S)
def forecast(request: WorkspaceRequest) -> HttpResponse:
    """The weighted pipeline by expected close month, per owner and per pipeline, with a chart."""
    query = _query(request)
    months = request.GET.get("months", "6")
    months_count = int(months) if months.isdigit() and 1 <= int(months) <= 24 else 6
    result = selectors.forecast(
        workspace=request.workspace, viewer=request.membership, query=query, months=months_count
    )
    currency = (
        request.workspace.default_currency
        if request.workspace.default_currency in result.currencies or not result.currencies
        else result.currencies[0]
    )
    chart = {
        "labels": [date_format(m, "YEAR_MONTH_FORMAT") for m in result.months],
        "currency": currency,
        "datasets": [
            {"label": row.label, "data": [str(c.weighted) for c in row.cells]}
            for row in result.by_owner
            if row.currency == currency
        ],
    }
    return render(
        request,
        "sales/pages/forecast.html",
        {
            **_filter_context(request, query),
            "forecast": result,
            "months": months_count,
            "pipelines": selectors.pipeline_list(workspace=request.workspace),
            "month_rows": [
                (month, [(row.currency, row.cells[i]) for row in result.totals])
                for i, month in enumerate(result.months)
            ],
            "tables": [
                (_("Weighted per owner"), result.by_owner, "forecast-owners"),
                (_("Weighted per pipeline"), result.by_pipeline, "forecast-pipelines"),
            ],
            "chart": chart,
            "chart_currency": currency,
        },
    )


# --- pipeline settings ----------------------------------------------------------------------------


@workspace_view(Module.SETTINGS)
def pipeline_settings(request: WorkspaceRequest) -> HttpResponse:
    """Pipelines and their stages: add, rename, reorder, retire (admins; managers may look)."""
    pipelines = list(selectors.pipeline_list(workspace=request.workspace))
    pipeline_id = request.GET.get("pipeline", "")
    pipeline = selectors.pipeline_get(
        workspace=request.workspace, pipeline_id=int(pipeline_id) if pipeline_id.isdigit() else None
    )
    stages = list(selectors.stage_list(pipeline=pipeline, include_retired=True))
    counts = dict(
        Deal.objects.filter(workspace=request.workspace, pipeline=pipeline)
        .values_list("stage_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    active_kinds = [s.kind for s in stages if s.retired_at is None]
    for stage in stages:
        stage.deal_count = counts.get(stage.pk, 0)  # type: ignore[attr-defined]
        # the last open, won or lost stage stays (the service refuses it too)
        stage.can_retire = active_kinds.count(stage.kind) > 1  # type: ignore[attr-defined]
    return render(
        request,
        "sales/pages/pipelines.html",
        {
            "pipelines": pipelines,
            "pipeline": pipeline,
            "stages": stages,
            "active_stages": [s for s in stages if s.retired_at is None],
            "kinds": StageKind.choices,
            "stage_form": StageForm(),
            "pipeline_form": PipelineForm(),
            "can_edit": role_allows(request.membership.role, Module.SETTINGS, Action.EDIT),
        },
    )


def _settings_redirect(pipeline: Pipeline) -> HttpResponse:
    return redirect(reverse("sales:pipeline_settings") + f"?pipeline={pipeline.pk}")


def _settings_action(request: WorkspaceRequest, pipeline: Pipeline, action: Any, done: str) -> HttpResponse:
    try:
        action()
    except ValidationFailed as exc:
        details = " ".join(m for msgs in exc.fields.values() for m in msgs if m not in exc.message)
        messages.error(request, f"{exc.message} {details}".strip())
    else:
        messages.success(request, done)
    return _settings_redirect(pipeline)


@workspace_view(Module.SETTINGS, Action.EDIT)
@require_POST
def pipeline_create(request: WorkspaceRequest) -> HttpResponse:
    try:
        pipeline = services.pipeline_create(
            workspace=request.workspace, actor=request.user, name=request.POST.get("name", "")
        )
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        return redirect("sales:pipeline_settings")
    messages.success(request, _("Pipeline %(name)s created.") % {"name": pipeline.name})
    return _settings_redirect(pipeline)


@workspace_view(Module.SETTINGS, Action.EDIT)
@require_POST
def pipeline_update(request: WorkspaceRequest, pipeline_id: int) -> HttpResponse:
    pipeline = Pipeline.objects.get(workspace=request.workspace, pk=pipeline_id)
    return _settings_action(
        request,
        pipeline,
        lambda: services.pipeline_update(
            pipeline=pipeline,
            actor=request.user,
            name=request.POST.get("name") or None,
            is_default=True if request.POST.get("is_default") else None,
        ),
        _("Pipeline saved."),
    )


@workspace_view(Module.SETTINGS, Action.EDIT)
@require_POST
def stage_add(request: WorkspaceRequest, pipeline_id: int) -> HttpResponse:
    pipeline = Pipeline.objects.get(workspace=request.workspace, pk=pipeline_id)
    return _settings_action(
        request,
        pipeline,
        lambda: services.stage_add(
            pipeline=pipeline,
            actor=request.user,
            name=request.POST.get("name", ""),
            probability=request.POST.get("probability", "0"),
            kind=request.POST.get("kind", StageKind.OPEN),
        ),
        _("Stage added."),
    )


@workspace_view(Module.SETTINGS, Action.EDIT)
@require_POST
def stage_reorder(request: WorkspaceRequest, pipeline_id: int) -> HttpResponse:
    pipeline = Pipeline.objects.get(workspace=request.workspace, pk=pipeline_id)
    ids = [int(i) for i in request.POST.getlist("order") if i.isdigit()]
    return _settings_action(
        request,
        pipeline,
        lambda: services.stage_reorder(pipeline=pipeline, actor=request.user, stage_ids=ids),
        _("Stage order saved."),
    )


@workspace_view(Module.SETTINGS, Action.EDIT)
@require_POST
def stage_update(request: WorkspaceRequest, stage_id: int) -> HttpResponse:
    stage = selectors.stage_get(workspace=request.workspace, stage_id=stage_id)
    return _settings_action(
        request,
        stage.pipeline,
        lambda: services.stage_update(
            stage=stage,
            actor=request.user,
            name=request.POST.get("name"),
            probability=request.POST.get("probability"),
            kind=request.POST.get("kind"),
        ),
        _("Stage saved."),
    )


@workspace_view(Module.SETTINGS, Action.EDIT)
@require_POST
def stage_retire(request: WorkspaceRequest, stage_id: int) -> HttpResponse:
    stage = selectors.stage_get(workspace=request.workspace, stage_id=stage_id)
    move_to_id = request.POST.get("move_to", "")
    move_to = (
        Stage.objects.filter(workspace=request.workspace, pk=int(move_to_id)).first()
        if move_to_id.isdigit()
        else None
    )
    return _settings_action(
        request,
        stage.pipeline,
        lambda: services.stage_retire(stage=stage, actor=request.user, move_to=move_to),
        _("Stage %(name)s retired; its history is kept.") % {"name": stage.name},
    )


@workspace_view(Module.SETTINGS, Action.EDIT)
@require_POST
def stage_restore(request: WorkspaceRequest, stage_id: int) -> HttpResponse:
    stage = selectors.stage_get(workspace=request.workspace, stage_id=stage_id)
    return _settings_action(
        request,
        stage.pipeline,
        lambda: services.stage_restore(stage=stage, actor=request.user),
        _("Stage %(name)s is back on the board.") % {"name": stage.name},
    )
