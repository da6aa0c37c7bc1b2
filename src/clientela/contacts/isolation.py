"""Isolation cases for customers' pages and API routes (see core/testing/isolation.py)."""

from __future__ import annotations

from typing import Any

from clientela.contacts.models import Company, CustomField, Person
from clientela.core.testing.isolation import RouteCase, register
from clientela.timeline.services import interaction_record
from clientela.workspaces.models import Workspace
from clientela.workspaces.roles import Action, Module


def make_person(workspace: Workspace, actor: Any = None) -> Person:
    person = Person(first_name="Isolda", last_name="Leak")
    person.workspace = workspace
    person.save()
    interaction_record(workspace=workspace, kind="note", person=person, subject="secret note")
    return person


def make_company(workspace: Workspace, actor: Any = None) -> Company:
    company = Company(name="Leaky Srl")
    company.workspace = workspace
    company.save()
    return company


def _person(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"person_id": make_person(workspace).pk}


def _trashed_person(workspace: Workspace, actor: Any) -> dict[str, Any]:
    from django.utils import timezone

    person = make_person(workspace)
    Person.all_workspaces.filter(pk=person.pk).update(deleted_at=timezone.now())
    return {"person_id": person.pk}


def _company(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"company_id": make_company(workspace).pk}


def _trashed_company(workspace: Workspace, actor: Any) -> dict[str, Any]:
    from django.utils import timezone

    company = make_company(workspace)
    Company.all_workspaces.filter(pk=company.pk).update(deleted_at=timezone.now())
    return {"company_id": company.pk}


def _field(workspace: Workspace, actor: Any) -> dict[str, Any]:
    field = CustomField(entity="person", key=f"k{CustomField.all_workspaces.count()}", label="K", type="text")
    field.workspace = workspace
    field.save()
    return {"field_id": field.pk}


VIEW, EDIT = Action.VIEW, Action.EDIT
C, S = Module.CONTACTS, Module.SETTINGS


def _view(workspace: Workspace, actor: Any) -> dict[str, Any]:
    from clientela.contacts.models import SavedView

    view = SavedView(entity="person", name="Mine", owner=actor.user, query={})
    view.workspace = workspace
    view.save()
    return {"view_id": view.pk}


def _cell(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"person_id": make_person(workspace).pk, "field": "job_title"}


register(
    # pages
    RouteCase("contacts:person_list", module=C),
    RouteCase("contacts:company_list", module=C),
    RouteCase("contacts:person_create", module=C, action=EDIT),
    RouteCase("contacts:company_create", module=C, action=EDIT),
    RouteCase("contacts:person_card", _person, module=C),
    RouteCase("contacts:person_edit", _person, module=C, action=EDIT),
    RouteCase("contacts:person_timeline", _person, module=C),
    RouteCase(
        "contacts:person_log",
        _person,
        methods=("POST",),
        module=C,
        action=EDIT,
        body={"kind": "note", "subject": "x"},
    ),
    RouteCase("contacts:person_cell", _cell, module=C, action=EDIT),
    RouteCase(
        "contacts:person_consent",
        _person,
        methods=("POST",),
        module=C,
        action=EDIT,
        body={"channel": "email", "granted": "1", "source": "x"},
    ),
    RouteCase("contacts:person_bulk", methods=("POST",), module=C, action=EDIT, body={"action": "tag"}),
    RouteCase("contacts:company_card", _company, module=C),
    RouteCase("contacts:company_edit", _company, module=C, action=EDIT),
    RouteCase("contacts:company_timeline", _company, module=C),
    RouteCase(
        "contacts:company_log",
        _company,
        methods=("POST",),
        module=C,
        action=EDIT,
        body={"kind": "note", "subject": "x"},
    ),
    RouteCase("contacts:company_bulk", methods=("POST",), module=C, action=EDIT, body={"action": "tag"}),
    RouteCase("contacts:person_export", lambda ws, actor: {"fmt": "csv"}, cross_workspace=False),
    RouteCase("contacts:trash", module=C),
    RouteCase("contacts:search", module=C),
    RouteCase(
        "contacts:saved_view_create", methods=("POST",), module=C, body={"name": "x", "entity": "person"}
    ),
    RouteCase("contacts:saved_view_delete", _view, methods=("POST",), module=C),
    RouteCase("contacts:custom_fields", module=S),
    RouteCase("contacts:custom_field_archive", _field, methods=("POST",), module=S, action=EDIT),
    # API
    RouteCase("GET /people", module=C),
    RouteCase("POST /people", methods=("POST",), module=C, action=EDIT, body={"last_name": "Role"}),
    RouteCase("GET /people/{person_id}", _person, module=C),
    RouteCase(
        "PATCH /people/{person_id}",
        _person,
        methods=("PATCH",),
        module=C,
        action=EDIT,
        body={"job_title": "changed"},
    ),
    RouteCase("DELETE /people/{person_id}", _person, methods=("DELETE",), module=C, action=EDIT),
    RouteCase("POST /people/{person_id}/restore", _trashed_person, methods=("POST",), module=C, action=EDIT),
    RouteCase("GET /people/{person_id}/timeline", _person, module=C),
    RouteCase("GET /people/{person_id}/consents", _person, module=C),
    RouteCase(
        "POST /people/{person_id}/consents",
        _person,
        methods=("POST",),
        module=C,
        action=EDIT,
        body={"channel": "sms", "granted": True, "source": "x"},
    ),
    RouteCase(
        "POST /people/{person_id}/interactions",
        _person,
        methods=("POST",),
        module=C,
        action=EDIT,
        body={"kind": "note", "subject": "x"},
    ),
    RouteCase(
        "POST /people/bulk", methods=("POST",), module=C, action=EDIT, body={"action": "tag", "ids": []}
    ),
    RouteCase("GET /companies", module=C),
    RouteCase("POST /companies", methods=("POST",), module=C, action=EDIT, body={"name": "Role Srl"}),
    RouteCase("GET /companies/{company_id}", _company, module=C),
    RouteCase(
        "PATCH /companies/{company_id}",
        _company,
        methods=("PATCH",),
        module=C,
        action=EDIT,
        body={"industry": "x"},
    ),
    RouteCase("DELETE /companies/{company_id}", _company, methods=("DELETE",), module=C, action=EDIT),
    RouteCase("GET /companies/{company_id}/timeline", _company, module=C),
    RouteCase(
        "POST /companies/{company_id}/restore", _trashed_company, methods=("POST",), module=C, action=EDIT
    ),
    RouteCase(
        "POST /companies/bulk", methods=("POST",), module=C, action=EDIT, body={"action": "tag", "ids": []}
    ),
    RouteCase("GET /search", module=C),
    RouteCase("GET /tags", module=C),
    RouteCase("GET /custom-fields", module=C),
    RouteCase(
        "POST /custom-fields",
        methods=("POST",),
        module=S,
        action=EDIT,
        body={"entity": "person", "label": "Shoe size", "type": "number"},
    ),
    RouteCase(
        "PATCH /custom-fields/{field_id}",
        _field,
        methods=("PATCH",),
        module=S,
        action=EDIT,
        body={"label": "Renamed"},
    ),
    RouteCase("DELETE /custom-fields/{field_id}", _field, methods=("DELETE",), module=S, action=EDIT),
)

# The import/export and dedupe/merge routes register their cases in their own modules.
from clientela.contacts import isolation_dedupe, isolation_imports  # noqa: E402, F401
