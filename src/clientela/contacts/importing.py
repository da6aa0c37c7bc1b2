"""Imports of people and companies from CSV, XLSX and vCard files: upload, map, preview, run, report, undo.

The flow, one ``Import`` row per file:

1. ``import_upload`` stores the file and reads what it is (format by content, encoding, delimiter,
   header); ``import_suggest_mapping`` proposes a field for every column.
2. ``import_preview`` validates the first rows with a mapping and returns every problem by row and
   column, and what each row would do (create, update, skip).
3. ``import_start`` checks the options and enqueues the task after commit; the task calls ``import_run``.
4. ``import_run`` streams the file twice: a check pass (counts rows and, when the user wants all or
   nothing, validates every row: one problem and nothing is written), then a write pass in batches of
   ``BATCH_SIZE`` rows, each batch one transaction that also advances the progress counters. While a
   batch is written, a thread reads and parses the next one and looks up its duplicates on a database
   connection of its own. Batches are planned in file order (``_Writer.plan``: what each row does,
   companies and tags created, ids reserved) and, on PostgreSQL, written two at once on connections of
   their own (``_InOrder``), committing in file order.
5. ``import_undo`` removes what the import created and puts back what it changed.

Rows are never held in memory beyond a few batches (two being written, one being planned, one read
ahead, one being read), so a million-row CSV keeps the worker's memory flat. A batch is written in a few
statements whatever its size (``importing_bulk``): one lookup of all its emails, one of its phones, one
insert per table. Duplicates are found by email and phone (E.164) (companies also by VAT number and
name) against existing records, against earlier rows of the same batch and against earlier batches: a
batch looked up before the one ahead of it was committed gets that batch's keys from memory
(``_Writer.unseen``). What an update changed is recorded in the audit trail (one event per record,
target the import), in the same transaction as the change: that is what undo puts back.
"""

from __future__ import annotations

import codecs
import contextlib
import contextvars
import csv
import datetime as dt
import functools
import gc
import io
import logging
import queue
import re
import threading
import zipfile
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any
from uuid import uuid4

from django import db
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator, validate_email
from django.db import connection, models, transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Upper
from django.utils import timezone, translation
from django.utils.dateparse import parse_date
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from clientela.contacts import vcard
from clientela.contacts.exporting import csv_text
from clientela.contacts.importing_bulk import (
    bulk_insert,
    bulk_update,
    flush_pending_index_entries,
    refresh_statistics,
    reserve_ids,
    values_query,
    without_memory_map,
)
from clientela.contacts.models import (
    Address,
    Channel,
    Company,
    CompanySize,
    CompanyTag,
    CustomField,
    Education,
    Email,
    Gender,
    Import,
    ImportStatus,
    IncomeBand,
    LifecycleStage,
    MaritalStatus,
    Person,
    PersonTag,
    Phone,
)
from clientela.contacts.services import (
    _custom_value,  # the one definition of how a custom value is validated
    company_search_text,
    person_search_text,
    search_text_for,
    tag_get_or_create,
    vat_normalise,
)
from clientela.core.audit import audit_record
from clientela.core.errors import Conflict, ValidationFailed
from clientela.core.models import AuditEvent
from clientela.core.phones import to_e164
from clientela.core.tasks import enqueue_on_commit
from clientela.core.text import fold
from clientela.workspaces.models import Membership, User, Workspace

logger = logging.getLogger(__name__)

ENTITIES = ("person", "company")
SKIP, UPDATE, CREATE = "skip", "update", "create"
DUPLICATE_POLICIES = (SKIP, UPDATE, CREATE)
BATCH_SIZE = 15_000  # rows per transaction; up to five batches are in memory (see _write)
SQLITE_BATCH_SIZE = 7_500  # at most, on SQLite: its page cache shares the worker's memory
WRITERS = 2  # database connections writing batches at once, on PostgreSQL
YOUNG_OBJECTS = 500_000  # the cycle collector's first threshold while an import writes (_fewer_collections)
NAME_ORDER = {"person": ("last_name", "first_name"), "company": ("name",)}  # of the list indexes
PREVIEW_ROWS = 20
CACHE_LIMIT = 20_000  # entries of each per-import lookup cache (company names, folded cells)
MAX_KEPT_ERRORS = 5000  # failed_count counts them all; the report lists the first ones
SAMPLE_BYTES = 256 * 1024
PROGRESS_EVERY = 5000
DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024
UPDATED_ACTION = "import.record_updated"
MONTH_FIRST_REGIONS = {"US", "PH", "FM", "MH", "PW"}
ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (BOM)",
    "utf-16": "UTF-16",
    "cp1250": "Windows-1250 (Central European)",
    "cp1252": "Windows-1252 (Western European)",
    "iso8859-2": "ISO-8859-2 (Latin-2)",
    "iso8859-15": "ISO-8859-15 (Latin-9)",
    "iso8859-16": "ISO-8859-16 (Romanian)",
}
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


_Row = dict[str, Any]  # a row to insert: attribute name -> value


def max_upload_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


# --- problems and rows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """What is wrong with one cell (or a whole row when ``column`` is empty)."""

    row: int | None
    column: str
    message: str
    value: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message, "value": self.value}

    @property
    def text(self) -> str:
        where = []
        if self.row is not None:
            where.append(_("Row %(row)s") % {"row": self.row})
        if self.column:
            where.append(_("column “%(column)s”") % {"column": self.column})
        return f"{', '.join(where)}: {self.message}" if where else self.message


@dataclass(slots=True)
class SourceRow:
    """A row as read from the file: its spreadsheet row number (header = 1) or card number."""

    number: int
    cells: list[str]
    problems: list[Problem] = field(default_factory=list)


@dataclass(slots=True)
class ParsedRow:
    """A row after mapping and validation: clean values ready to be written, or problems."""

    number: int
    values: dict[str, Any] = field(default_factory=dict)  # model attribute names -> clean values
    full_name: str = ""
    company_name: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[tuple[str, str]] = field(default_factory=list)  # (e164, as written)
    address: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    blank: bool = True
    search_text: str = ""  # worked out ahead of the write (``_Writer.look_up``); empty: not yet

    def keys(self, entity: str) -> list[str]:
        """Duplicate keys, strongest first."""
        keys = [f"e:{e}" for e in self.emails] + [f"p:{p}" for p, _raw in self.phones]
        if entity == "company":
            if self.values.get("vat_number"):
                keys.insert(0, f"v:{self.values['vat_number']}")
            if self.values.get("name"):
                keys.append(f"n:{_fold_name(self.values['name'])}")
        return keys


