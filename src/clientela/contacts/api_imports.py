"""Imports and exports of people and companies over the API.

An import is a resource: upload a file (``POST /imports``, multipart), read the suggested mapping from
the answer, try a mapping on the first rows (``POST /imports/{id}/preview``), start it
(``POST /imports/{id}/start``), poll ``GET /imports/{id}`` until ``status`` is ``done`` or ``failed``,
download the rows that failed (``GET /imports/{id}/errors.csv``), and undo it if needed. Exports take
the same filters as ``GET /people`` and ``GET /companies``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile
from ninja.pagination import CursorPagination, paginate

from clientela.contacts import exporting, importing, selectors
from clientela.contacts.models import Import
from clientela.core.errors import ValidationFailed
from clientela.workspaces.http import WorkspaceRequest
from clientela.workspaces.permissions import require
from clientela.workspaces.roles import Action, Module

router = Router(tags=["customers"])

ERRORS_SHOWN = 100


class ProblemOut(Schema):
    row: int | None = Field(description="Spreadsheet row (the header is row 1) or vCard card number")
    column: str = Field(description="The column's name in the file; empty for the whole row")
    message: str
    value: str = ""


class ImportSummaryOut(Schema):
    id: int
    entity: str
    filename: str
    status: str = Field(description="uploaded, queued, running, done, failed or undone")
    format: str = Field(description="csv, xlsx or vcard")
    total_rows: int
    processed_rows: int
    created: int
    updated: int
    skipped: int
    failed: int
    progress: int = Field(description="Percent of the rows written")
    created_by: str | None
    created_at: dt.datetime
    finished_at: dt.datetime | None

    @staticmethod
    def resolve_format(obj: Import) -> str:
        return str(obj.options.get("format", ""))

    @staticmethod
    def resolve_created(obj: Import) -> int:
        return obj.created_count

    @staticmethod
    def resolve_updated(obj: Import) -> int:
        return obj.updated_count

    @staticmethod
    def resolve_skipped(obj: Import) -> int:
        return obj.skipped_count

    @staticmethod
    def resolve_failed(obj: Import) -> int:
        return obj.failed_count

    @staticmethod
    def resolve_progress(obj: Import) -> int:
        if obj.status == "done":
            return 100
        return int(obj.processed_rows * 100 / obj.total_rows) if obj.total_rows else 0

    @staticmethod
    def resolve_created_by(obj: Import) -> str | None:
        return obj.created_by.email if obj.created_by else None


class ImportOut(ImportSummaryOut):
    encoding: str = Field(description="Detected (or chosen) text encoding; empty for XLSX")
    delimiter: str = Field(description="Detected (or chosen) CSV delimiter")
    headers: list[str]
    suggested_mapping: dict[str, str] = Field(description="Column -> field key, from the column names")
    mapping: dict[str, str]
    duplicates: str
    valid_rows_only: bool
    phase: str = Field(description="queued, checking, writing, done or failed")
    errors: list[ProblemOut] = Field(description=f"The first {ERRORS_SHOWN} problems; errors.csv has all")
    errors_truncated: bool
    file_removed_at: dt.datetime | None = Field(
        description="When the uploaded file was removed (retention period or a person's erasure)"
    )

    @staticmethod
    def resolve_encoding(obj: Import) -> str:
        return str(obj.options.get("encoding", ""))

    @staticmethod
    def resolve_delimiter(obj: Import) -> str:
        return str(obj.options.get("delimiter", ""))

    @staticmethod
    def resolve_headers(obj: Import) -> list[str]:
        return list(obj.options.get("headers", []))

    @staticmethod
    def resolve_suggested_mapping(obj: Import) -> dict[str, str]:
        return dict(obj.options.get("suggested", {}))

    @staticmethod
    def resolve_mapping(obj: Import) -> dict[str, str]:
        return dict(obj.options.get("mapping", {}))

    @staticmethod
    def resolve_duplicates(obj: Import) -> str:
        return str(obj.options.get("duplicates", importing.SKIP))

    @staticmethod
    def resolve_valid_rows_only(obj: Import) -> bool:
        return bool(obj.options.get("valid_rows_only", False))

    @staticmethod
    def resolve_phase(obj: Import) -> str:
        return str(obj.options.get("phase", ""))

    @staticmethod
    def resolve_errors(obj: Import) -> list[dict[str, Any]]:
        return list(obj.errors[:ERRORS_SHOWN])

    @staticmethod
    def resolve_errors_truncated(obj: Import) -> bool:
        return bool(obj.options.get("errors_truncated", False))

    @staticmethod
    def resolve_file_removed_at(obj: Import) -> dt.datetime | None:
        removed = obj.options.get("file_removed")
        return parse_datetime(removed["at"]) if removed else None


class FieldOut(Schema):
    key: str
    label: str
    group: str
    multiple: bool = Field(description="Several columns may map to it (emails, phones, tags, notes)")


class ConfigureIn(Schema):
    encoding: str | None = Field(None, description=", ".join(importing.ENCODINGS))
    delimiter: str | None = Field(None, description="One of , ; | or a tab")


class PreviewIn(Schema):
    mapping: dict[str, str] = Field(description="Column -> field key; empty or missing columns are ignored")
    duplicates: str = Field(importing.SKIP, description="skip, update or create")
    rows: int = Field(importing.PREVIEW_ROWS, ge=1, le=200)


class CellProblemOut(Schema):
    column: str
    message: str


class PreviewRowOut(Schema):
    row: int
    values: list[str]
    problems: list[CellProblemOut]
    action: str = Field(description="create, update, skip or fail")
    match: str = Field(description="The existing record a duplicate matches")


class PreviewOut(Schema):
    headers: list[str]
    mapping: dict[str, str]
    rows: list[PreviewRowOut]
    problem_rows: int


class StartIn(Schema):
    mapping: dict[str, str] | None = Field(None, description="Defaults to the suggested mapping")
    duplicates: str = Field(importing.SKIP, description="skip, update or create")
    valid_rows_only: bool = Field(
        False, description="Import the valid rows and report the others; false: any problem imports nothing"
    )


def _view(request: WorkspaceRequest) -> None:
    require(request.membership, Module.CONTACTS, Action.VIEW)


def _edit(request: WorkspaceRequest) -> None:
    require(request.membership, Module.CONTACTS, Action.EDIT)


def _get(request: WorkspaceRequest, import_id: int) -> Import:
    return importing.import_get(workspace=request.workspace, import_id=import_id)


# --- imports --------------------------------------------------------------------------------------


@router.get("/import-fields", response=list[FieldOut], operation_id="contacts_import_fields")
def import_fields(request: WorkspaceRequest, entity: str = "person") -> list[dict[str, Any]]:
    """The fields a column can be mapped to (custom fields as ``custom.<key>``)."""
    _view(request)
    entity = entity if entity in importing.ENTITIES else "person"
    return [
        {"key": t.key, "label": str(t.label), "group": str(t.group), "multiple": t.multiple}
        for t in importing.import_fields(workspace=request.workspace, entity=entity)
    ]


@router.post("/imports", response={201: ImportOut}, operation_id="contacts_import_create")
def import_create(
    request: WorkspaceRequest, file: File[UploadedFile | None] = None, entity: Form[str] = "person"
) -> Status:
    """Upload a CSV (any delimiter; UTF-8, Windows-1250/1252, ISO-8859-2...), an XLSX or a vCard file
    (multipart, field ``file``) for ``entity`` person or company. Answers with the detected format and
    the suggested mapping."""
    _edit(request)
    if file is None:
        raise ValidationFailed(_("Choose a file to upload."), fields={"file": [_("Required.")]})
    imported = importing.import_upload(
        workspace=request.workspace, actor=request.user, uploaded_file=file, entity=entity
    )
    return Status(201, imported)


@router.get("/imports", response=list[ImportSummaryOut], operation_id="contacts_import_list")
@paginate(CursorPagination, ordering=("-id",))
def import_list(request: WorkspaceRequest) -> Any:
    _view(request)
    return Import.objects.filter(workspace=request.workspace).select_related("created_by")


@router.get("/imports/{import_id}", response=ImportOut, operation_id="contacts_import_get")
def import_get(request: WorkspaceRequest, import_id: int) -> Import:
    """An import with its progress, counts and first problems: poll it while it runs."""
    _view(request)
    return _get(request, import_id)


@router.patch("/imports/{import_id}", response=ImportOut, operation_id="contacts_import_configure")
def import_configure(request: WorkspaceRequest, import_id: int, payload: ConfigureIn) -> Import:
    """Read a CSV again with another encoding or delimiter (before it starts)."""
    _edit(request)
    return importing.import_configure(import_=_get(request, import_id), **payload.model_dump())


@router.post("/imports/{import_id}/preview", response=PreviewOut, operation_id="contacts_import_preview")
def import_preview(request: WorkspaceRequest, import_id: int, payload: PreviewIn) -> dict[str, Any]:
    """Validate the first rows with a mapping: every problem by row and column. Writes nothing."""
    _edit(request)
    preview = importing.import_preview(import_=_get(request, import_id), **payload.model_dump())
    return {
        "headers": preview.headers,
        "mapping": preview.mapping,
        "problem_rows": preview.problem_rows,
        "rows": [
            {
                "row": row.number,
                "values": row.cells,
                "problems": [{"column": c, "message": m} for c, ms in row.problems.items() for m in ms],
                "action": row.action,
                "match": row.match,
            }
            for row in preview.rows
        ],
    }


@router.post("/imports/{import_id}/start", response={202: ImportOut}, operation_id="contacts_import_start")
def import_start(request: WorkspaceRequest, import_id: int, payload: StartIn) -> Status:
    """Queue the import; it runs in the background. Poll ``GET /imports/{id}``."""
    _edit(request)
    started = importing.import_start(
        import_=_get(request, import_id), actor=request.user, **payload.model_dump()
    )
    return Status(202, started)


@router.post("/imports/{import_id}/undo", response=ImportOut, operation_id="contacts_import_undo")
def import_undo(request: WorkspaceRequest, import_id: int) -> Import:
    """Delete what the import created and put back what it changed."""
    _edit(request)
    return importing.import_undo(import_=_get(request, import_id), actor=request.user)


@router.get("/imports/{import_id}/errors.csv", operation_id="contacts_import_errors")
def import_errors(request: WorkspaceRequest, import_id: int) -> StreamingHttpResponse:
    """The rows that failed, as they were in the file, with a Problems column (CSV)."""
    _view(request)
    imported = _get(request, import_id)
    return exporting.download_response(
        importing.import_errors_csv(import_=imported),
        f"import-{imported.pk}-errors.csv",
        exporting.CONTENT_TYPES["csv"],
    )


# --- exports --------------------------------------------------------------------------------------


def _export(request: WorkspaceRequest, entity: str, fmt: str) -> StreamingHttpResponse:
    _view(request)
    query = selectors.ListQuery.parse(entity, request.GET)
    return exporting.export_response(
        selectors.customer_queryset(workspace=request.workspace, user=request.user, query=query), fmt, entity
    )


@router.get("/exports/people.csv", operation_id="contacts_export_people_csv")
def export_people_csv(
    request: WorkspaceRequest, q: str = "", sort: str = "name", owner: str = "", tag: str = ""
) -> StreamingHttpResponse:
    """People matching the same filters as ``GET /people``, as CSV (UTF-8 with BOM); formulas neutralised."""
    return _export(request, "person", "csv")


@router.get("/exports/people.xlsx", operation_id="contacts_export_people_xlsx")
def export_people_xlsx(
    request: WorkspaceRequest, q: str = "", sort: str = "name", owner: str = "", tag: str = ""
) -> StreamingHttpResponse:
    """People matching the same filters as ``GET /people``, as an Excel workbook."""
    return _export(request, "person", "xlsx")


@router.get("/exports/people.vcf", operation_id="contacts_export_people_vcf")
def export_people_vcf(
    request: WorkspaceRequest, q: str = "", sort: str = "name", owner: str = "", tag: str = ""
) -> StreamingHttpResponse:
    """People matching the same filters as ``GET /people``, as vCard 3.0 cards."""
    return _export(request, "person", "vcf")


@router.get("/exports/companies.csv", operation_id="contacts_export_companies_csv")
def export_companies_csv(
    request: WorkspaceRequest, q: str = "", sort: str = "name", owner: str = "", tag: str = ""
) -> StreamingHttpResponse:
    """Companies matching the same filters as ``GET /companies``, as CSV."""
    return _export(request, "company", "csv")


@router.get("/exports/companies.xlsx", operation_id="contacts_export_companies_xlsx")
def export_companies_xlsx(
    request: WorkspaceRequest, q: str = "", sort: str = "name", owner: str = "", tag: str = ""
) -> StreamingHttpResponse:
    """Companies matching the same filters as ``GET /companies``, as an Excel workbook."""
    return _export(request, "company", "xlsx")
