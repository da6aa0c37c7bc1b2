"""Isolation cases for customer imports and exports, pages and API (see core/testing/isolation.py)."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from clientela.contacts import importing
from clientela.contacts.models import Import, ImportStatus
from clientela.core.tenancy import workspace_scope
from clientela.core.testing.isolation import RouteCase, register
from clientela.workspaces.models import Workspace
from clientela.workspaces.roles import Action, Module

CSV = b"First name,Last name,Email\nIsolda,Leak,isolda@leak.test\nBad,Row,not-an-email\n"
MAPPING = {"First name": "first_name", "Last name": "last_name", "Email": "email"}


def make_import(workspace: Workspace, actor: Any = None, status: str = ImportStatus.UPLOADED) -> Import:
    """An uploaded import of a small CSV in ``workspace`` (with a stored problem, for the error file)."""
    with workspace_scope(workspace):
        imported = importing.import_upload(
            workspace=workspace,
            actor=getattr(actor, "user", None),
            uploaded_file=SimpleUploadedFile("leak.csv", CSV),
            entity="person",
        )
    errors = [{"row": 3, "column": "Email", "message": "not-an-email is not valid.", "value": "not-an-email"}]
    Import.all_workspaces.filter(pk=imported.pk).update(status=status, errors=errors, failed_count=1)
    return imported


def _uploaded(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"import_id": make_import(workspace, actor).pk}


def _done(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"import_id": make_import(workspace, actor, ImportStatus.DONE).pk}


VIEW, EDIT = Action.VIEW, Action.EDIT
C = Module.CONTACTS

register(
    # pages
    RouteCase("contacts:import_list", module=C),
    RouteCase("contacts:import_upload", module=C, action=EDIT),
    RouteCase("contacts:import_detail", _done, module=C),
    RouteCase(
        "contacts:import_mapping",
        _uploaded,
        methods=("GET", "POST"),
        module=C,
        action=EDIT,
        body={"column_0": "first_name", "column_1": "last_name"},
    ),
    RouteCase("contacts:import_start", _uploaded, methods=("POST",), module=C, action=EDIT),
    RouteCase("contacts:import_undo", _done, methods=("POST",), module=C, action=EDIT),
    RouteCase("contacts:import_errors", _done, module=C),
    # API
    RouteCase("GET /import-fields", module=C),
    RouteCase("GET /imports", module=C),
    RouteCase("POST /imports", methods=("POST",), module=C, action=EDIT),
    RouteCase("GET /imports/{import_id}", _done, module=C),
    RouteCase(
        "PATCH /imports/{import_id}",
        _uploaded,
        methods=("PATCH",),
        module=C,
        action=EDIT,
        body={"delimiter": ","},
    ),
    RouteCase(
        "POST /imports/{import_id}/preview",
        _uploaded,
        methods=("POST",),
        module=C,
        action=EDIT,
        body={"mapping": MAPPING},
    ),
    RouteCase(
        "POST /imports/{import_id}/start",
        _uploaded,
        methods=("POST",),
        module=C,
        action=EDIT,
        body={"mapping": MAPPING, "valid_rows_only": True},
    ),
    RouteCase("POST /imports/{import_id}/undo", _done, methods=("POST",), module=C, action=EDIT),
    RouteCase("GET /imports/{import_id}/errors.csv", _done, module=C),
    RouteCase("GET /exports/people.csv", module=C),
    RouteCase("GET /exports/people.xlsx", module=C),
    RouteCase("GET /exports/people.vcf", module=C),
    RouteCase("GET /exports/companies.csv", module=C),
    RouteCase("GET /exports/companies.xlsx", module=C),
)