class _Invalid(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- mapping targets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A field a column can be mapped to. ``multiple`` targets may take several columns."""

    key: str
    label: Any
    group: Any = ""
    multiple: bool = False


def _model_label(model: type[models.Model], name: str) -> Any:
    return capfirst(getattr(model._meta.get_field(name), "verbose_name", name))


def import_fields(*, workspace: Workspace | None, entity: str) -> list[Target]:
    """Every field a column can be mapped to, in the order the mapping page lists them."""
    model: type[Person] | type[Company] = Person if entity == "person" else Company
    basic = gettext_lazy("Details")
    contact = gettext_lazy("Contact")
    where = gettext_lazy("Address")
    more = gettext_lazy("More")
    if entity == "person":
        fields = [
            Target("first_name", _model_label(Person, "first_name"), basic),
            Target("last_name", _model_label(Person, "last_name"), basic),
            Target("full_name", gettext_lazy("Full name (split into first and last)"), basic),
            Target("company", gettext_lazy("Company (by name)"), basic),
            Target("job_title", _model_label(Person, "job_title"), basic),
            Target("birth_date", _model_label(Person, "birth_date"), basic),
        ]
    else:
        fields = [
            Target("name", _model_label(Company, "name"), basic),
            Target("legal_name", _model_label(Company, "legal_name"), basic),
            Target("vat_number", _model_label(Company, "vat_number"), basic),
            Target("industry", _model_label(Company, "industry"), basic),
            Target("size", _model_label(Company, "size"), basic),
            Target("website", _model_label(Company, "website"), basic),
        ]
    fields += [
        Target("email", gettext_lazy("Email"), contact, multiple=True),
        Target("phone", gettext_lazy("Phone"), contact, multiple=True),
        Target("street", _model_label(Address, "street"), where),
        Target("city", _model_label(Address, "city"), where),
        Target("postal_code", _model_label(Address, "postal_code"), where),
        Target("region", _model_label(Address, "region"), where),
        Target("country", _model_label(Address, "country"), where),
    ]
    if entity == "person":
        fields += [
            Target(name, _model_label(Person, name), more)
            for name in (
                "gender",
                "marital_status",
                "income_band",
                "education",
                "language",
                "preferred_channel",
            )
        ]
    fields += [
        Target("lifecycle_stage", _model_label(model, "lifecycle_stage"), more),
        Target("source_channel", _model_label(model, "source_channel"), more),
        Target("source_campaign", _model_label(model, "source_campaign"), more),
        Target("source_keyword", _model_label(model, "source_keyword"), more),
        Target("owner", gettext_lazy("Owner (member's email or name)"), more),
        Target("tags", gettext_lazy("Tags"), more, multiple=True),
        Target("notes", _model_label(model, "notes"), more, multiple=True),
    ]
    if workspace is not None:
        custom_group = gettext_lazy("Custom fields")
        fields += [
            Target(f"custom.{f.key}", f.label, custom_group)
            for f in CustomField.objects.filter(workspace=workspace, entity=entity, archived_at=None)
        ]
    return fields


# Column names of common exports (Google Contacts, Outlook, HubSpot, Salesforce, Clientela itself) and of
# spreadsheets people make by hand in English, Italian, Hungarian and Romanian. Compared after folding
# (case, accents) and dropping everything but letters and digits.
# fmt: off
SYNONYMS: dict[str, dict[str, list[str]]] = {
    "person": {
        "first_name": [
            "first name", "firstname", "given name", "given", "forename", "first", "nome", "keresztnev",
            "utonev", "prenume", "vorname", "prenom",
        ],
        "last_name": [
            "last name", "lastname", "family name", "surname", "cognome", "vezeteknev", "csaladnev",
            "nume de familie", "nume", "nachname", "nom de famille",
        ],
        "full_name": [
            "name", "full name", "fullname", "display name", "contact name", "contact", "nome completo",
            "nominativo", "nev", "teljes nev", "nume complet",
        ],
        "company": [
            "company", "company name", "organization", "organisation", "organization name",
            "organization 1 - name", "account name", "accountname", "account", "account.name", "employer",
            "azienda", "societa", "ditta", "ceg", "cegnev", "companie", "compania", "firma",
        ],
        "job_title": [
            "job title", "jobtitle", "title", "position", "role", "organization title",
            "organization 1 - title", "qualifica", "ruolo", "mansione", "beosztas", "munkakor", "functie",
            "pozitie",
        ],
        "birth_date": [
            "birthday", "birth date", "birthdate", "date of birth", "dob", "data di nascita",
            "szuletesi datum", "szuletesnap", "data nasterii", "data de nastere",
        ],
        "gender": ["gender", "sex", "genere", "sesso", "nem", "gen"],
        "marital_status": ["marital status", "stato civile", "csaladi allapot", "stare civila"],
        "income_band": ["income", "income band", "reddito", "jovedelem", "venit"],
        "education": ["education", "istruzione", "titolo di studio", "vegzettseg", "educatie", "studii"],
        "language": ["language", "preferred language", "lingua", "nyelv", "limba"],
        "preferred_channel": [
            "preferred channel", "canale preferito", "preferalt csatorna", "canal preferat",
        ],
    },
    "company": {
        "name": [
            "name", "company", "company name", "organization", "organisation", "organization name",
            "account name", "accountname", "account", "ragione sociale", "azienda", "ceg", "cegnev",
            "companie", "firma", "denumire",
        ],
        "legal_name": ["legal name", "registered name", "denominazione", "hivatalos nev", "denumire legala"],
        "vat_number": [
            "vat", "vat number", "vat id", "tax id", "partita iva", "p iva", "piva", "adoszam",
            "kozossegi adoszam", "cui", "cif", "cod fiscal",
        ],
        "industry": ["industry", "sector", "settore", "agazat", "iparag", "domeniu"],
        "size": [
            "size", "company size", "employees", "number of employees", "numberofemployees", "dipendenti",
        ],
        "website": [
            "website", "website url", "web site", "web", "url", "domain", "company domain name", "sito",
        ],
    },
    "common": {
        "email": [
            "emails", "email", "e-mail", "email address", "e-mail address", "indirizzo email", "email cim",
        ],
        "phone": [
            "phones", "phone", "phone number", "telephone", "mobile", "telefono", "telefon", "telefonszam",
        ],
        "street": [
            "street", "address", "street address", "address line 1", "indirizzo", "via", "cim", "utca",
            "adresa", "strada",
        ],
        "city": ["city", "town", "citta", "comune", "localita", "varos", "telepules", "oras", "localitate"],
        "postal_code": ["postal code", "zip", "zip code", "postcode", "cap", "iranyitoszam", "cod postal"],
        "region": [
            "region", "state", "province", "state/region", "county", "provincia", "regione", "megye", "judet",
        ],
        "country": ["country", "country/region", "nation", "nazione", "paese", "orszag", "tara"],
        "lifecycle_stage": ["lifecycle stage", "lifecyclestage", "stage", "fase", "eletciklus", "etapa"],
        "source_channel": [
            "source", "lead source", "leadsource", "original source", "utm source", "fonte", "forras",
            "sursa",
        ],
        "source_campaign": ["campaign", "utm campaign", "campagna", "kampany", "campanie"],
        "source_keyword": ["keyword", "utm term", "parola chiave", "kulcsszo", "cuvant cheie"],
        "owner": [
            "owner", "contact owner", "company owner", "owner email", "owner.email", "account owner",
            "assigned to", "proprietario", "responsabile", "felelos", "tulajdonos", "proprietar",
            "responsabil",
        ],
        "tags": [
            "tags", "tag", "labels", "group membership", "categories", "category", "groups", "etichette",
            "cimkek", "etichete", "categorie",
        ],
        "notes": [
            "notes", "note", "description", "comments", "comment", "descrizione", "megjegyzes", "observatii",
        ],
    },
}
# fmt: on
_EMAIL_COLUMN = re.compile(
    r"^(?:work|home|personal|other|business|primary|secondary|private)?e?mail\d*"
    r"(?:address|value|cim|adresa|indirizzo)?\d*$"
)
_PHONE_COLUMN = re.compile(
    r"^(?:business|home|work|mobile|cell|other|primary|main|personal|private|car)?"
    r"(?:phone|telephone|tel|mobile|cell|cellphone|mobilephone|telefono|cellulare|telefon|telefonszam|mobil|"
    r"mobiltelefon)\d*(?:number|value|nr)?\d*$"
)
_ADDRESS_PREFIX = re.compile(
    r"^(?:address\d*|business|home|work|mailing|primary|other|billing|shipping|postal)"
)
_ADDRESS_PARTS = {
    "street": "street",
    "streetaddress": "street",
    "city": "city",
    "town": "city",
    "postalcode": "postal_code",
    "zip": "postal_code",
    "zipcode": "postal_code",
    "postcode": "postal_code",
    "region": "region",
    "state": "region",
    "stateregion": "region",
    "province": "region",
    "county": "region",
    "country": "country",
    "countryregion": "country",
}


def _column_key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(header))


def import_suggest_mapping(
    headers: Iterable[str], *, entity: str = "person", workspace: Workspace | None = None
) -> dict[str, str]:
    """A target field for every column (``""`` to ignore it), from the column's name.

    Knows the columns of Google Contacts, Outlook, HubSpot and Salesforce exports, Clientela's own
    export in every language, common names in English, Italian, Hungarian and Romanian, and the
    workspace's custom fields by label or key. A single-valued field is suggested once (first column
    wins); a full name is only suggested when there are no first/last name columns.
    """
    targets = {t.key: t for t in import_fields(workspace=workspace, entity=entity)}
    lookup = dict(_synonyms(entity))
    if workspace is not None:
        for custom in CustomField.objects.filter(workspace=workspace, entity=entity, archived_at=None):
            lookup.setdefault(_column_key(custom.label), f"custom.{custom.key}")
            lookup.setdefault(_column_key(custom.key), f"custom.{custom.key}")
    suggestion: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        target = _suggest_one(_column_key(header), lookup)
        if target not in targets or (target in used and not targets[target].multiple):
            target = ""
        suggestion[header] = target
        used.add(target)
    if "full_name" in used and {"first_name", "last_name"} & used:
        suggestion = {h: ("" if t == "full_name" else t) for h, t in suggestion.items()}
    return suggestion


def _suggest_one(key: str, lookup: dict[str, str]) -> str:
    if not key:
        return ""
    if key in lookup:
        return lookup[key]
    if _EMAIL_COLUMN.match(key):
        return "email"
    if _PHONE_COLUMN.match(key):
        return "phone"
    rest = _ADDRESS_PREFIX.sub("", key)
    if rest != key and rest in _ADDRESS_PARTS:
        return _ADDRESS_PARTS[rest]
    return ""


@functools.cache
def _synonyms(entity: str) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for target, names in [*SYNONYMS[entity].items(), *SYNONYMS["common"].items()]:
        for name in names:
            lookup.setdefault(_column_key(name), target)
    # Field labels in every language: Clientela's own exports come back mapped.
    extra = {
        "email": [gettext_lazy("Emails")],
        "phone": [gettext_lazy("Phones")],
        "tags": [gettext_lazy("Tags")],
    }
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for field_target in import_fields(workspace=None, entity=entity):
                for label in [field_target.label, *extra.get(field_target.key, [])]:
                    lookup.setdefault(_column_key(str(label)), field_target.key)
            if entity == "person":
                lookup.setdefault(_column_key(str(_model_label(Person, "company"))), "company")
                lookup.setdefault(_column_key(str(_model_label(Person, "owner"))), "owner")
            else:
                lookup.setdefault(_column_key(str(_model_label(Company, "owner"))), "owner")
    return lookup


# --- services -------------------------------------------------------------------------------------


@transaction.atomic
def import_upload(
    *, workspace: Workspace, actor: User | None, uploaded_file: UploadedFile, entity: str
) -> Import:
    """Store an uploaded file as a new import and read what it is: format, encoding, delimiter, columns.

    Refuses, with a message that says why: an unknown record type, an empty file, a file over the size
    limit (``IMPORT_MAX_UPLOAD_BYTES``, 100 MB by default), an old .xls or a file named .xlsx that is
    not a workbook, a file that is not text, a vCard that does not start with BEGIN:VCARD, and a file
    without a header row. The file is never loaded whole into memory.
    """
    if entity not in ENTITIES:
        raise ValidationFailed(
            _("Import people or companies."), fields={"entity": [_("Choose people or companies.")]}
        )
    filename = PurePath(uploaded_file.name or "upload").name[:255]
    size = uploaded_file.size or 0
    limit = max_upload_bytes()
    if size > limit:
        raise ValidationFailed(
            _("The file is %(size)s; files up to %(limit)s can be imported. Split it into smaller files.")
            % {"size": _megabytes(size), "limit": _megabytes(limit)},
            code="file_too_large",
            fields={"file": [_("The file is too large.")]},
        )
    if size == 0:
        raise ValidationFailed(
            _("The file is empty."), code="file_empty", fields={"file": [_("Empty file.")]}
        )
    uploaded_file.seek(0)
    head = uploaded_file.read(SAMPLE_BYTES)
    uploaded_file.seek(0)
    fmt = _sniff_format(head, filename)
    if fmt == "xlsx":
        options = _describe_xlsx(uploaded_file)
    else:
        options = _describe_text(uploaded_file, filename, fmt, encoding=None, delimiter=None)
    options["suggested"] = import_suggest_mapping(options["headers"], entity=entity, workspace=workspace)
    options["size"] = size
    import_ = Import(entity=entity, filename=filename, created_by=actor, options=options)
    import_.workspace = workspace
    suffix = {"xlsx": ".xlsx", "vcard": ".vcf"}.get(fmt, ".csv")
    uploaded_file.seek(0)
    import_.file.save(f"{uuid4().hex}{suffix}", uploaded_file, save=False)
    import_.save()
    audit_record(workspace=workspace, actor=actor, action="import.uploaded", target=import_, summary=filename)
    return import_


@transaction.atomic
def import_configure(*, import_: Import, encoding: str | None = None, delimiter: str | None = None) -> Import:
    """Read a CSV again with the encoding and/or delimiter the user chose (before the import starts)."""
    if import_.status != ImportStatus.UPLOADED:
        raise Conflict(_("The import has already started."), code="import_started")
    if import_.options.get("format") != "csv":
        raise ValidationFailed(_("Only a CSV file has an encoding and a delimiter to choose."))
    errors: dict[str, list[str]] = {}
    if encoding is not None:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            errors["encoding"] = [_("Choose one of the listed encodings.")]
    if delimiter is not None and delimiter not in DELIMITERS:
        errors["delimiter"] = [_("Choose comma, semicolon, tab or pipe.")]
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    with import_.file.storage.open(str(import_.file.name), "rb") as stream:
        options = _describe_text(
            stream,
            import_.filename,
            "csv",
            encoding=encoding or import_.options["encoding"],
            delimiter=delimiter or import_.options["delimiter"],
        )
    options["suggested"] = import_suggest_mapping(
        options["headers"], entity=import_.entity, workspace=import_.workspace
    )
    import_.options = {**import_.options, **options}
    import_.options.pop("mapping", None)
    import_.save(update_fields=["options"])
    return import_


@dataclass
class PreviewRow:
    number: int
    cells: list[str]
    problems: dict[str, list[str]]  # column -> messages ("" for the whole row)
    action: str  # create | update | skip | fail
    match: str = ""  # the existing record a duplicate matches


@dataclass
class Preview:
    headers: list[str]
    mapping: dict[str, str]
    rows: list[PreviewRow]

    @property
    def problem_rows(self) -> int:
        return sum(1 for row in self.rows if row.problems)


def import_preview(
    *, import_: Import, mapping: dict[str, str], rows: int = PREVIEW_ROWS, duplicates: str = SKIP
) -> Preview:
    """Validate the first ``rows`` rows with ``mapping``: every problem by row and column, and what each
    row would do with the chosen duplicates policy. Writes nothing. An invalid mapping raises."""
    columns = _compile(import_, mapping)
    parser = _RowParser(workspace=import_.workspace, entity=import_.entity, columns=columns)
    parsed: list[tuple[SourceRow, ParsedRow]] = []
    with open_rows(import_) as (_headers, source):
        for item in source:
            parsed.append((item, parser.parse(item)))
            if len(parsed) >= max(1, min(rows, 200)):
                break
    matches = _Writer.find_existing(import_.workspace, import_.entity, [row for _s, row in parsed])
    names = _record_names(import_.entity, set(matches.values()))
    seen: set[str] = set()
    preview_rows = []
    for item, row in parsed:
        problems: dict[str, list[str]] = defaultdict(list)
        for problem in row.problems:
            problems[problem.column].append(problem.message)
        keys = row.keys(import_.entity)
        match = next((matches[k] for k in keys if k in matches), None)
        if row.problems:
            action = "fail"
        elif row.blank:
            action = "skip"
        elif duplicates == CREATE:
            action = "create"
        elif match is not None or any(k in seen for k in keys):
            action = "update" if duplicates == UPDATE else "skip"
        else:
            action = "create"
        seen.update(keys)
        preview_rows.append(
            PreviewRow(
                number=item.number,
                cells=item.cells,
                problems=dict(problems),
                action=action,
                match=names.get(match, "") if match is not None and duplicates != CREATE else "",
            )
        )
    return Preview(
        headers=list(import_.options["headers"]), mapping=_clean_mapping(import_, mapping), rows=preview_rows
    )


@transaction.atomic
def import_start(
    *,
    import_: Import,
    mapping: dict[str, str] | None = None,
    duplicates: str = SKIP,
    valid_rows_only: bool = False,
    actor: User | None = None,
) -> Import:
    """Check the options and queue the import; the task starts after this transaction commits.

    ``duplicates``: ``skip`` leaves matching records alone, ``update`` fills them with the file's non-empty
    values (adding emails, phones and tags), ``create`` ignores matches. With ``valid_rows_only`` false,
    one row with a problem means nothing is imported. An import that has written nothing (new, or
    failed its check) can be started again with other options.
    """
    import_ = Import.objects.select_for_update().get(pk=import_.pk)
    if import_.status not in (ImportStatus.UPLOADED, ImportStatus.FAILED) or _wrote_anything(import_):
        raise Conflict(_("This import has already run."), code="import_started")
    if not import_.file:
        raise Conflict(_("The file of this import has been removed: upload it again."), code="file_removed")
    if duplicates not in DUPLICATE_POLICIES:
        raise ValidationFailed(
            _("Choose what to do with duplicates: skip, update or create."),
            fields={"duplicates": [_("Choose skip, update or create.")]},
        )
    mapping = (
        mapping if mapping is not None else import_.options.get("mapping") or import_.options["suggested"]
    )
    _compile(import_, mapping)
    import_.options = {
        **import_.options,
        "mapping": _clean_mapping(import_, mapping),
        "duplicates": duplicates,
        "valid_rows_only": bool(valid_rows_only),
        "checked": False,
        "phase": "queued",
        "run": int(import_.options.get("run", 0)) + 1,
        "errors_truncated": False,
    }
    import_.status = ImportStatus.QUEUED
    import_.total_rows = import_.processed_rows = 0
    import_.created_count = import_.updated_count = import_.skipped_count = import_.failed_count = 0
    import_.errors = []
    import_.finished_at = None
    import_.save()
    audit_record(
        workspace=import_.workspace,
        actor=actor,
        action="import.started",
        target=import_,
        summary=import_.filename,
        data={"duplicates": duplicates, "valid_rows_only": bool(valid_rows_only)},
    )
    from clientela.contacts.tasks import run_import

    enqueue_on_commit(run_import, import_.workspace_id, import_.pk)
    return import_


def import_run(*, import_: Import) -> Import:
    """The task body: check the file, then write it in batches. Idempotent and resumable.

    - Only a queued or running import runs; a finished, failed or undone one is left as it is (a task
      delivered twice does nothing the second time).
    - Each batch is one transaction that writes its rows *and* advances ``processed_rows`` and the
      counters, after checking under a row lock that no other run has moved them. If the worker dies,
      the committed batches stay and a new run of the task continues from ``processed_rows`` (the check
      pass is not repeated); a second copy running at the same time stops at its next batch.
    - All or nothing (``valid_rows_only`` false): the check pass validates every row first; any problem
      fails the import before anything is written. If a write fails later anyway, what earlier
      batches wrote is removed again, so nothing stays half-imported.
    """
    import_.refresh_from_db()
    if import_.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return import_
    Import.objects.filter(pk=import_.pk).update(status=ImportStatus.RUNNING)
    import_.status = ImportStatus.RUNNING
    options = import_.options
    all_or_nothing = not options.get("valid_rows_only")
    try:
        columns = _compile(import_, options["mapping"])
        parser = _RowParser(workspace=import_.workspace, entity=import_.entity, columns=columns)
        if not options.get("checked") and not _check(import_, parser, validate=all_or_nothing):
            return import_
        _write(import_, parser)
        flush_pending_index_entries([Person, Company])
    except _Superseded:
        logger.info("Import %s is being run by another worker; this run stops.", import_.pk)
        return import_
    except _WriteRefused as exc:
        _fail(import_, exc, revert=all_or_nothing)
        return import_
    except Exception as exc:
        logger.exception("Import %s failed", import_.pk)
        _fail(import_, exc, revert=all_or_nothing)
        raise
    import_.status = ImportStatus.DONE
    import_.finished_at = timezone.now()
    import_.options = {**import_.options, "phase": "done"}
    import_.save(update_fields=["status", "finished_at", "options"])
    audit_record(
        workspace=import_.workspace,
        actor=import_.created_by,
        action="import.finished",
        target=import_,
        summary=import_.filename,
        data=_counts(import_),
    )
    return import_


def import_undo(*, import_: Import, actor: User | None) -> Import:
    """Remove the records the import created and put back the values it changed, in one transaction.

    Records created by the import are deleted for good (with what was added to them since); an updated
    record gets back the values it had before, and loses the emails, phones, addresses and tags the
    import added. Only a finished import (or a failed one that wrote rows) can be undone.
    """
    with transaction.atomic():
        import_ = Import.objects.select_for_update().get(pk=import_.pk)
        done = import_.status == ImportStatus.DONE
        if not done and not (import_.status == ImportStatus.FAILED and _wrote_anything(import_)):
            raise Conflict(_("Only a finished import can be undone."), code="import_not_done")
        removed, restored = _revert(import_)
        import_.status = ImportStatus.UNDONE
        import_.options = {
            **import_.options,
            "undone": {"removed": removed, "restored": restored, "at": timezone.now().isoformat()},
        }
        import_.save(update_fields=["status", "options"])
        audit_record(
            workspace=import_.workspace,
            actor=actor,
            action="import.undone",
            target=import_,
            summary=import_.filename,
            data={"removed": removed, "restored": restored},
        )
    return import_


def import_errors_csv(*, import_: Import) -> Iterator[bytes]:
    """The error file: every row that failed, as it was in the file, with its problems in front.

    Fix the rows in it and import it again: the extra "Row" and "Problems" columns are ignored. Problems
    that belong to no row (the file stopped being readable) come first.
    """
    problems = [Problem(**e) for e in import_.errors]
    by_row: dict[int, list[str]] = defaultdict(list)
    for problem in problems:
        if problem.row is not None:
            label = f"{problem.column}: {problem.message}" if problem.column else problem.message
            by_row[problem.row].append(label)
    headers = list(import_.options.get("headers", []))

    def rows() -> Iterator[list[Any]]:
        yield [_("Row"), _("Problems"), *headers]
        for problem in problems:
            if problem.row is None:
                yield ["", problem.message]
        try:
            with open_rows(import_) as (_h, source):
                for item in source:
                    if item.number in by_row:
                        yield [item.number, "; ".join(by_row.pop(item.number)), *item.cells]
                    if not by_row:
                        break
        except (OSError, ValidationFailed):
            pass  # the file is gone: the problems alone are still worth having
        for number, messages in sorted(by_row.items()):
            yield [number, "; ".join(messages)]

    return csv_text(rows())


def _record_names(entity: str, ids: set[int]) -> dict[int, str]:
    model: type[Person] | type[Company] = Person if entity == "person" else Company
    return {record.pk: str(record) for record in model.objects.filter(pk__in=ids)} if ids else {}


def import_file_remove(*, import_: Import, reason: str) -> bool:
    """Delete the stored file of a finished or failed import; False when there was none to delete.

    The import keeps its counts and what it did (undo still works: it needs the records and the audit
    trail, not the file); it can no longer be run again, and its error file lists the problems without
    the rows' cells. ``reason`` ("retention" or "erasure") is kept with the date in its options.
    """
    if not import_.file or import_.status in (ImportStatus.QUEUED, ImportStatus.RUNNING):
        return False
    storage, name = import_.file.storage, str(import_.file.name)
    import_.file = None
    import_.options = {
        **import_.options,
        "file_removed": {"at": timezone.now().isoformat(), "reason": reason},
    }
    import_.save(update_fields=["file", "options"])
    transaction.on_commit(functools.partial(storage.delete, name))  # not before the row says so
    return True


def import_discard(*, import_: Import) -> None:
    """Delete an upload nobody started, with its file (the file once the deletion is committed)."""
    storage, name = import_.file.storage, str(import_.file.name or "")
    import_.delete()
    if name:
        transaction.on_commit(functools.partial(storage.delete, name))


def imports_purge(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Apply the retention period (``IMPORT_RETENTION_DAYS``) in every workspace.

    An import that ended longer ago loses its file and the problems found in its rows (they quote the
    rows' values); its counts stay. An upload nobody started in that time is deleted with its file.
    """
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.IMPORT_RETENTION_DAYS)
    ended = (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.UNDONE)
    files = errors = 0
    expired = Import.all_workspaces.filter(status__in=ended, finished_at__lt=cutoff)
    for import_ in expired.exclude(file="", errors=[]).iterator(chunk_size=200):
        files += import_file_remove(import_=import_, reason="retention")
        if import_.errors:
            errors += 1
            Import.all_workspaces.filter(pk=import_.pk).update(errors=[])
    abandoned = 0
    never_started = Import.all_workspaces.filter(status=ImportStatus.UPLOADED, created_at__lt=cutoff)
    for import_ in never_started.iterator():
        import_discard(import_=import_)
        abandoned += 1
    return {"files_removed": files, "errors_removed": errors, "uploads_deleted": abandoned}


