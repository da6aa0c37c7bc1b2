"""Exports of people and companies to CSV, XLSX and vCard: the rows of the current list, streamed.

- CSV is UTF-8 with a BOM (so Excel reads accents right), comma-separated, streamed row by row.
- XLSX is written by openpyxl in write-only mode to a temporary file (memory stays flat), then streamed.
- vCard is 3.0 (not 4.0): it is the version Outlook, Google Contacts and Apple Contacts all import.

Every value that a spreadsheet could run as a formula is neutralised (see ``neutralise``). Columns
carry the same labels the importer recognises, so an export can be edited and imported back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import TYPE_CHECKING, Any, cast

from asgiref.sync import sync_to_async
from django.db.models import Model, Prefetch, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from clientela.contacts import vcard
from clientela.contacts.models import Address, Company, CustomField, CustomFieldType, Person
from clientela.core.errors import NotFound
from clientela.core.phones import display
from clientela.core.tenancy import active_workspace, workspace_scope

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from clientela.contacts.selectors import ListQuery
    from clientela.workspaces.models import User, Workspace

FORMATS = ("csv", "xlsx", "vcf")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "vcf": "text/vcard; charset=utf-8",
}
CHUNK_BYTES = 64 * 1024
FETCH_CHUNK = 1000

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# ...unless it is a plain number, phone number or date: nothing in those can call a function.
_HARMLESS = frozenset("0123456789 ().,/-")


def neutralise(value: str) -> str:
    """Make a text cell safe to open in a spreadsheet: a formula gets a leading apostrophe.

    ``=HYPERLINK("http://evil","click")`` becomes ``'=HYPERLINK(...)``, shown as text. Numbers and
    phone numbers such as ``-12.5`` or ``+39 02 3661 8300`` are left alone: without letters or
    operators they cannot call anything.
    """
    if value.startswith(FORMULA_PREFIXES) and not is_harmless(value):
        return "'" + value
    return value


def is_formula_like(value: str) -> bool:
    return value.startswith(FORMULA_PREFIXES) and not is_harmless(value)


def is_harmless(value: str) -> bool:
    body = value[1:] if value[:1] in "+-" else value
    return bool(body) and body[0].isdigit() and set(body) <= _HARMLESS


# --- the entrypoints' helper ----------------------------------------------------------------------


def export_response(
    source: QuerySet[Any] | ListQuery,
    fmt: str,
    entity: str = "person",
    *,
    workspace: Workspace | None = None,
    user: User | None = None,
) -> StreamingHttpResponse:
    """The download of ``source`` (a queryset of the list, or a ``ListQuery`` with ``workspace`` and
    ``user``) as ``fmt`` (csv, xlsx, vcf). An unknown format is a 404, like a missing page."""
    if fmt not in FORMATS or (fmt == "vcf" and entity != "person"):
        raise NotFound(_("There is no %(format)s export.") % {"format": fmt})
    workspace = workspace or active_workspace()
    queryset = _queryset(source, entity, workspace, user)
    columns = export_columns(workspace=workspace, entity=entity)
    stem = ("people" if entity == "person" else "companies") + f"-{timezone.localdate():%Y-%m-%d}"
    if fmt == "csv":
        content: Iterator[bytes] = _scoped(workspace, csv_chunks(queryset, columns))
    elif fmt == "vcf":
        content = _scoped(workspace, _encoded(vcard.export_cards(queryset.iterator(chunk_size=FETCH_CHUNK))))
    else:
        content = file_chunks(
            xlsx_file(queryset, columns, sheet=_("People") if entity == "person" else _("Companies"))
        )
    return download_response(content, f"{stem}.{fmt}", CONTENT_TYPES[fmt])


def download_response(content: Iterable[bytes], filename: str, content_type: str) -> StreamingHttpResponse:
    response = DualStreamingResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


class DualStreamingResponse(StreamingHttpResponse):
    """Streams a synchronous iterator under WSGI and, chunk by chunk in Django's sync thread, under ASGI.

    Django's own ``StreamingHttpResponse`` buffers a synchronous iterator whole before sending it under
    ASGI; for a million-row export that is the whole file in memory.
    """

    async def __aiter__(self) -> AsyncIterator[bytes]:
        iterator = iter(cast(Iterator[bytes], self.streaming_content))
        step = sync_to_async(_next_or_none, thread_sensitive=True)
        while (chunk := await step(iterator)) is not None:
            yield chunk


def _next_or_none(iterator: Iterator[bytes]) -> bytes | None:
    return next(iterator, None)


# --- columns --------------------------------------------------------------------------------------


class Column:
    """One exported column: a header and how to read the value from a record."""

    def __init__(self, header: str, read: Any, kind: str = "text") -> None:
        self.header = header
        self.read = read
        self.kind = kind  # text | date | number


def export_columns(*, workspace: Workspace, entity: str) -> list[Column]:
    """The columns of an export, with headers in the current language (the importer reads them back)."""
    model: type[Person] | type[Company] = Person if entity == "person" else Company

    def label(name: str, of: type[Model] = model) -> str:
        return str(capfirst(getattr(of._meta.get_field(name), "verbose_name", name)))

    def field(name: str) -> Column:
        model_field = model._meta.get_field(name)
        if getattr(model_field, "choices", None):
            return Column(label(name), lambda r, n=name: getattr(r, f"get_{n}_display")())
        return Column(label(name), lambda r, n=name: getattr(r, n))

    def address(name: str) -> Column:
        return Column(label(name, Address), lambda r, n=name: getattr(_first_address(r), n, ""))

    common_tail = [
        field("lifecycle_stage"),
        field("source_channel"),
        field("source_campaign"),
        field("source_keyword"),
        Column(label("owner"), lambda r: r.owner.email if r.owner else ""),
        Column(_("Tags"), lambda r: "; ".join(t.name for t in r.tags.all())),
        field("notes"),
        Column(_("Created"), lambda r: timezone.localtime(r.created_at).strftime("%Y-%m-%d %H:%M")),
    ]
    contact = [
        Column(_("Emails"), lambda r: "; ".join(e.email for e in r.emails.all())),
        Column(_("Phones"), lambda r: "; ".join(display(p.e164) for p in r.phones.all())),
        address("street"),
        address("city"),
        address("postal_code"),
        address("region"),
        address("country"),
    ]
    if entity == "person":
        columns = [
            Column("ID", lambda r: r.pk, "number"),
            field("first_name"),
            field("last_name"),
            Column(label("company"), lambda r: r.company.name if r.company else ""),
            field("job_title"),
            *contact,
            Column(label("birth_date"), lambda r: r.birth_date, "date"),
            field("gender"),
            field("marital_status"),
            field("income_band"),
            field("education"),
            field("language"),
            field("preferred_channel"),
            *common_tail,
        ]
    else:
        columns = [
            Column("ID", lambda r: r.pk, "number"),
            field("name"),
            field("legal_name"),
            field("vat_number"),
            field("industry"),
            field("size"),
            field("website"),
            *contact,
            *common_tail,
        ]
    for custom in CustomField.objects.filter(workspace=workspace, entity=entity, archived_at=None):
        columns.append(Column(custom.label, lambda r, f=custom: custom_text(f, r.custom.get(f.key))))
    return columns


def custom_text(custom_field: CustomField, value: Any) -> str:
    """A stored custom value as the text the importer reads back."""
    if value is None or value == "":
        return ""
    if custom_field.type == CustomFieldType.MONEY and isinstance(value, dict):
        return f"{value.get('amount', '')} {value.get('currency', '')}".strip()
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _first_address(record: Person | Company) -> Address | None:
    addresses = record.addresses.all()
    return addresses[0] if addresses else None


def _queryset(
    source: QuerySet[Any] | ListQuery, entity: str, workspace: Workspace, user: User | None
) -> QuerySet[Any]:
    if not isinstance(source, QuerySet):
        from clientela.contacts.selectors import customer_queryset

        if user is None:
            raise TypeError("export_response needs the user to run a ListQuery")
        source = customer_queryset(workspace=workspace, user=user, query=source)
    related = ["owner", "company"] if entity == "person" else ["owner"]
    return source.select_related(*related).prefetch_related(
        "tags",
        "emails",
        "phones",
        Prefetch(
            "addresses", queryset=Address.objects.filter(workspace=workspace).order_by("-is_primary", "id")
        ),
    )


# --- writers --------------------------------------------------------------------------------------


def row_values(record: Any, columns: list[Column]) -> list[Any]:
    return [column.read(record) for column in columns]


def csv_chunks(queryset: QuerySet[Any], columns: list[Column]) -> Iterator[bytes]:
    """The CSV file in chunks of about 64 KB: a BOM, the header, one line per record."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(c.header) for c in columns])
    first = True
    for record in queryset.iterator(chunk_size=FETCH_CHUNK):
        writer.writerow([_csv_cell(v) for v in row_values(record, columns)])
        if buffer.tell() >= CHUNK_BYTES:
            yield (("\ufeff" if first else "") + buffer.getvalue()).encode()
            first = False
            buffer.seek(0)
            buffer.truncate()
    yield (("\ufeff" if first else "") + buffer.getvalue()).encode()


