"""Isolation cases for sales pages and API routes (see core/testing/isolation.py).

Records are made in the member's workspace and owned by the member, so a role that sees only its own
deals (sales) still reaches them: a 403 can only come from the role matrix, a 404 only from isolation.
"""

from __future__ import annotations

from typing import Any

from clientela.contacts.models import Company, Person
from clientela.core.tenancy import workspace_scope
from clientela.core.testing.isolation import RouteCase, register
from clientela.sales import services
from clientela.sales.models import Deal, Stage, StageKind
from clientela.workspaces.models import Workspace
from clientela.workspaces.roles import Action, Module

VIEW, EDIT = Action.VIEW, Action.EDIT
S, SETTINGS = Module.SALES, Module.SETTINGS


def make_deal(workspace: Workspace, member: Any) -> Deal:
    with workspace_scope(workspace):
        person = Person(first_name="Dora", last_name="Deal", lifecycle_stage="lead")
        person.workspace = workspace
        person.save()
        return services.deal_create(
            workspace=workspace,
            actor=member.user,
            attributes={"title": "Leaky deal", "person": person, "amount": "100"},
        )


def _deal(workspace: Workspace, member: Any) -> dict[str, Any]:
    return {"deal_id": make_deal(workspace, member).pk}


def _pipeline(workspace: Workspace, member: Any) -> dict[str, Any]:
    with workspace_scope(workspace):
        return {"pipeline_id": services.pipeline_ensure_default(workspace=workspace).pk}


def _stage(workspace: Workspace, member: Any) -> dict[str, Any]:
    """A fresh open stage each time (retiring it leaves the pipeline's other open stages)."""
    with workspace_scope(workspace):
        pipeline = services.pipeline_ensure_default(workspace=workspace)
        count = Stage.all_workspaces.filter(pipeline=pipeline).count()
        stage = services.stage_add(
            pipeline=pipeline, actor=None, name=f"Isolation {count}", probability=30, kind=StageKind.OPEN
        )
        return {"stage_id": stage.pk}


def _person(workspace: Workspace, member: Any) -> dict[str, Any]:
    person = Person(first_name="Lena", last_name="Lead", lifecycle_stage="lead")
    person.workspace = workspace
    person.save()
    return {"person_id": person.pk}


def _company(workspace: Workspace, member: Any) -> dict[str, Any]:
    company = Company(name="Lead Srl")
    company.workspace = workspace
    company.save()
    return {"company_id": company.pk}


register(
    # pages
    RouteCase("sales:board", module=S),
    RouteCase("sales:column", _stage, module=S),
    RouteCase("sales:deal_list", module=S),
    RouteCase("sales:deal_create", module=S, action=EDIT),
    RouteCase("sales:customer_options", module=S),
    RouteCase("sales:deal_detail", _deal, module=S),
    RouteCase("sales:deal_edit", _deal, module=S, action=EDIT),
    RouteCase(
        "sales:deal_move", _deal, methods=("POST",), module=S, action=EDIT, body={"stage": "", "version": "1"}
    ),
    RouteCase("sales:qualify_person", _person, module=S, action=EDIT),
    RouteCase("sales:qualify_company", _company, module=S, action=EDIT),
    RouteCase("sales:forecast", module=S),
    RouteCase("sales:pipeline_settings", module=SETTINGS),
    RouteCase("sales:pipeline_create", methods=("POST",), module=SETTINGS, action=EDIT, body={"name": ""}),
    RouteCase("sales:pipeline_update", _pipeline, methods=("POST",), module=SETTINGS, action=EDIT),
    RouteCase(
        "sales:stage_add", _pipeline, methods=("POST",), module=SETTINGS, action=EDIT, body={"name": ""}
    ),
    RouteCase("sales:stage_reorder", _pipeline, methods=("POST",), module=SETTINGS, action=EDIT),
    RouteCase("sales:stage_update", _stage, methods=("POST",), module=SETTINGS, action=EDIT),
    RouteCase("sales:stage_retire", _stage, methods=("POST",), module=SETTINGS, action=EDIT),
    RouteCase("sales:stage_restore", _stage, methods=("POST",), module=SETTINGS, action=EDIT),
    # API
    RouteCase("GET /pipelines", module=S),
    RouteCase(
        "POST /pipelines",
        methods=("POST",),
        module=SETTINGS,
        action=EDIT,
        body={"name": "Isolation pipeline"},
    ),
    RouteCase(
        "PATCH /pipelines/{pipeline_id}",
        _pipeline,
        methods=("PATCH",),
        module=SETTINGS,
        action=EDIT,
        body={"is_default": True},
    ),
    RouteCase(
        "POST /pipelines/{pipeline_id}/stages",
        _pipeline,
        methods=("POST",),
        module=SETTINGS,
        action=EDIT,
        body={"name": "Isolation stage", "probability": 30},
    ),
    RouteCase(
        "POST /pipelines/{pipeline_id}/stages/reorder",
        _pipeline,
        methods=("POST",),
        module=SETTINGS,
        action=EDIT,
        body={"stages": []},
    ),
    RouteCase(
        "PATCH /stages/{stage_id}",
        _stage,
        methods=("PATCH",),
        module=SETTINGS,
        action=EDIT,
        body={"name": "Renamed"},
    ),
    RouteCase("POST /stages/{stage_id}/retire", _stage, methods=("POST",), module=SETTINGS, action=EDIT),
    RouteCase("POST /stages/{stage_id}/restore", _stage, methods=("POST",), module=SETTINGS, action=EDIT),
    RouteCase("GET /deals", module=S),
    RouteCase("POST /deals", methods=("POST",), module=S, action=EDIT, body={"title": "Isolation deal"}),
    RouteCase("POST /leads/qualify", methods=("POST",), module=S, action=EDIT, body={"person": 0}),
    RouteCase("GET /deals/{deal_id}", _deal, module=S),
    RouteCase(
        "PATCH /deals/{deal_id}",
        _deal,
        methods=("PATCH",),
        module=S,
        action=EDIT,
        body={"version": 1, "notes": "changed"},
    ),
    RouteCase(
        "POST /deals/{deal_id}/move",
        _deal,
        methods=("POST",),
        module=S,
        action=EDIT,
        body={"stage": 0, "version": 1},
    ),
    RouteCase("GET /deals/{deal_id}/history", _deal, module=S),
    RouteCase("GET /forecast", module=S),
)