def imports_holding(
    *, workspace: Workspace, person: Person, emails: Iterable[str] = (), phones: Iterable[str] = ()
) -> list[Import]:
    """The imports whose file may hold ``person``: those that created or changed them, and those with a
    row naming one of their ``emails`` or ``phones`` (E.164): a row skipped as a duplicate, an import
    undone since, an upload never started. Rows are compared loosely (an email anywhere in the row, a
    phone's last nine digits among the row's digits): a file removed too many costs less than a file
    kept with the person in it."""
    updated_by = AuditEvent.objects.filter(
        workspace=workspace,
        action=UPDATED_ACTION,
        target_type=Import._meta.label_lower,
        data__model="person",
        data__record=person.pk,
    ).values_list("target_id", flat=True)
    ids = {int(pk) for pk in updated_by} | ({person.import_batch_id} if person.import_batch_id else set())
    needles = _Needles.of(emails, phones)
    return [
        import_
        for import_ in Import.objects.filter(workspace=workspace).exclude(file="").order_by("pk")
        if import_.pk in ids or (needles and _file_mentions(import_, needles))
    ]


def import_problems_forget(*, workspace: Workspace, emails: Iterable[str], phones: Iterable[str]) -> int:
    """Drop the problems imports quote from rows that name one of ``emails`` or ``phones``; returns how
    many imports lost some."""
    needles = _Needles.of(emails, phones)
    changed = 0
    if not needles:
        return 0
    for import_ in Import.objects.filter(workspace=workspace).exclude(errors=[]):
        kept = [e for e in import_.errors if not needles.found(f"{e.get('value')}\t{e.get('message')}")]
        if len(kept) != len(import_.errors):
            Import.objects.filter(pk=import_.pk).update(errors=kept)
            changed += 1
    return changed


@dataclass(frozen=True)
class _Needles:
    """A person's emails and phones, to be found in rows of text."""

    emails: frozenset[str]
    tails: frozenset[str]  # the last nine digits of each phone

    @classmethod
    def of(cls, emails: Iterable[str], phones: Iterable[str]) -> _Needles:
        digits = (re.sub(r"\D", "", phone) for phone in phones)
        return cls(
            frozenset(e.lower() for e in emails if e), frozenset(d[-9:] for d in digits if len(d) >= 6)
        )

    def __bool__(self) -> bool:
        return bool(self.emails or self.tails)

    def found(self, text: str) -> bool:
        text = text.lower()
        if any(email in text for email in self.emails):
            return True
        return bool(self.tails) and any(tail in re.sub(r"\D", "", text) for tail in self.tails)


def _file_mentions(import_: Import, needles: _Needles) -> bool:
    try:
        with open_rows(import_) as (_headers, rows):
            return any(needles.found("\t".join(row.cells)) for row in rows)
    except (OSError, ValidationFailed):
        return False  # unreadable: nothing to find in it


def import_get(*, workspace: Workspace, import_id: int) -> Import:
    """An import of the workspace (Import.DoesNotExist, so a 404, for any other id)."""
    return Import.objects.select_related("created_by").get(workspace=workspace, pk=import_id)


def import_list(*, workspace: Workspace, limit: int = 100) -> QuerySet[Import]:
    return (
        Import.objects.filter(workspace=workspace)
        .select_related("created_by")
        .order_by("-created_at", "-id")[:limit]
    )