def csv_text(rows: Iterable[Iterable[Any]]) -> Iterator[bytes]:
    """Any rows as neutralised CSV chunks (BOM first): error reports reuse the export's rules."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return neutralise(str(value))


def xlsx_file(queryset: QuerySet[Any], columns: list[Column], sheet: str) -> Any:
    """A temporary file holding the workbook, rewound; openpyxl's write-only mode keeps memory flat."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(title=sheet[:31])
    worksheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        letter = _column_letter(index)
        worksheet.column_dimensions[letter].width = 12 if column.kind != "text" else 20
    bold = Font(bold=True)
    worksheet.append([_xlsx_cell(worksheet, c.header, font=bold) for c in columns])
    for record in queryset.iterator(chunk_size=FETCH_CHUNK):
        worksheet.append([_xlsx_cell(worksheet, v) for v in row_values(record, columns)])
    target = tempfile.TemporaryFile()  # noqa: SIM115  (closed by the response)
    workbook.save(target)
    target.seek(0)
    return target


def _xlsx_cell(worksheet: WriteOnlyWorksheet, value: Any, font: Any = None) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if value is None or value == "":
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        cell = WriteOnlyCell(worksheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value)
    cell = WriteOnlyCell(worksheet, value=text)
    # A typed string is never evaluated; the quote prefix keeps it text when someone edits the cell.
    cell.data_type = "s"
    if is_formula_like(text):
        cell.quotePrefix = True
    if font is not None:
        cell.font = font
    return cell


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index))


def file_chunks(file: Any) -> Iterator[bytes]:
    try:
        while chunk := file.read(CHUNK_BYTES):
            yield chunk
    finally:
        file.close()


def _encoded(texts: Iterable[str]) -> Iterator[bytes]:
    buffer: list[str] = []
    size = 0
    for text in texts:
        buffer.append(text)
        size += len(text)
        if size >= CHUNK_BYTES:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    yield "".join(buffer).encode()


def _scoped(workspace: Workspace, iterator: Iterator[bytes]) -> Iterator[bytes]:
    """Run each step of ``iterator`` inside the workspace scope.

    A streamed body is produced after the view has returned and the middleware has left the scope, so
    the scope is entered again around every step (never across a ``yield``).
    """
    while True:
        with workspace_scope(workspace):
            try:
                chunk = next(iterator)
            except StopIteration:
                return
        yield chunk
