"""Isolation cases for customer dedupe, merge and privacy routes (see core/testing/isolation.py).

A merge case makes two records in the workspace; its static API body names no other record, so a
role that may merge gets 404 (the other id does not exist), one that may not gets 403.
"""

from __future__ import annotations

from typing import Any

from clientela.contacts.isolation import make_company, make_person
from clientela.core.testing.isolation import RouteCase, register
from clientela.workspaces.models import Workspace
from clientela.workspaces.roles import Action, Module


def _person(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"person_id": make_person(workspace).pk}


def _company(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"company_id": make_company(workspace).pk}


def _two_people(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"person_id": make_person(workspace).pk, "other_id": make_person(workspace).pk}


def _two_companies(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"company_id": make_company(workspace).pk, "other_id": make_company(workspace).pk}


C, S, EDIT = Module.CONTACTS, Module.SETTINGS, Action.EDIT
MERGE_BODY = {"other_id": 0, "choices": {}}

register(
    # pages
    RouteCase("contacts:duplicates", module=C, action=EDIT),
    RouteCase("contacts:duplicates_check", module=C, action=EDIT),
    RouteCase("contacts:person_merge", _two_people, methods=("GET", "POST"), module=C, action=EDIT),
    RouteCase("contacts:company_merge", _two_companies, methods=("GET", "POST"), module=C, action=EDIT),
    RouteCase("contacts:person_privacy", _person, module=S, action=EDIT),
    RouteCase("contacts:person_privacy_export", _person, module=S, action=EDIT),
    RouteCase("contacts:person_erase", _person, methods=("POST",), module=S, action=EDIT),
    # API
    RouteCase("GET /duplicates", module=C, action=EDIT),
    RouteCase(
        "POST /people/duplicates-check", methods=("POST",), module=C, action=EDIT, body={"last_name": "Leak"}
    ),
    RouteCase(
        "POST /companies/duplicates-check", methods=("POST",), module=C, action=EDIT, body={"name": "Leaky"}
    ),
    RouteCase(
        "POST /people/{person_id}/merge", _person, methods=("POST",), module=C, action=EDIT, body=MERGE_BODY
    ),
    RouteCase(
        "POST /companies/{company_id}/merge",
        _company,
        methods=("POST",),
        module=C,
        action=EDIT,
        body=MERGE_BODY,
    ),
    RouteCase("GET /people/{person_id}/privacy-export", _person, module=S, action=EDIT),
    RouteCase("POST /people/{person_id}/erase", _person, methods=("POST",), module=S, action=EDIT),
)