# --- reading files --------------------------------------------------------------------------------


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def _sniff_format(head: bytes, filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ValidationFailed(
            _(
                "This is an old Excel (.xls) file or a password-protected workbook. Save it as .xlsx or CSV "
                "and upload it again."
            ),
            code="unsupported_format",
            fields={"file": [_("Unsupported file type.")]},
        )
    if suffix in (".xlsx", ".xlsm"):
        raise ValidationFailed(
            _(
                "The file is named %(name)s but it is not an Excel workbook: it may be damaged, or another "
                "kind of file renamed."
            )
            % {"name": filename},
            code="not_xlsx",
            fields={"file": [_("Not an Excel workbook.")]},
        )
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ValidationFailed(
            _("This is not a text file: upload a CSV, an Excel workbook (.xlsx) or a vCard (.vcf)."),
            code="unsupported_format",
            fields={"file": [_("Unsupported file type.")]},
        )
    return "vcard" if suffix in (".vcf", ".vcard") else "text"


def _describe_xlsx(stream: Any) -> dict[str, Any]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ValidationFailed(
            _("The file is not a readable Excel workbook (.xlsx): %(reason)s") % {"reason": str(exc)[:120]},
            code="not_xlsx",
            fields={"file": [_("Not an Excel workbook.")]},
        ) from None
    except Exception as exc:  # openpyxl raises many kinds on a zip that is not a workbook
        raise ValidationFailed(
            _("The file is a ZIP archive but not an Excel workbook (.xlsx)."),
            code="not_xlsx",
            fields={"file": [_("Not an Excel workbook.")]},
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        header: list[str] = []
        for values in sheet.iter_rows(values_only=True):
            cells = [_cell_text(v) for v in values]
            if any(c.strip() for c in cells):
                header = cells
                break
    finally:
        workbook.close()
    return {"format": "xlsx", "sheet": sheet.title, "headers": _clean_headers(header)}


def _describe_text(
    stream: Any, filename: str, fmt: str, *, encoding: str | None, delimiter: str | None
) -> dict[str, Any]:
    encoding = encoding or _detect_encoding(stream)
    stream.seek(0)
    head = stream.read(SAMPLE_BYTES)
    sample = head.decode(encoding, errors="replace")
    if vcard.looks_like_vcard(sample):
        return {"format": "vcard", "encoding": encoding, "headers": list(vcard.HEADERS)}
    if fmt == "vcard":
        raise ValidationFailed(
            _("The file is named %(name)s but does not start with BEGIN:VCARD: it is not a vCard.")
            % {"name": filename},
            code="not_vcard",
            fields={"file": [_("Not a vCard.")]},
        )
    lines = sample.splitlines()
    if len(head) >= SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the sample may end in the middle of a line
    delimiter = delimiter or _detect_delimiter(lines)
    header: list[str] = []
    try:
        for cells in csv.reader(lines, delimiter=delimiter):
            if any(c.strip() for c in cells):
                header = cells
                break
    except csv.Error as exc:
        raise ValidationFailed(
            _("The first row of the file cannot be read: %(reason)s") % {"reason": exc},
            code="unreadable",
            fields={"file": [_("Unreadable header.")]},
        ) from None
    if not header:
        raise ValidationFailed(
            _("The file has no rows: the first row must name the columns."),
            code="file_empty",
            fields={"file": [_("No header row.")]},
        )
    return {"format": "csv", "encoding": encoding, "delimiter": delimiter, "headers": _clean_headers(header)}


def _clean_headers(cells: list[str]) -> list[str]:
    while cells and not cells[-1].strip():
        cells = cells[:-1]
    headers: list[str] = []
    for index, cell in enumerate(cells, start=1):
        name = " ".join(cell.replace("\ufeff", "").split()) or _("Column %(number)s") % {"number": index}
        candidate, n = name, 1
        while candidate in headers:
            n += 1
            candidate = f"{name} ({n})"
        headers.append(candidate)
    if not headers:
        raise ValidationFailed(
            _("The file has no rows: the first row must name the columns."),
            code="file_empty",
            fields={"file": [_("No header row.")]},
        )
    return headers


# Letters of the languages Clientela speaks and their neighbours; a wrong single-byte guess turns them
# into symbols (Romanian ş read as Windows-1252 is º, Hungarian ő is õ).
_EXPECTED_LETTERS = frozenset(
    "àèéìòùáíóúâêîôûäëïöüçñœæßăşţșțőűÀÈÉÌÒÙÁÍÓÚÂÊÎÔÛÄËÏÖÜÇÑŒÆĂŞŢȘȚŐŰ"
    "€\u2013\u2014\u2018\u2019\u201c\u201d\u201e\u2026«»°·"  # typographic dashes and quotes
)
_SINGLE_BYTE = ("cp1252", "cp1250", "iso8859-2", "iso8859-15")
# fmt: off
_LATIN_GUESSES = {
    "ascii", "cp1250", "cp1252", "cp1254", "cp1257", "cp1258", "latin_1", "iso8859_1", "iso8859_2",
    "iso8859_3", "iso8859_4", "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_15",
    "iso8859_16", "mac_roman", "mac_latin2", "mac_iceland", "mac_turkish", "cp437", "cp850", "cp852",
    "cp858", "hp_roman8",
}
# fmt: on


def _detect_encoding(stream: Any) -> str:
    """UTF-8 (with or without BOM) if the whole file is valid UTF-8; UTF-16 by its BOM; otherwise the
    best single-byte encoding for the sample (charset-normalizer, refined for Central European text)."""
    stream.seek(0)
    head = stream.read(SAMPLE_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    stream.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := stream.read(1024 * 1024):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    guess = from_bytes(head).best()
    if guess is not None and guess.encoding not in _LATIN_GUESSES:
        return codecs.lookup(guess.encoding).name
    return max(_SINGLE_BYTE, key=lambda encoding: _letter_score(head, encoding))


def _letter_score(data: bytes, encoding: str) -> int:
    text = data.decode(encoding, errors="replace")
    score = 0
    for char in text:
        if char.isascii():
            continue
        score += 2 if char in _EXPECTED_LETTERS else -3
    return score


def _detect_delimiter(lines: list[str]) -> str:
    """The delimiter by csv.Sniffer, checked against the one that splits the most lines consistently."""
    sample = "\n".join(lines[:50])
    try:
        sniffed: str | None = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        sniffed = None
    scores = {d: _consistency(lines[:50], d) for d in DELIMITERS}
    best = max(scores, key=lambda d: scores[d])
    if sniffed in scores and scores[sniffed] >= scores[best]:
        return sniffed
    return best if scores[best] > 0 else ","


def _consistency(lines: list[str], delimiter: str) -> float:
    rows: list[list[str]] = []
    with contextlib.suppress(csv.Error):  # a broken line: judge by the lines before it
        rows.extend(r for r in csv.reader(lines, delimiter=delimiter) if r)
    if not rows or len(rows[0]) < 2:
        return 0.0
    width = len(rows[0])
    return sum(1 for r in rows if len(r) == width) / len(rows) * width


@contextmanager
def open_rows(import_: Import) -> Iterator[tuple[list[str], Iterator[SourceRow]]]:
    """The stored file's header and its data rows, streamed (blank rows are left out)."""
    options = import_.options
    headers = list(options["headers"])
    if not import_.file:
        raise ValidationFailed(_("The file of this import has been removed."))
    with import_.file.storage.open(str(import_.file.name), "rb") as raw:
        if options["format"] == "xlsx":
            yield headers, _xlsx_rows(raw, options.get("sheet"), headers)
        else:
            encoding = options["encoding"]
            errors = "strict" if encoding.startswith("utf") else "replace"
            text = io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="")
            try:
                if options["format"] == "vcard":
                    yield headers, _vcard_rows(text)
                else:
                    yield headers, _csv_rows(text, options["delimiter"], headers)
            finally:
                text.detach()


def _csv_rows(text: io.TextIOWrapper, delimiter: str, headers: list[str]) -> Iterator[SourceRow]:
    reader = csv.reader(text, delimiter=delimiter)
    number = 0
    header_seen = False
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            yield SourceRow(number + 1, [], [Problem(number + 1, "", _unreadable(exc))])
            return
        number += 1
        if not any(c.strip() for c in cells):
            continue
        if not header_seen:
            header_seen = True
            continue
        yield SourceRow(number, cells, _ragged(number, cells, headers))


def _unreadable(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return _(
            "The file cannot be read from this row on: it is not valid %(encoding)s. Choose the file's "
            "encoding and try again."
        ) % {"encoding": exc.encoding}
    return _(
        "The file cannot be read from this row on (%(reason)s): a quote may be opened and never closed."
    ) % {"reason": str(exc)}


def _ragged(number: int, cells: list[str], headers: list[str]) -> list[Problem]:
    width = len(headers)
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        return [
            Problem(
                number,
                "",
                _(
                    "The row has %(count)s values but the header has %(width)s columns: the values after "
                    "“%(last)s” have no column."
                )
                % {"count": len(cells), "width": width, "last": headers[-1]},
                cells[width][:100],
            )
        ]
    if len(cells) < width:
        return [
            Problem(
                number,
                headers[len(cells)],
                _(
                    "The row has %(count)s values but the header has %(width)s columns: it ends before "
                    "“%(column)s”."
                )
                % {"count": len(cells), "width": width, "column": headers[len(cells)]},
            )
        ]
    return []


def _xlsx_rows(raw: Any, sheet_name: str | None, headers: list[str]) -> Iterator[SourceRow]:
    from openpyxl import load_workbook

    workbook = load_workbook(raw, read_only=True, data_only=True)
    try:
        sheet = workbook[sheet_name] if sheet_name in workbook.sheetnames else workbook.worksheets[0]
        sheet.reset_dimensions()
        header_seen = False
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if not any(c.strip() for c in cells):
                continue
            if not header_seen:
                header_seen = True
                continue
            cells = (cells + [""] * len(headers))[: max(len(headers), len(cells))]
            yield SourceRow(number, cells, _ragged(number, cells, headers))
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _vcard_rows(text: io.TextIOWrapper) -> Iterator[SourceRow]:
    try:
        for card in vcard.iter_cards(text):
            problems = [Problem(card.number, column, message) for column, message in card.problems]
            yield SourceRow(card.number, card.cells, problems)
    except UnicodeDecodeError as exc:
        yield SourceRow(0, [], [Problem(None, "", _unreadable(exc))])


# --- mapping and validation -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    index: int
    header: str
    target: str


def _clean_mapping(import_: Import, mapping: dict[str, str]) -> dict[str, str]:
    return {h: mapping.get(h, "") or "" for h in import_.options["headers"]}


def _compile(import_: Import, mapping: dict[str, str]) -> list[_Column]:
    """The mapped columns, or ValidationFailed naming each column whose mapping is wrong."""
    headers = list(import_.options["headers"])
    targets = {t.key: t for t in import_fields(workspace=import_.workspace, entity=import_.entity)}
    errors: dict[str, list[str]] = {}
    columns: list[_Column] = []
    used: dict[str, str] = {}
    for header, target in mapping.items():
        if not target:
            continue
        if header not in headers:
            errors[f"mapping.{header}"] = [_("The file has no column “%(column)s”.") % {"column": header}]
        elif target not in targets:
            errors[f"mapping.{header}"] = [_("There is no field %(field)s.") % {"field": target}]
        elif target in used and not targets[target].multiple:
            errors[f"mapping.{header}"] = [
                _("“%(field)s” is already taken by the column “%(column)s”.")
                % {"field": targets[target].label, "column": used[target]}
            ]
        else:
            used.setdefault(target, header)
            columns.append(_Column(headers.index(header), header, target))
    required = {"first_name", "last_name", "full_name"} if import_.entity == "person" else {"name"}
    if not required & set(used) and not errors:
        message = (
            _("Map a column to the first name, the last name or the full name.")
            if import_.entity == "person"
            else _("Map a column to the company name.")
        )
        errors["mapping"] = [message]
    if errors:
        raise ValidationFailed(_("Please correct the column mapping."), fields=errors)
    return sorted(columns, key=lambda c: c.index)


class _RowParser:
    """Validates and normalises rows for one import: loaded once, then fast per row."""

    def __init__(self, *, workspace: Workspace, entity: str, columns: list[_Column]) -> None:
        self.workspace = workspace
        self.entity = entity
        self.model: type[Person] | type[Company] = Person if entity == "person" else Company
        self.region = workspace.default_region
        self.month_first = self.region.upper() in MONTH_FIRST_REGIONS
        self.custom_fields = {
            f.key: f for f in CustomField.objects.filter(workspace=workspace, entity=entity, archived_at=None)
        }
        for custom_field in self.custom_fields.values():
            custom_field.workspace = workspace  # money values read its currency
        self.members = _member_lookup(workspace)
        # The country first: a phone written without its country code is read in the row's country.
        ordered = sorted(columns, key=lambda column: column.target != "country")
        self.handlers = [(c.index, c.header, self._handler(c.target)) for c in ordered]
        # Countries, choices, tags and owners repeat from row to row: their folded text is kept.
        self.folded: dict[str, str] = {}
        self.tag_lists: dict[str, list[str]] = {}
        name_targets = ("first_name", "last_name", "full_name", "name")
        self.name_column = next((c.header for c in columns if c.target in name_targets), "")

    def parse(self, source: SourceRow) -> ParsedRow:
        row = ParsedRow(number=source.number, problems=list(source.problems))
        cells = source.cells
        for index, header, handler in self.handlers:
            raw = cells[index].strip() if index < len(cells) else ""
            if not raw:
                continue
            row.blank = False
            try:
                handler(raw, row)
            except _Invalid as exc:
                row.problems.append(Problem(source.number, header, exc.message, raw[:100]))
        if row.notes:
            row.values["notes"] = "\n".join(row.notes)
        if self.entity == "person" and row.full_name:
            first, _sep, last = row.full_name.rpartition(" ")
            row.values.setdefault("first_name", first[:100])
            row.values.setdefault("last_name", last[:100])
        if not row.blank and not any(p.column == self.name_column for p in row.problems):
            if self.entity == "person" and not (row.values.get("first_name") or row.values.get("last_name")):
                message = _("A person needs a first or a last name.")
                row.problems.append(Problem(source.number, self.name_column, message))
            if self.entity == "company" and not row.values.get("name"):
                row.problems.append(Problem(source.number, self.name_column, _("A company needs a name.")))
        return row

    def _handler(self, target: str) -> Callable[[str, ParsedRow], None]:
        if target.startswith("custom."):
            return functools.partial(self._custom, self.custom_fields[target[7:]])
        special: dict[str, Callable[[str, ParsedRow], None]] = {
            "full_name": self._full_name,
            "company": self._company_name,
            "email": self._emails,
            "phone": self._phones,
            "tags": self._tags,
            "notes": lambda raw, row: row.notes.append(raw),
            "birth_date": self._birth_date,
            "owner": self._owner,
            "language": self._language,
            "country": self._country,
            "vat_number": self._vat,
            "website": self._website,
            "size": self._size,
        }
        if target in special:
            return special[target]
        if target in ("street", "city", "postal_code", "region"):
            limit = getattr(Address._meta.get_field(target), "max_length", None) or 100
            return functools.partial(self._address_part, target, limit)
        model_field = self.model._meta.get_field(target)
        choices = getattr(model_field, "choices", None)
        if choices:
            return functools.partial(self._choice, target, _choice_lookup(self.entity, target))
        return functools.partial(self._text, target, getattr(model_field, "max_length", None))

    def _text(self, name: str, limit: int | None, raw: str, row: ParsedRow) -> None:
        row.values[name] = _limited(raw, limit)

    def _full_name(self, raw: str, row: ParsedRow) -> None:
        row.full_name = " ".join(raw.split())

    def _company_name(self, raw: str, row: ParsedRow) -> None:
        row.company_name = _limited(" ".join(raw.split()), 200)

    def _fold(self, raw: str) -> str:
        folded = self.folded.get(raw)
        if folded is None:
            if len(self.folded) > CACHE_LIMIT:
                self.folded.clear()
            folded = self.folded[raw] = fold(raw)
        return folded

    def _emails(self, raw: str, row: ParsedRow) -> None:
        bad = []
        for item in _EMAIL_SEPARATORS.split(raw) if _EMAIL_SEPARATOR_CHARS.search(raw) else [raw]:
            email = item.strip().strip("<>").removeprefix("mailto:").lower()
            if not email:
                continue
            if not (len(email) <= 254 and _PLAIN_EMAIL.fullmatch(email)):
                try:
                    validate_email(email)
                except ValidationError:
                    bad.append(item)
                    continue
            if email not in row.emails:
                row.emails.append(email)
        if bad:
            raise _Invalid(_("“%(value)s” is not a valid email address.") % {"value": ", ".join(bad)})

    def _phones(self, raw: str, row: ParsedRow) -> None:
        bad = []
        for item in _PHONE_SEPARATORS.split(raw) if _PHONE_SEPARATOR_CHARS.search(raw) else [raw]:
            if not item.strip():
                continue
            try:
                e164 = to_e164(item, row.address.get("country") or self.region)
            except ValidationFailed as exc:
                bad.append(exc.message)
                continue
            if e164 not in [p for p, _raw in row.phones]:
                row.phones.append((e164, item.strip()[:40]))
        if bad:
            raise _Invalid(" ".join(bad))

    def _tags(self, raw: str, row: ParsedRow) -> None:
        names = self.tag_lists.get(raw)
        if names is None:
            if len(self.tag_lists) > CACHE_LIMIT:
                self.tag_lists.clear()
            names = self.tag_lists[raw] = [
                " ".join(item.strip().lstrip("*").split())[:60] for item in _TAG_SEPARATORS.split(raw)
            ]
        for name in names:
            if name and name.casefold() not in {t.casefold() for t in row.tags}:
                row.tags.append(name)

    def _birth_date(self, raw: str, row: ParsedRow) -> None:
        value = parse_date_text(raw, month_first=self.month_first)
        if value > timezone.localdate():
            raise _Invalid(_("“%(value)s” is in the future.") % {"value": raw})
        if value.year < 1900:
            raise _Invalid(_("“%(value)s” is before 1900.") % {"value": raw})
        row.values["birth_date"] = value

    def _owner(self, raw: str, row: ParsedRow) -> None:
        user_id = self.members.get(raw.strip().lower()) or self.members.get(self._fold(raw))
        if user_id is None:
            message = _("No member of this workspace is “%(value)s” (give their email).")
            raise _Invalid(message % {"value": raw})
        row.values["owner_id"] = user_id

    def _language(self, raw: str, row: ParsedRow) -> None:
        code = _languages().get(self._fold(raw)) or _languages().get(
            raw.strip().lower().replace("_", "-").split("-")[0]
        )
        if code is None:
            raise _Invalid(_("“%(value)s” is not a language; use a code such as it or hu.") % {"value": raw})
        row.values["language"] = code

    def _country(self, raw: str, row: ParsedRow) -> None:
        code = _countries().get(self._fold(raw))
        if code is None:
            raise _Invalid(
                _("“%(value)s” is not a country; use a two-letter code such as IT.") % {"value": raw}
            )
        row.address["country"] = code

    def _address_part(self, name: str, limit: int, raw: str, row: ParsedRow) -> None:
        row.address[name] = _limited(" ".join(raw.split()), limit)

    def _vat(self, raw: str, row: ParsedRow) -> None:
        try:
            row.values["vat_number"] = vat_normalise(raw, self.region)
        except ValidationFailed as exc:
            raise _Invalid(exc.message) from None

    def _website(self, raw: str, row: ParsedRow) -> None:
        url = raw if "://" in raw else f"https://{raw}"
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise _Invalid(_("“%(value)s” is not a web address.") % {"value": raw}) from None
        row.values["website"] = _limited(url, 200)

    def _size(self, raw: str, row: ParsedRow) -> None:
        count = re.sub(r"[\s.,']", "", raw)
        if count.isdigit():
            row.values["size"] = _size_band(int(count))
            return
        self._choice("size", _choice_lookup(self.entity, "size"), raw, row)

    def _choice(self, name: str, lookup: dict[str, str], raw: str, row: ParsedRow) -> None:
        value = lookup.get(self._fold(raw))
        if value is None:
            labels = ", ".join(
                str(label)
                for label in dict(getattr(self.model._meta.get_field(name), "choices", None) or []).values()
            )
            raise _Invalid(_("“%(value)s” is not one of: %(choices)s.") % {"value": raw, "choices": labels})
        row.values[name] = value

    def _custom(self, custom_field: CustomField, raw: str, row: ParsedRow) -> None:
        value: Any = raw
        if custom_field.type == "date":
            value = parse_date_text(raw, month_first=self.month_first).isoformat()
        try:
            row.custom[custom_field.key] = _custom_value(custom_field, value)
        except ValueError as exc:
            raise _Invalid(str(exc)) from None


# Splitting a cell into several emails, phones or tags; most cells hold one, and skip the split.
_EMAIL_SEPARATORS = re.compile(r"\s*(?:;|,|:::|\s)\s*")
_EMAIL_SEPARATOR_CHARS = re.compile(r"[;,:\s]")
_PHONE_SEPARATORS = re.compile(r"\s*(?:;|:::|\n)\s*")
_PHONE_SEPARATOR_CHARS = re.compile(r"[;:\n]")
_TAG_SEPARATORS = re.compile(r"\s*(?:;|,|:::)\s*")
# An address Django's validate_email accepts for sure (dot-atom local part, ASCII host names, a
# letters-only top-level domain): checked with one regular expression, anything else by Django.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_+-]+(?:\.[a-z0-9_+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)


def _limited(value: str, limit: int | None) -> str:
    if limit is not None and len(value) > limit:
        raise _Invalid(_("This is longer than %(limit)s characters.") % {"limit": limit})
    return value


def parse_date_text(text: str, *, month_first: bool = False) -> dt.date:
    """A date as people write it: 1985-03-12, 12/03/1985, 12.03.1985, 1985. 03. 12., 19850312.

    Day and month order follows the workspace's region when the text does not decide it.
    """
    value = text.strip()
    iso = re.fullmatch(r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})\.?(?:[ T].*)?", value)
    other = re.fullmatch(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4}|\d{2})\.?(?:[ T].*)?", value)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif re.fullmatch(r"\d{8}", value):
        year, month, day = int(value[:4]), int(value[4:6]), int(value[6:])
    elif other:
        first, second, year = (int(g) for g in other.groups())
        if len(other.group(3)) == 2:
            year += 2000 if year <= timezone.localdate().year % 100 else 1900
        if first > 12 or (not month_first and second <= 12):
            day, month = first, second
        else:
            month, day = first, second
    elif re.fullmatch(r"--\d{2}-?\d{2}", value):
        raise _Invalid(_("“%(value)s” has no year.") % {"value": text})
    else:
        raise _Invalid(_("“%(value)s” is not a date; write it as YYYY-MM-DD.") % {"value": text})
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise _Invalid(_("“%(value)s” is not a real date.") % {"value": text}) from None


def _size_band(count: int) -> str:
    for limit, band in ((9, "1-9"), (49, "10-49"), (249, "50-249"), (999, "250-999")):
        if count <= limit:
            return band
    return "1000+"


# fmt: off
_CHOICE_SYNONYMS: dict[str, dict[str, str]] = {
    "gender": {
        "f": "female", "woman": "female", "w": "female", "donna": "female", "femmina": "female",
        "no": "female", "femeie": "female", "m": "male", "man": "male", "uomo": "male", "maschio": "male",
        "ferfi": "male", "barbat": "male", "x": "nonbinary", "other": "nonbinary", "diverse": "nonbinary",
    },
    "lifecycle_stage": {
        "marketingqualifiedlead": "lead", "marketing qualified lead": "lead", "mql": "lead",
        "salesqualifiedlead": "lead", "sales qualified lead": "lead", "sql": "lead", "prospect": "lead",
        "evangelist": "customer", "client": "customer", "cliente": "customer", "ugyfel": "customer",
        "former customer": "former_customer", "churned": "former_customer",
    },
    "preferred_channel": {
        "e-mail": "email", "mail": "email", "telephone": "phone", "call": "phone", "text": "sms",
        "whatsapp": "messenger", "telegram": "messenger", "letter": "post",
    },
}
# fmt: on
_CHOICES: dict[str, type[models.TextChoices]] = {
    "gender": Gender,
    "marital_status": MaritalStatus,
    "income_band": IncomeBand,
    "education": Education,
    "preferred_channel": Channel,
    "lifecycle_stage": LifecycleStage,
    "size": CompanySize,
}


@functools.cache
def _choice_lookup(entity: str, name: str) -> dict[str, str]:
    """Folded value or label (in every language) -> stored value."""
    choices = _CHOICES[name]
    lookup = {fold(value): value for value in choices.values}
    lookup.update({fold(value.replace("_", " ")): value for value in choices.values})
    for code, _language in settings.LANGUAGES:
        with translation.override(code):
            for value, label in choices.choices:
                lookup.setdefault(fold(str(label)), value)
    for synonym, value in _CHOICE_SYNONYMS.get(name, {}).items():
        lookup.setdefault(fold(synonym), value)
    return lookup


_LOCALES = ("en", "it", "hu", "ro", "de", "fr", "es")
_COUNTRY_ALIASES = {"usa": "US", "united states of america": "US", "america": "US", "uk": "GB",
                    "great britain": "GB", "england": "GB", "holland": "NL"}  # fmt: skip


@functools.cache
def _countries() -> dict[str, str]:
    from babel import Locale

    lookup: dict[str, str] = {}
    for locale in _LOCALES:
        for code, name in Locale.parse(locale).territories.items():
            if len(code) == 2 and code.isalpha():
                lookup.setdefault(fold(code), code)
                lookup.setdefault(fold(name), code)
    lookup.update({fold(k): v for k, v in _COUNTRY_ALIASES.items()})
    return lookup


@functools.cache
def _languages() -> dict[str, str]:
    from babel import Locale

    lookup: dict[str, str] = {}
    for locale in _LOCALES:
        for code, name in Locale.parse(locale).languages.items():
            if 2 <= len(code) <= 3 and code.isalpha():
                lookup.setdefault(code.lower(), code.lower())
                lookup.setdefault(fold(name), code.lower())
    return lookup


def _member_lookup(workspace: Workspace) -> dict[str, int]:
    lookup: dict[str, int] = {}
    names: dict[str, list[int]] = defaultdict(list)
    for user in User.objects.filter(
        pk__in=Membership.objects.filter(workspace=workspace, is_active=True).values("user_id")
    ):
        lookup[user.email.lower()] = user.pk
        if user.full_name:
            names[fold(user.full_name)].append(user.pk)
    lookup.update({name: ids[0] for name, ids in names.items() if len(ids) == 1})
    return lookup


def _fold_name(name: str) -> str:
    return " ".join(name.casefold().split())


# --- running --------------------------------------------------------------------------------------


class _Superseded(Exception):
    """Another run of the same import has moved its progress: this run must stop."""


class _WriteRefused(Exception):
    """A row failed at write time in an all-or-nothing import."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].text)
        self.problems = problems


def _check(import_: Import, parser: _RowParser, *, validate: bool) -> bool:
    """The first pass: count the rows and, when ``validate``, find every problem. False if it failed."""
    _set_phase(import_, "checking")
    total = failed = 0
    kept: list[dict[str, Any]] = []
    with open_rows(import_) as (_headers, rows):
        for source in rows:
            total += 1
            if validate:
                problems = parser.parse(source).problems
                if problems:
                    failed += 1
                    kept.extend(p.as_dict() for p in problems[: max(0, MAX_KEPT_ERRORS - len(kept))])
            if total % PROGRESS_EVERY == 0:
                Import.objects.filter(pk=import_.pk).update(total_rows=total)
    import_.total_rows = total
    if failed:
        import_.status = ImportStatus.FAILED
        import_.failed_count = failed
        import_.errors = kept
        import_.finished_at = timezone.now()
        import_.options = {
            **import_.options,
            "phase": "checked",
            "errors_truncated": len(kept) >= MAX_KEPT_ERRORS,
        }
        import_.save(
            update_fields=["status", "failed_count", "errors", "finished_at", "options", "total_rows"]
        )
        audit_record(
            workspace=import_.workspace,
            actor=import_.created_by,
            action="import.refused",
            target=import_,
            summary=import_.filename,
            data={"failed_rows": failed},
        )
        return False
    import_.options = {**import_.options, "checked": True}
    import_.save(update_fields=["options", "total_rows"])
    return True


def _write(import_: Import, parser: _RowParser) -> None:
    """The second pass: batches of rows, each written and counted in one transaction."""
    _set_phase(import_, "writing")
    all_or_nothing = not import_.options.get("valid_rows_only")
    writer = _Writer(import_)
    batches = _parsed_batches(import_, parser, skip=import_.processed_rows)
    looked_up = (writer.look_up(batch) for batch in batches)
    # With no transaction around the run (the worker), the next batches are read, parsed and looked up
    # in a thread, on a connection of its own, while this one is planned; on PostgreSQL the planned
    # batches are written on WRITERS connections at once (the database's work, indexes above all, is
    # most of an import's), and committed in file order. Inside a caller's transaction everything stays
    # in the caller's thread, so every read sees that transaction.
    in_thread = not connection.in_atomic_block
    writers = WRITERS if in_thread and connection.vendor == "postgresql" else 1
    with (
        without_memory_map(),
        _fewer_collections(),
        _read_ahead(looked_up, enabled=in_thread) as ready,
        _InOrder(writers) as in_order,
    ):
        for looked in ready:
            failed = [row for row in looked.rows if row.problems]
            if failed and all_or_nothing:
                raise _WriteRefused([p for row in failed for p in row.problems])
            plan = writer.plan(looked)
            if plan.updates:
                in_order.settle()  # an update reads the records as the batches ahead of it left them
            in_order.submit(functools.partial(_commit_batch, import_, writer, plan))


def _parsed_batches(import_: Import, parser: _RowParser, *, skip: int) -> Iterator[list[ParsedRow]]:
    """The file's rows after the first ``skip`` (written by an earlier run), parsed, in batches."""
    size = BATCH_SIZE if connection.vendor == "postgresql" else min(BATCH_SIZE, SQLITE_BATCH_SIZE)
    batch: list[ParsedRow] = []
    with open_rows(import_) as (_headers, rows):
        for index, source in enumerate(rows):
            if index < skip:
                continue
            batch.append(parser.parse(source))
            if len(batch) >= size:
                yield batch
                batch = []
        if batch:
            yield batch


_collections_lock = threading.Lock()
_collections_held: list[tuple[int, ...]] = []  # the thresholds to put back, while imports write


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Python's cycle collector, told to look less often while the rows are written.

    An import allocates millions of small lists and dicts, next to none of them in a reference cycle.
    By default the collector walks the young objects after every 700 allocations and, every hundred of
    those walks, every object of the process, Django's included: a tenth of an import's time. The objects
    already there are frozen out of its view and the young generation may grow to 500,000 objects (at
    50,000, a million rows still cost 200 walks over the batches in flight, 5 s). The settings are the
    process's: the first import to write changes them, the last one to finish puts
    them back (a worker may run two at once).
    """
    with _collections_lock:
        if not _collections_held:
            before: tuple[int, ...] = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(YOUNG_OBJECTS, *before[1:])
            _collections_held.append(before)
        else:
            _collections_held.append(_collections_held[0])
    try:
        yield
    finally:
        with _collections_lock:
            after = _collections_held.pop()
            if not _collections_held:
                gc.set_threshold(*after)
                gc.unfreeze()


_DONE = object()


@contextmanager
def _read_ahead(items: Iterator[Any], *, enabled: bool, depth: int = 1) -> Iterator[Iterator[Any]]:
    """``items``, produced by a thread up to ``depth`` ahead of the consumer (when ``enabled``).

    The thread runs in a copy of the caller's context, with its language and time zone (messages and
    dates come out the same); what it reads from the database it reads on a connection of its own,
    closed when it ends. An exception in the thread is raised in the consumer; when the consumer
    stops early, the thread stops at its next item and closes ``items``.
    """
    if not enabled:
        yield items
        return
    pending: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()
    language = translation.get_language()
    zone = timezone.get_current_timezone()

    def offer(item: Any) -> bool:
        while not stop.is_set():
            with contextlib.suppress(queue.Full):
                pending.put(item, timeout=0.1)
                return True
        return False

    def produce() -> None:
        try:
            with translation.override(language), timezone.override(zone):
                for item in items:
                    if not offer(item):
                        return
            offer(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            offer(exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
            db.connections.close_all()  # this thread's own connections (they are per thread)

    def consume() -> Iterator[Any]:
        while (item := pending.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item

    context = contextvars.copy_context()
    thread = threading.Thread(target=context.run, args=(produce,), name="import-read-ahead", daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        thread.join()


class _InOrder:
    """Runs the writes of batches on up to ``count`` database connections at once (threads of its own)
    and has them commit in the order they came; with ``count`` 1, each runs at once in the caller's
    thread.

    A write is called with ``wait_turn``, which it calls just before it commits: it returns once the
    write before it has committed, and raises what that one raised (a write after a failed one is rolled
    back too). At most ``count`` writes are in flight: ``submit`` first waits for the oldest, and raises
    its failure; so does ``settle``, which waits for them all.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.in_flight: deque[Future[None]] = deque()
        self.pool = ThreadPoolExecutor(count, thread_name_prefix="import-writer") if count > 1 else None
        self.language = translation.get_language()
        self.zone = timezone.get_current_timezone()

    def submit(self, write: Callable[[Callable[[], None]], None]) -> None:
        if self.pool is None:
            write(lambda: None)
            return
        while len(self.in_flight) >= self.count:
            self.in_flight.popleft().result()
        ahead = self.in_flight[-1] if self.in_flight else None

        def wait_turn() -> None:
            if ahead is not None:
                ahead.result()

        context = contextvars.copy_context()  # the workspace scope, among others
        self.in_flight.append(self.pool.submit(context.run, self._run, write, wait_turn))

    def _run(self, write: Callable[[Callable[[], None]], None], wait_turn: Callable[[], None]) -> None:
        try:
            with translation.override(self.language), timezone.override(self.zone):
                write(wait_turn)
        finally:
            db.connections.close_all()  # this thread's own connections

    def settle(self) -> None:
        while self.in_flight:
            self.in_flight.popleft().result()

    def __enter__(self) -> _InOrder:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, traceback: object) -> None:
        if self.pool is None:
            return
        try:
            if exc is None:
                self.settle()
            else:  # leaving on an error: the writes in flight, all ahead of it, still finish
                for future in self.in_flight:
                    with contextlib.suppress(BaseException):
                        future.result()
        finally:
            self.pool.shutdown()


