"""Pages for imports: the list, the upload, the mapping with its live preview, progress and report.

The mapping page posts every change to itself (htmx) and gets back the columns and the preview; the
detail page polls itself (htmx, every second) while the import runs and turns into the report when
it ends.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clientela.contacts import exporting, importing
from clientela.contacts.models import Import, ImportStatus
from clientela.core.errors import ApplicationError, ValidationFailed
from clientela.workspaces.http import WorkspaceRequest
from clientela.workspaces.permissions import workspace_view
from clientela.workspaces.roles import Action, Module, role_allows

C = Module.CONTACTS
TERMINAL = (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.UNDONE)
ERRORS_SHOWN = 100


def _can_edit(request: WorkspaceRequest) -> bool:
    return role_allows(request.membership.role, C, Action.EDIT)


@workspace_view(C)
def import_list(request: WorkspaceRequest) -> HttpResponse:
    return render(
        request,
        "contacts/imports/list.html",
        {"imports": importing.import_list(workspace=request.workspace), "can_edit": _can_edit(request)},
    )


@workspace_view(C, Action.EDIT)
@require_http_methods(["GET", "POST"])
def import_upload(request: WorkspaceRequest) -> HttpResponse:
    limit = importing.max_upload_bytes()
    entity = request.POST.get("entity", request.GET.get("entity", "person"))
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("Choose a file to upload.")
        else:
            try:
                created = importing.import_upload(
                    workspace=request.workspace, actor=request.user, uploaded_file=upload, entity=entity
                )
            except ApplicationError as exc:
                error = exc.message
            else:
                return redirect("contacts:import_mapping", import_id=created.pk)
    return render(
        request,
        "contacts/imports/upload.html",
        {"error": error, "entity": entity, "limit": limit // (1024 * 1024)},
        status=422 if error else 200,
    )


@workspace_view(C)
def import_detail(request: WorkspaceRequest, import_id: int) -> HttpResponse:
    """Progress while the import runs (polled by htmx), then its report."""
    imported = importing.import_get(workspace=request.workspace, import_id=import_id)
    can_edit = _can_edit(request)
    if imported.status == ImportStatus.UPLOADED and can_edit and not request.htmx:
        return redirect("contacts:import_mapping", import_id=imported.pk)
    context = _status_context(imported, can_edit)
    if request.htmx:
        return render(request, "contacts/imports/partials/status.html", context)
    return render(request, "contacts/imports/detail.html", context)


@workspace_view(C, Action.EDIT)
@require_http_methods(["GET", "POST"])
def import_mapping(request: WorkspaceRequest, import_id: int) -> HttpResponse:
    """Columns to fields, duplicates policy, and the preview of the first rows (re-rendered on change)."""
    imported = importing.import_get(workspace=request.workspace, import_id=import_id)
    if not _can_map(imported):
        return redirect("contacts:import_detail", import_id=imported.pk)
    if request.method == "POST" and request.POST.get("action") == "configure":
        try:
            importing.import_configure(
                import_=imported,
                encoding=request.POST.get("encoding") or None,
                delimiter=_delimiter(request.POST.get("delimiter", "")),
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The file was read again."))
        return redirect("contacts:import_mapping", import_id=imported.pk)
    return _mapping_page(request, imported, request.POST if request.method == "POST" else None)


@workspace_view(C, Action.EDIT)
@require_POST
def import_start(request: WorkspaceRequest, import_id: int) -> HttpResponse:
    imported = importing.import_get(workspace=request.workspace, import_id=import_id)
    has_mapping = any(key.startswith("column_") for key in request.POST)
    try:
        importing.import_start(
            import_=imported,
            mapping=_mapping_from(imported, request.POST) if has_mapping else None,
            duplicates=request.POST.get("duplicates") or imported.options.get("duplicates", importing.SKIP),
            valid_rows_only=bool(request.POST.get("valid_rows_only")),
            actor=request.user,
        )
    except ValidationFailed as exc:
        if has_mapping and _can_map(imported):
            return _mapping_page(request, imported, request.POST, error=exc, status=422)
        messages.error(request, exc.message)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("contacts:import_detail", import_id=imported.pk)


@workspace_view(C, Action.EDIT)
@require_POST
def import_undo(request: WorkspaceRequest, import_id: int) -> HttpResponse:
    imported = importing.import_get(workspace=request.workspace, import_id=import_id)
    try:
        imported = importing.import_undo(import_=imported, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        undone = imported.options.get("undone", {})
        messages.success(
            request,
            _("The import was undone. Records removed: %(removed)s. Records restored: %(restored)s.")
            % {"removed": undone.get("removed", 0), "restored": undone.get("restored", 0)},
        )
    return redirect("contacts:import_detail", import_id=imported.pk)


@workspace_view(C)
def import_errors(request: WorkspaceRequest, import_id: int) -> StreamingHttpResponse:
    imported = importing.import_get(workspace=request.workspace, import_id=import_id)
    return exporting.download_response(
        importing.import_errors_csv(import_=imported),
        f"import-{imported.pk}-errors.csv",
        exporting.CONTENT_TYPES["csv"],
    )


# --- helpers --------------------------------------------------------------------------------------


def _can_map(imported: Import) -> bool:
    return bool(imported.file) and (
        imported.status == ImportStatus.UPLOADED
        or (imported.status == ImportStatus.FAILED and not (imported.created_count or imported.updated_count))
    )


def _delimiter(value: str) -> str | None:
    return {"tab": "\t", "\\t": "\t"}.get(value, value) or None


def _mapping_from(imported: Import, data: QueryDict) -> dict[str, str]:
    headers = imported.options["headers"]
    return {header: data.get(f"column_{index}", "") for index, header in enumerate(headers)}


def _mapping_page(
    request: WorkspaceRequest,
    imported: Import,
    data: QueryDict | None,
    error: ValidationFailed | None = None,
    status: int = 200,
) -> HttpResponse:
    options = imported.options
    if data is not None:
        mapping = _mapping_from(imported, data)
        duplicates = data.get("duplicates", importing.SKIP)
        valid_rows_only = bool(data.get("valid_rows_only"))
    else:
        mapping = options.get("mapping") or options["suggested"]
        duplicates = options.get("duplicates", importing.SKIP)
        valid_rows_only = bool(options.get("valid_rows_only", False))
    if duplicates not in importing.DUPLICATE_POLICIES:
        duplicates = importing.SKIP
    preview = None
    mapping_errors: dict[str, list[str]] = dict(error.fields) if error else {}
    try:
        preview = importing.import_preview(import_=imported, mapping=mapping, duplicates=duplicates)
    except ValidationFailed as exc:
        mapping_errors = {**exc.fields, **mapping_errors}
    headers = options["headers"]
    fields = importing.import_fields(workspace=request.workspace, entity=imported.entity)
    labels = {t.key: t.label for t in fields}
    columns = []
    for index, header in enumerate(headers):
        example = ""
        for row in preview.rows if preview else []:
            if index < len(row.cells) and row.cells[index].strip():
                example = row.cells[index]
                break
        columns.append(
            {
                "index": index,
                "header": header,
                "target": mapping.get(header, ""),
                "label": labels.get(mapping.get(header, ""), ""),
                "example": example,
                "errors": mapping_errors.get(f"mapping.{header}", []),
            }
        )
    groups: dict[str, list[Any]] = {}
    for target in fields:
        groups.setdefault(str(target.group), []).append(target)
    rows = []
    for row in preview.rows if preview else []:
        cells = [
            {
                "value": row.cells[i] if i < len(row.cells) else "",
                "problems": row.problems.get(h, []),
                "mapped": bool(mapping.get(h)),
            }
            for i, h in enumerate(headers)
        ]
        rows.append({"row": row, "cells": cells, "row_problems": row.problems.get("", [])})
    context = {
        "import": imported,
        "columns": columns,
        "groups": groups,
        "duplicates": duplicates,
        "valid_rows_only": valid_rows_only,
        "preview": preview,
        "rows": rows,
        "general_errors": mapping_errors.get("mapping", []) + ([error.message] if error else []),
        "mapping_errors": bool(mapping_errors),
        "encodings": {
            options.get("encoding", "utf-8"): options.get("encoding", "utf-8"),
            **importing.ENCODINGS,
        },
        "delimiter_shown": {"\t": "tab"}.get(options.get("delimiter", ""), options.get("delimiter", "")),
        "delimiters": [(d, {"\t": "tab"}.get(d, d), name) for d, name in importing.DELIMITERS.items()],
        "policies": _policies(imported.entity),
    }
    if request.htmx:
        return render(request, "contacts/imports/partials/mapping_body.html", context, status=status)
    return render(request, "contacts/imports/mapping.html", context, status=status)


def _policies(entity: str) -> list[tuple[str, str, str]]:
    records = _("people") if entity == "person" else _("companies")
    return [
        (
            importing.SKIP,
            _("Skip them"),
            _("Rows that match existing %(records)s are left out.") % {"records": records},
        ),
        (
            importing.UPDATE,
            _("Update them"),
            _("Fill matching %(records)s with the file's values; add new emails, phones and tags.")
            % {"records": records},
        ),
        (importing.CREATE, _("Create anyway"), _("Every row becomes a new record, even if it matches.")),
    ]


def _status_context(imported: Import, can_edit: bool) -> dict[str, Any]:
    total = imported.total_rows
    percent = (
        100
        if imported.status == ImportStatus.DONE
        else int(imported.processed_rows * 100 / total)
        if total
        else 0
    )
    problems = [importing.Problem(**e) for e in imported.errors[:ERRORS_SHOWN]]
    return {
        "import": imported,
        "terminal": imported.status in TERMINAL,
        "phase": imported.options.get("phase", ""),
        "percent": percent,
        "problems": problems,
        "more_problems": max(0, len(imported.errors) - ERRORS_SHOWN),
        "row_label": _("Card") if imported.options.get("format") == "vcard" else _("Row"),
        "can_edit": can_edit,
        "can_undo": can_edit
        and (
            imported.status == ImportStatus.DONE
            or (imported.status == ImportStatus.FAILED and (imported.created_count or imported.updated_count))
        ),
        "can_retry": can_edit and _can_map(imported) and imported.status == ImportStatus.FAILED,
        "undone": imported.options.get("undone", {}),
        "file_removed": _file_removed(imported),
        "retention_days": settings.IMPORT_RETENTION_DAYS,
    }


def _file_removed(imported: Import) -> dict[str, Any] | None:
    removed = imported.options.get("file_removed")
    if not removed:
        return None
    return {"at": parse_datetime(removed["at"]), "erasure": removed.get("reason") == "erasure"}