def _commit_batch(import_: Import, writer: _Writer, plan: _Plan, wait_turn: Callable[[], None]) -> None:
    """Write a planned batch and advance the import's counters in one transaction. It commits after the
    batches before it (``wait_turn``), so the counters always cover a prefix of the file (where a new
    run starts), and only if, under a row lock, no other run has moved them."""
    batch = plan.rows
    failed = [row for row in batch if row.problems]
    with transaction.atomic():
        counts = writer.execute(plan)
        wait_turn()
        current = Import.objects.select_for_update().only("status", "processed_rows").get(pk=import_.pk)
        if current.status != ImportStatus.RUNNING or current.processed_rows != import_.processed_rows:
            raise _Superseded
        import_.processed_rows += len(batch)
        import_.created_count += counts.created
        import_.updated_count += counts.updated
        import_.skipped_count += counts.skipped + sum(1 for row in batch if row.blank and not row.problems)
        import_.failed_count += len(failed)
        update_fields = ["processed_rows", "created_count", "updated_count", "skipped_count", "failed_count"]
        if failed and len(import_.errors) < MAX_KEPT_ERRORS:
            room = MAX_KEPT_ERRORS - len(import_.errors)
            new = [p.as_dict() for row in failed for p in row.problems]
            import_.errors = [*import_.errors, *new[:room]]
            update_fields.append("errors")
            if len(new) > room:
                import_.options = {**import_.options, "errors_truncated": True}
                update_fields.append("options")
        import_.save(update_fields=update_fields)
    writer.committed()


def _set_phase(import_: Import, phase: str) -> None:
    import_.options = {**import_.options, "phase": phase}
    Import.objects.filter(pk=import_.pk).update(options=import_.options)


def _fail(import_: Import, exc: Exception, *, revert: bool) -> None:
    """Record why the import stopped; in all-or-nothing mode, remove what it had written."""
    if isinstance(exc, _WriteRefused):
        problems = exc.problems
    else:
        reason = str(exc)[:300] or type(exc).__name__
        problems = [Problem(None, "", _("The import stopped unexpectedly: %(reason)s") % {"reason": reason})]
    with transaction.atomic():
        import_.refresh_from_db()
        if revert and _wrote_anything(import_):
            _revert(import_)
            import_.created_count = import_.updated_count = import_.skipped_count = 0
            import_.processed_rows = 0
        import_.status = ImportStatus.FAILED
        import_.finished_at = timezone.now()
        import_.failed_count += len({p.row for p in problems if p.row is not None})
        import_.errors = [*import_.errors, *(p.as_dict() for p in problems)][:MAX_KEPT_ERRORS]
        import_.options = {**import_.options, "phase": "failed"}
        import_.save()


def _wrote_anything(import_: Import) -> bool:
    return bool(import_.created_count or import_.updated_count)


def _counts(import_: Import) -> dict[str, int]:
    return {
        "total": import_.total_rows,
        "created": import_.created_count,
        "updated": import_.updated_count,
        "skipped": import_.skipped_count,
        "failed": import_.failed_count,
    }


@dataclass
class _Counts:
    created: int = 0
    updated: int = 0
    skipped: int = 0


@dataclass
class _LookedUp:
    """A batch of parsed rows, with the live records their duplicate keys matched when looked up."""

    rows: list[ParsedRow]
    matches: dict[str, int]  # duplicate key -> record id
    seen_batches: int  # batches of this run committed before the lookup: the lookup saw what they wrote
    companies: dict[str, int] = field(default_factory=dict)  # folded company name -> id, as looked up
    companies_looked_for: set[str] = field(default_factory=set)
    company_cache_generation: int = 0  # ``_Writer.company_ids`` as it was when looked up


@dataclass
class _Pending:
    """A record to create, with the rows of the same batch that turned out to be the same record, and its
    id once known (reserved when planned on PostgreSQL, given by the insert on SQLite)."""

    row: ParsedRow
    pk: int | None = None

    def merge(self, other: ParsedRow) -> None:
        row = self.row
        row.search_text = ""  # to be worked out again
        row.values.update(other.values)
        row.company_name = other.company_name or row.company_name
        row.emails += [e for e in other.emails if e not in row.emails]
        row.phones += [p for p in other.phones if p[0] not in {q for q, _r in row.phones}]
        row.address = row.address or other.address
        row.tags += [t for t in other.tags if t not in row.tags]
        row.custom.update(other.custom)


@dataclass
class _Plan:
    """A batch as ``_Writer.plan`` decided it, in file order: what to create, what to update and what
    was skipped, with the ids of the companies and tags its rows name; ``_Writer.execute`` writes it."""

    number: int  # the batch's place in this run, from 0
    rows: list[ParsedRow]  # the whole batch, failed and blank rows included
    creates: list[_Pending] = field(default_factory=list)
    updates: dict[int, list[ParsedRow]] = field(default_factory=lambda: defaultdict(list))  # id -> rows
    counts: _Counts = field(default_factory=_Counts)  # rows skipped, or merged into an earlier row
    company_ids: dict[str, int] = field(default_factory=dict)  # folded company name -> id
    tag_ids: dict[str, int] = field(default_factory=dict)  # folded tag name -> id


class _Writer:
    """Writes batches of valid rows for one import: bulk inserts, batched duplicate lookups.

    ``look_up`` runs ahead in the read-ahead thread; ``plan`` runs in file order in the import's
    thread; ``execute`` may run on another connection, while the next batch is planned.
    """

    def __init__(self, import_: Import) -> None:
        self.import_ = import_
        self.workspace = import_.workspace
        self.entity = import_.entity
        self.policy = import_.options.get("duplicates", SKIP)
        self.run = int(import_.options.get("run", 1))
        self.model: type[Person] | type[Company] = Person if self.entity == "person" else Company
        self.key = self.entity
        self.workspace_id: int = self.workspace.pk
        self.owner_column = f"{self.entity}_id"
        self.company_ids: dict[str, int] = {}
        self.company_cache_generation = 0  # counts the times company_ids was emptied
        self.tag_ids: dict[str, int] = {}
        self.fold_cached = functools.lru_cache(maxsize=CACHE_LIMIT)(fold)
        # The tables duplicates and company names are looked up in, batch after batch.
        self.lookup_models: list[type[models.Model]] = [Email, Phone, Company]
        # A batch may be looked up (in the read-ahead thread) before the batches ahead of it are
        # committed: the keys each batch wrote are kept until every later lookup has seen them.
        self.batches_committed = 0
        self.batches_planned = 0
        # (batch number, key -> the record's id, or the record to create, whose id may come later)
        self.unseen: deque[tuple[int, dict[str, int | _Pending]]] = deque()

    def look_up(self, rows: list[ParsedRow]) -> _LookedUp:
        """The records that already have the batch's duplicate keys (runs ahead, on any connection),
        and the search text of each row, in case it is created."""
        seen = self.batches_committed  # read first: every batch counted is committed, so visible
        generation = self.company_cache_generation
        good = [row for row in rows if not row.problems and not row.blank]
        for row in good:
            row.search_text = self._search_text(row)
        looked = _LookedUp(rows, {}, seen, company_cache_generation=generation)
        if self.entity == "person":
            names = [row.company_name for row in good if row.company_name]
            looked.companies, looked.companies_looked_for = self._find_companies(names)
        if self.policy != CREATE and good:
            looked.matches = self.find_existing(self.workspace, self.entity, good)
        return looked

    def committed(self) -> None:
        self.batches_committed += 1

    def _matches(self, looked: _LookedUp) -> dict[str, int]:
        """What the lookup found, with the keys of the batches committed after it looked."""
        while self.unseen and self.unseen[0][0] < looked.seen_batches:
            self.unseen.popleft()
        matches = dict(looked.matches)
        for _number, written in self.unseen:
            for key, record in written.items():
                if isinstance(record, int):
                    matches.setdefault(key, record)
                elif record.pk is not None:  # written since: keep the id, let the rows go
                    written[key] = record.pk
                    matches.setdefault(key, record.pk)
        return matches

    def plan(self, looked: _LookedUp) -> _Plan:
        """Decide what each valid row of the batch does, against the records the lookup found and the
        batches planned before this one; create the companies and tags its rows name, and reserve the
        ids of its new records (PostgreSQL). Batches are planned one by one, in file order."""
        refresh_statistics(self.lookup_models)
        plan = _Plan(self.batches_planned, looked.rows)
        self.batches_planned += 1
        rows = [row for row in looked.rows if not row.problems and not row.blank]
        matches = {} if self.policy == CREATE else self._matches(looked)
        seen: dict[str, _Pending] = {}
        for row in rows:
            keys = row.keys(self.entity) if self.policy != CREATE else []
            existing = next((matches[k] for k in keys if k in matches), None)
            pending = next((seen[k] for k in keys if k in seen), None)
            if existing is not None or pending is not None:
                if self.policy == SKIP:
                    plan.counts.skipped += 1
                elif existing is not None:
                    plan.updates[existing].append(row)
                elif pending is not None:
                    pending.merge(row)
                    plan.counts.updated += 1
                continue
            new = _Pending(row)
            plan.creates.append(new)
            for key in keys:
                seen.setdefault(key, new)
        if self.entity == "person":
            names = [row.company_name for row in rows if row.company_name]
            plan.company_ids = self._resolve_companies(names, looked)
        plan.tag_ids = self._resolve_tags({t for r in rows for t in r.tags})
        reserved = reserve_ids(self.model, len(plan.creates))
        for new, pk in zip(plan.creates, reserved or (), strict=False):
            new.pk = pk
        if self.policy != CREATE:
            # The id when it is reserved already: a _Pending holds its rows, kept as long as the keys are.
            written: dict[str, int | _Pending] = {
                key: new if new.pk is None else new.pk
                for new in plan.creates
                for key in new.row.keys(self.entity)
            }
            for pk, updating in plan.updates.items():
                written.update((key, pk) for row in updating for key in row.keys(self.entity))
            self.unseen.append((plan.number, written))
        return plan

    def execute(self, plan: _Plan) -> _Counts:
        """Write what ``plan`` decided, in the caller's transaction; the batch's counts."""
        counts = _Counts(updated=plan.counts.updated, skipped=plan.counts.skipped)
        counts.created = self._create(plan)
        updated, unchanged = self._update(plan)
        counts.updated += updated
        counts.skipped += unchanged
        return counts

    @staticmethod
    def find_existing(workspace: Workspace, entity: str, rows: list[ParsedRow]) -> dict[str, int]:
        """Duplicate key -> id of the live record that has it (the oldest contact point wins)."""
        key = entity
        live = {f"{key}__isnull": False, f"{key}__deleted_at__isnull": True}
        found: dict[str, int] = {}
        emails = {e for r in rows for e in r.emails}
        phones = {p for r in rows for p, _raw in r.phones}
        matches: list[tuple[int, str, int]] = []  # (contact point id, key, owner id)
        if emails:
            matches += [
                (pk, f"e:{email}", owner)
                for pk, email, owner in Email.objects.filter(
                    workspace=workspace, email__in=values_query(emails), **live
                )
                .values_list("id", "email", f"{key}_id")
                .order_by()
            ]
        if phones:
            matches += [
                (pk, f"p:{e164}", owner)
                for pk, e164, owner in Phone.objects.filter(
                    workspace=workspace, e164__in=values_query(phones), **live
                )
                .values_list("id", "e164", f"{key}_id")
                .order_by()
            ]
        matches.sort()  # the oldest contact point with a key decides whose it is
        for _pk, match_key, owner in matches:
            found.setdefault(match_key, owner)
        if entity == "company":
            vats = {r.values["vat_number"] for r in rows if r.values.get("vat_number")}
            names = {r.values["name"] for r in rows if r.values.get("name")}
            companies = (
                Company.objects.filter(workspace=workspace).filter(
                    Q(vat_number__in=values_query(vats)) | Q(name__in=values_query(names))
                )
                if vats or names
                else Company.objects.none()
            )
            for pk, vat, name in companies.order_by("id").values_list("pk", "vat_number", "name"):
                if vat:
                    found.setdefault(f"v:{vat}", pk)
                found.setdefault(f"n:{_fold_name(name)}", pk)
        return found

    # creating

    def _create(self, plan: _Plan) -> int:
        """Insert the records ``plan`` creates (setting the ids that were not reserved); how many."""
        if not plan.creates:
            return 0
        records: list[_Row] = []
        company_ids: dict[str, int] = {}  # as written in the file -> id
        for new in plan.creates:
            row = new.row
            record = {
                **row.values,
                "workspace_id": self.workspace_id,
                "import_batch_id": self.import_.pk,
                "search_text": row.search_text or self._search_text(row),
            }
            if new.pk is not None:
                record["id"] = new.pk
            if row.custom:
                record["custom"] = row.custom
            if name := row.company_name:
                if name not in company_ids:
                    company_ids[name] = plan.company_ids[_fold_name(name)]
                record["company_id"] = company_ids[name]
            records.append(record)
        bulk_insert(self.model, records, ids=True, key_order=NAME_ORDER[self.entity])
        emails, phones, addresses, links = [], [], [], []
        for record, new in zip(records, plan.creates, strict=True):
            row = new.row
            pk = new.pk = record["id"]
            if row.emails:
                emails += self._emails(pk, row.emails, primary=True)
            if row.phones:
                phones += self._phones(pk, row.phones, primary=True)
            if row.address:
                addresses.append(self._address(pk, row.address, primary=True))
            if row.tags:
                links += self._links(pk, {plan.tag_ids[t.casefold()] for t in row.tags})
        self._insert(emails, phones, addresses, links, ids=False)
        return len(records)

    def _search_text(self, row: ParsedRow) -> str:
        values = row.values
        if self.entity == "person":
            return person_search_text(
                values.get("first_name", ""),
                values.get("last_name", ""),
                values.get("job_title", ""),
                row.company_name,
                row.emails,
                fold_part=self._fold_part,
            )
        return company_search_text(
            values.get("name", ""), values.get("legal_name", ""), values.get("vat_number", ""), row.emails
        )

    def _fold_part(self, text: str) -> str:
        if _PLAIN_EMAIL.fullmatch(text):
            return text  # lower-case ASCII letters, digits and ._+-@: folding leaves it as it is
        return self.fold_cached(text)

    # Contact points and tag links are plain rows (column -> value): no model instance per row.

    def _emails(self, owner_id: int, emails: Iterable[str], primary: bool) -> list[_Row]:
        key = self.owner_column
        return [
            {"workspace_id": self.workspace_id, key: owner_id, "email": e, "is_primary": primary and i == 0}
            for i, e in enumerate(emails)
        ]

    def _phones(self, owner_id: int, phones: Iterable[tuple[str, str]], primary: bool) -> list[_Row]:
        key = self.owner_column
        return [
            {
                "workspace_id": self.workspace_id,
                key: owner_id,
                "e164": e164,
                "raw": raw,
                "is_primary": primary and i == 0,
            }
            for i, (e164, raw) in enumerate(phones)
        ]

    def _address(self, owner_id: int, parts: dict[str, str], primary: bool) -> _Row:
        return {
            "workspace_id": self.workspace_id,
            self.owner_column: owner_id,
            "is_primary": primary,
            **parts,
        }

    def _links(self, owner_id: int, tag_ids: Iterable[int]) -> list[_Row]:
        key = self.owner_column
        return [{"workspace_id": self.workspace_id, key: owner_id, "tag_id": t} for t in tag_ids]

    def _insert(
        self, emails: list[_Row], phones: list[_Row], addresses: list[_Row], links: list[_Row], *, ids: bool
    ) -> None:
        """Write new contact points (with their ids when ``ids``: an update records them) and tag links."""
        bulk_insert(Email, emails, ids=ids)
        bulk_insert(Phone, phones, ids=ids)
        bulk_insert(Address, addresses, ids=ids)
        bulk_insert(PersonTag if self.entity == "person" else CompanyTag, links, ignore_conflicts=True)

    # updating

    def _update(self, plan: _Plan) -> tuple[int, int]:
        """Apply rows to existing records. Returns (records changed, rows that changed nothing)."""
        updates = plan.updates
        if not updates:
            return 0, 0
        ids = values_query(updates, db_type="bigint")
        found = self.model.objects.filter(workspace=self.workspace, pk__in=ids)
        records = {r.pk: r for r in (found.select_related("company") if self.entity == "person" else found)}
        owner = self.owner_column
        emails: dict[int, list[str]] = defaultdict(list)
        for pk, email in (
            Email.objects.filter(**{f"{owner}__in": ids}).order_by("id").values_list(owner, "email")
        ):
            emails[pk].append(email)
        phones: dict[int, set[str]] = defaultdict(set)
        for pk, e164 in Phone.objects.filter(**{f"{owner}__in": ids}).values_list(owner, "e164"):
            phones[pk].add(e164)
        places: dict[int, set[tuple[str, ...]]] = defaultdict(set)
        for values in Address.objects.filter(**{f"{owner}__in": ids}).values_list(owner, *_PLACE):
            places[values[0]].add(tuple(values[1:]))
        link_model: Any = PersonTag if self.entity == "person" else CompanyTag
        tags: dict[int, set[int]] = defaultdict(set)
        for pk, tag_id in link_model.objects.filter(**{f"{owner}__in": ids}).values_list(owner, "tag_id"):
            tags[pk].add(tag_id)

        now = timezone.now()
        changed_fields: set[str] = set()
        to_save: list[Person | Company] = []
        changes: list[
            tuple[Person | Company, dict[str, Any], list[_Row], list[_Row], list[_Row], list[int]]
        ] = []
        new_emails: list[_Row] = []
        new_phones: list[_Row] = []
        new_addresses: list[_Row] = []
        new_links: list[Any] = []
        unchanged = 0
        for pk, rows in updates.items():
            record = records.get(pk)
            if record is None:  # trashed since the lookup
                unchanged += len(rows)
                continue
            before: dict[str, Any] = {}
            added_emails: list[_Row] = []
            added_phones: list[_Row] = []
            added_addresses: list[_Row] = []
            added_tags: list[int] = []
            company_name = record.company.name if isinstance(record, Person) and record.company else ""
            for row in rows:
                for name, value in row.values.items():
                    if getattr(record, name) != value:
                        before.setdefault(name, _jsonable(getattr(record, name)))
                        setattr(record, name, value)
                if isinstance(record, Person) and row.company_name:
                    company_id = plan.company_ids[_fold_name(row.company_name)]
                    if record.company_id != company_id:
                        before.setdefault("company_id", record.company_id)
                        record.company_id = company_id
                    company_name = row.company_name
                if row.custom and {**record.custom, **row.custom} != record.custom:
                    before.setdefault("custom", dict(record.custom))
                    record.custom = {**record.custom, **row.custom}
                fresh_emails = [e for e in row.emails if e not in emails[pk]]
                added_emails += self._emails(pk, fresh_emails, primary=not emails[pk])
                emails[pk] += fresh_emails
                fresh_phones = [p for p in row.phones if p[0] not in phones[pk]]
                added_phones += self._phones(pk, fresh_phones, primary=not phones[pk])
                phones[pk].update(p for p, _raw in fresh_phones)
                if row.address:
                    place = tuple(row.address.get(part, "") for part in _PLACE)
                    if place not in places[pk]:
                        added_addresses.append(self._address(pk, row.address, primary=not places[pk]))
                        places[pk].add(place)
                fresh_tags = {plan.tag_ids[t.casefold()] for t in row.tags} - tags[pk]
                added_tags += sorted(fresh_tags)
                tags[pk].update(fresh_tags)
            if not (before or added_emails or added_phones or added_addresses or added_tags):
                unchanged += len(rows)
                continue
            changed_fields.update(before)
            record.search_text = search_text_for(record, emails[pk], company_name)
            record.updated_at = now
            to_save.append(record)
            changes.append((record, before, added_emails, added_phones, added_addresses, added_tags))
            new_emails += added_emails
            new_phones += added_phones
            new_addresses += added_addresses
            new_links += self._links(record.pk, added_tags)
        if to_save:
            bulk_update(self.model, to_save, sorted(changed_fields | {"search_text", "updated_at"}))
        self._insert(new_emails, new_phones, new_addresses, new_links, ids=True)
        AuditEvent.objects.bulk_create(
            [
                AuditEvent(
                    workspace=self.workspace,
                    actor=self.import_.created_by,
                    action=UPDATED_ACTION,
                    target_type=Import._meta.label_lower,
                    target_id=str(self.import_.pk),
                    summary=str(record)[:255],
                    data={
                        "run": self.run,
                        "model": self.entity,
                        "record": record.pk,
                        "before": before,
                        "added": {
                            "emails": [e["id"] for e in added_e],
                            "phones": [p["id"] for p in added_p],
                            "addresses": [a["id"] for a in added_a],
                            "tags": added_t,
                        },
                    },
                )
                for record, before, added_e, added_p, added_a, added_t in changes
            ]
        )
        return len(to_save), unchanged

    # names to ids

    def _resolve_companies(self, names: list[str], looked: _LookedUp | None = None) -> dict[str, int]:
        """Folded company name -> id for every name, creating the companies nobody has yet.

        The names were looked up ahead (``look_up``, in the read-ahead thread) unless the cache has been
        emptied since; a company created since by a batch ahead of this one is in ``company_ids``.
        """
        wanted: dict[str, str] = {}
        for name in names:  # in file order: the first spelling of a new company is the one kept
            wanted.setdefault(_fold_name(name), name)
        if len(self.company_ids) > CACHE_LIMIT:
            self.company_ids.clear()
            self.company_cache_generation += 1
        missing = [k for k in wanted if k not in self.company_ids]
        if not missing:
            return {key: self.company_ids[key] for key in wanted}
        ahead = looked is not None and looked.company_cache_generation == self.company_cache_generation
        if ahead and looked is not None and all(k in looked.companies_looked_for for k in missing):
            found = looked.companies
        else:
            found = self._find_companies([wanted[k] for k in missing])[0]
        for key in missing:
            if key in found:
                self.company_ids[key] = found[key]
        missing = [k for k in missing if k not in self.company_ids]
        companies: list[_Row] = [
            {
                "workspace_id": self.workspace.pk,
                "name": wanted[key],
                "import_batch_id": self.import_.pk,
                "search_text": company_search_text(wanted[key], "", "", []),
            }
            for key in missing
        ]
        bulk_insert(Company, companies, ids=True, key_order=NAME_ORDER["company"])
        self.company_ids.update({_fold_name(c["name"]): c["id"] for c in companies})
        return {key: self.company_ids[key] for key in wanted}

    def _find_companies(self, names: list[str]) -> tuple[dict[str, int], set[str]]:
        """Folded name -> id of the workspace's company of that name: the same spelling first, else the
        oldest whose name differs only in case (like ``name__iexact``), in one query on the
        (workspace, UPPER(name)) index; and the folded names looked for (those not in ``company_ids``)."""
        wanted: dict[str, str] = {}
        for name in names:
            key = _fold_name(name)
            if key not in self.company_ids:
                wanted.setdefault(key, name)
        if not wanted:
            return {}, set()
        # UPPER on both sides, by the database, as name__iexact does.
        rows = sorted(
            Company.objects.filter(workspace=self.workspace)
            .alias(upper_name=Upper("name"))
            .filter(upper_name__in=values_query(list(wanted.values()), upper=True))
            .values_list("pk", "name")
            .order_by()
        )
        exact = set(wanted.values())
        found: dict[str, int] = {}
        for pk, name in rows:
            if name in exact:
                found.setdefault(_fold_name(name), pk)
        for pk, name in rows:
            found.setdefault(_fold_name(name), pk)
        return found, set(wanted)

    def _resolve_tags(self, names: set[str]) -> dict[str, int]:
        """Folded tag name -> id for every name, creating the tags nobody has yet."""
        if len(self.tag_ids) > CACHE_LIMIT:
            self.tag_ids.clear()
        for name in sorted(names):
            if name.casefold() not in self.tag_ids:
                self.tag_ids[name.casefold()] = tag_get_or_create(workspace=self.workspace, name=name).pk
        return {name.casefold(): self.tag_ids[name.casefold()] for name in names}


_PLACE = ("street", "city", "postal_code", "region", "country")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


# --- undo -----------------------------------------------------------------------------------------


def _revert(import_: Import) -> tuple[int, int]:
    """Put back what the current run of the import changed and delete what it created.

    Returns (records removed, records restored). Runs inside the caller's transaction.
    """
    run = int(import_.options.get("run", 1))
    model: type[Person] | type[Company] = Person if import_.entity == "person" else Company
    events = AuditEvent.objects.filter(
        workspace=import_.workspace,
        action=UPDATED_ACTION,
        target_type=Import._meta.label_lower,
        target_id=str(import_.pk),
    ).order_by("-id")
    restored = 0
    chunk: list[AuditEvent] = []
    for event in events.iterator(chunk_size=500):
        if event.data.get("run", 1) != run:
            continue
        chunk.append(event)
        if len(chunk) >= 500:
            restored += _restore(import_, model, chunk)
            chunk = []
    restored += _restore(import_, model, chunk)
    removed = _delete_created(model, import_)
    if model is Person:  # the companies it created for the people's company names
        removed += _delete_created(Company, import_)
    return removed, restored


def _restore(import_: Import, model: type[Person] | type[Company], events: list[AuditEvent]) -> int:
    if not events:
        return 0
    key = import_.entity
    records = {
        r.pk: r
        for r in model.with_trash.filter(
            workspace=import_.workspace, pk__in=[e.data["record"] for e in events]
        )
    }
    fields: set[str] = set()
    restored: dict[int, Person | Company] = {}
    link_model: Any = PersonTag if key == "person" else CompanyTag
    for event in events:  # newest first, so the oldest "before" is applied last
        record = records.get(event.data["record"])
        if record is None:
            continue
        for name, value in event.data.get("before", {}).items():
            if name == "birth_date":
                value = parse_date(value) if value else None
            setattr(record, name, value)
            fields.add(name)
        added = event.data.get("added", {})
        Email.objects.filter(pk__in=added.get("emails", []), **{key: record}).delete()
        Phone.objects.filter(pk__in=added.get("phones", []), **{key: record}).delete()
        Address.objects.filter(pk__in=added.get("addresses", []), **{key: record}).delete()
        link_model.objects.filter(tag_id__in=added.get("tags", []), **{key: record}).delete()
        restored[record.pk] = record
    emails: dict[int, list[str]] = defaultdict(list)
    owner = f"{key}_id"
    for pk, email in (
        Email.objects.filter(**{f"{owner}__in": list(restored)}).order_by("id").values_list(owner, "email")
    ):
        emails[pk].append(email)
    company_names: dict[int, str] = {}
    if key == "person":
        company_ids = {getattr(r, "company_id", None) for r in restored.values()} - {None}
        company_names = dict(Company.with_trash.filter(pk__in=company_ids).values_list("pk", "name"))
    for record in restored.values():
        company_name = company_names.get(getattr(record, "company_id", None) or 0, "")
        record.search_text = search_text_for(record, emails[record.pk], company_name)
    model.with_trash.bulk_update(list(restored.values()), sorted(fields | {"search_text"}))
    return len(restored)


def _delete_created(model: type[Person] | type[Company], import_: Import) -> int:
    removed = 0
    created = model.with_trash.filter(workspace=import_.workspace, import_batch=import_)
    while ids := list(created.values_list("pk", flat=True)[:1000]):
        removed += len(ids)
        model.with_trash.filter(pk__in=ids).delete()
    return removed
