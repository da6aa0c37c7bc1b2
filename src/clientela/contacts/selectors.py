"""Reads for people and companies: filtered, sorted, keyset-paginated lists; cards; search.

A list query is a plain dict (from a URL, the API or a saved view), parsed once by ``ListQuery``, so
the page, the API, exports and saved views all filter the same way.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection
from django.db.models import DecimalField, Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast
from django.db.models.lookups import Exact
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from clientela.contacts.models import (
    Address,
    Company,
    CompanyTag,
    Consent,
    CustomField,
    CustomFieldType,
    Email,
    Person,
    PersonTag,
    Phone,
    SavedView,
    Tag,
)
from clientela.core import search
from clientela.core.errors import ValidationFailed
from clientela.core.expressions import related_rows
from clientela.core.phones import to_e164_or_none
from clientela.core.text import digits
from clientela.timeline.models import Interaction
from clientela.workspaces.models import User, Workspace

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

# sort name -> model fields, the last always "id" so the order is total (needed for keyset paging)
PERSON_SORTS = {
    "name": ("last_name", "first_name", "id"),
    "-name": ("-last_name", "-first_name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}
COMPANY_SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}
PERSON_EQUALITY_FILTERS = {
    "lifecycle_stage",
    "gender",
    "marital_status",
    "income_band",
    "education",
    "language",
    "preferred_channel",
    "source_channel",
    "source_campaign",
    "source_keyword",
    "company",
    "job_title",
}
COMPANY_EQUALITY_FILTERS = {"lifecycle_stage", "industry", "size", "source_channel", "source_campaign"}


@dataclass
class ListQuery:
    """Filters, sort and position of a people or companies list."""

    entity: str = "person"
    q: str = ""
    owner: str = ""  # a user id, "me" or "none"
    tags: list[str] = field(default_factory=list)
    equals: dict[str, str] = field(default_factory=dict)
    custom: dict[str, str] = field(default_factory=dict)
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    city: str = ""
    country: str = ""
    sort: str = "name"
    cursor: str = ""
    page_size: int = PAGE_SIZE

    @classmethod
    def parse(cls, entity: str, params: Mapping[str, Any]) -> ListQuery:
        """Read a query from request parameters; unknown sorts or bad dates are a ValidationFailed."""

        def get(name: str) -> str:
            value = params.get(name, "")
            return str(value[-1] if isinstance(value, list) and value else value or "").strip()

        def getlist(name: str) -> list[str]:
            if hasattr(params, "getlist"):
                values = params.getlist(name)
            else:
                raw = params.get(name, [])
                values = raw if isinstance(raw, list) else [raw]
            return [str(v).strip() for v in values if str(v).strip()]

        sorts = PERSON_SORTS if entity == "person" else COMPANY_SORTS
        allowed = PERSON_EQUALITY_FILTERS if entity == "person" else COMPANY_EQUALITY_FILTERS
        query = cls(
            entity=entity,
            q=get("q"),
            owner=get("owner"),
            tags=getlist("tag"),
            city=get("city"),
            country=get("country").upper(),
            sort=get("sort") or "name",
            cursor=get("cursor"),
        )
        query.equals = {name: get(name) for name in allowed if get(name)}
        query.custom = {
            key[7:]: str(params.get(key)) for key in params if key.startswith("custom.") and get(key)
        }
        errors: dict[str, list[str]] = {}
        if query.sort not in sorts:
            errors["sort"] = [_("Sort by one of: %(sorts)s.") % {"sorts": ", ".join(sorts)}]
        for name in ("created_from", "created_to"):
            if get(name):
                parsed = parse_date(get(name))
                if parsed is None:
                    errors[name] = [_("Enter a date as YYYY-MM-DD.")]
                setattr(query, name, parsed)
        if get("page_size"):
            try:
                query.page_size = max(1, min(MAX_PAGE_SIZE, int(get("page_size"))))
            except ValueError:
                errors["page_size"] = [_("Enter a whole number.")]
        if errors:
            raise ValidationFailed(_("The list filters are invalid."), fields=errors)
        return query

    def as_params(self) -> dict[str, Any]:
        """The query as URL parameters (without the cursor), for links, exports and saved views."""
        params: dict[str, Any] = {
            "q": self.q,
            "owner": self.owner,
            "tag": self.tags,
            "city": self.city,
            "country": self.country,
            "sort": self.sort,
            **self.equals,
        }
        params.update({f"custom.{k}": v for k, v in self.custom.items()})
        for name in ("created_from", "created_to"):
            if getattr(self, name):
                params[name] = getattr(self, name).isoformat()
        return {k: v for k, v in params.items() if v not in ("", [], None)}


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    search_ranked: bool = False


def customer_list(*, workspace: Workspace, user: User, query: ListQuery) -> Page:
    """One page of people or companies matching ``query``, keyset-paginated on the sort key.

    The items are model instances with owner, company, tags, emails and phones loaded.
    """
    return _page(workspace, user, query, _with_relations_list)


def customer_rows(*, workspace: Workspace, user: User, query: ListQuery) -> Page:
    """The same page as ``customer_list``, each item a plain dict in the API's shape (``PersonOut`` or
    ``CompanyOut``): what the lists and the API show, in one query and without model instances."""
    return _page(workspace, user, query, _rows)


def _page(
    workspace: Workspace,
    user: User,
    query: ListQuery,
    load: Callable[[Workspace, type[Person] | type[Company], QuerySet], list[Any]],
) -> Page:
    model = Person if query.entity == "person" else Company
    queryset = _filtered(workspace, user, model, query)
    if query.q:
        # An email or a phone number is an exact, indexed lookup: try it before full-text search.
        ids = _by_phone_or_email(workspace, model, queryset, query.q) or search.search_ids(
            queryset, query.q, limit=query.page_size
        )
        by_id = {
            _value(item, "id"): item for item in load(workspace, model, model.objects.filter(pk__in=ids))
        }
        return Page([by_id[i] for i in ids if i in by_id], None, search_ranked=True)
    order = (PERSON_SORTS if model is Person else COMPANY_SORTS)[query.sort]
    queryset = queryset.order_by(*order)
    if query.cursor:
        queryset = queryset.filter(_after(order, _decode_cursor(query.cursor)))
    rows = load(workspace, model, queryset[: query.page_size + 1])
    next_cursor = _encode_cursor(rows[query.page_size - 1], order) if len(rows) > query.page_size else None
    return Page(rows[: query.page_size], next_cursor)


def customer_queryset(*, workspace: Workspace, user: User, query: ListQuery) -> QuerySet[Any]:
    """Every record matching ``query`` in sort order (exports, bulk actions)."""
    model = Person if query.entity == "person" else Company
    queryset = _filtered(workspace, user, model, query)
    if query.q:
        ids = search.search_ids(queryset, query.q, limit=10_000)
        queryset = queryset.filter(pk__in=ids)
    return _with_relations(
        model, queryset.order_by(*(PERSON_SORTS if model is Person else COMPANY_SORTS)[query.sort])
    )


def _filtered(
    workspace: Workspace, user: User, model: type[Person] | type[Company], query: ListQuery
) -> QuerySet:
    queryset = model.objects.filter(workspace=workspace)
    if query.owner == "me":
        queryset = queryset.filter(owner=user)
    elif query.owner == "none":
        queryset = queryset.filter(owner__isnull=True)
    elif query.owner.isdigit():
        queryset = queryset.filter(owner_id=int(query.owner))
    link, key = (PersonTag, "person") if model is Person else (CompanyTag, "company")
    for tag in query.tags:
        queryset = queryset.filter(
            Exists(link.objects.filter(**{key: OuterRef("pk")}, tag__name__iexact=tag))
        )
    for name, value in query.equals.items():
        queryset = queryset.filter(**{f"{name}_id" if name == "company" else name: value})
    if query.custom:
        queryset = queryset.filter(_custom_filters(workspace, model, query.custom))
    if query.created_from:
        queryset = queryset.filter(created_at__date__gte=query.created_from)
    if query.created_to:
        queryset = queryset.filter(created_at__date__lte=query.created_to)
    if query.city or query.country:
        where = {"city__iexact": query.city} if query.city else {}
        if query.country:
            where["country"] = query.country
        queryset = queryset.filter(Exists(Address.objects.filter(**{key: OuterRef("pk")}, **where)))
    return queryset


_YES = {"true", "yes", "1", "on", "y"}
_NO = {"false", "no", "0", "off", "n"}


def _custom_filters(workspace: Workspace, model: type[Person] | type[Company], wanted: dict[str, str]) -> Q:
    """The custom-field filters of a list, each by its field's type: text and links contain the words
    (any letter case), numbers and amounts equal the number however it is written, dates the day,
    a multiple choice holds the option, a yes/no field is yes or no. An unknown field is an error."""
    entity = "person" if model is Person else "company"
    fields = {
        f.key: f for f in CustomField.objects.filter(workspace=workspace, entity=entity, key__in=list(wanted))
    }
    condition, errors = Q(), {}
    for key, raw in wanted.items():
        custom_field = fields.get(key)
        if custom_field is None:
            errors[f"custom.{key}"] = [_("There is no custom field “%(key)s”.") % {"key": key}]
            continue
        try:
            condition &= _custom_filter(custom_field, raw.strip())
        except ValueError as exc:
            errors[f"custom.{key}"] = [str(exc)]
    if errors:
        raise ValidationFailed(_("Please correct the filters."), fields=errors)
    return condition


def _custom_filter(custom_field: CustomField, raw: str) -> Q:
    name, kind = f"custom__{custom_field.key}", custom_field.type
    if kind in (CustomFieldType.TEXT, CustomFieldType.LONG_TEXT, CustomFieldType.LINK):
        return Q(**{f"{name}__icontains": raw})
    if kind in (CustomFieldType.NUMBER, CustomFieldType.MONEY):
        try:
            number = Decimal(raw.replace(",", "."))
        except InvalidOperation:
            raise ValueError(_("Enter a number.")) from None
        if not number.is_finite():
            raise ValueError(_("Enter a number."))
        # Stored as the text of the number as it was entered ("12.50"): compared as a number.
        text = KeyTextTransform(custom_field.key, "custom")
        if kind == CustomFieldType.MONEY:
            text = KeyTextTransform("amount", KeyTransform(custom_field.key, "custom"))
        return Q(Exact(Cast(text, DecimalField(max_digits=40, decimal_places=10)), number))
    if kind == CustomFieldType.DATE:
        day = parse_date(raw)
        if day is None:
            raise ValueError(_("Enter a date as YYYY-MM-DD."))
        return Q(**{name: day.isoformat()})
    if kind == CustomFieldType.BOOLEAN:
        if raw.lower() in _YES:
            return Q(**{name: True})
        if raw.lower() in _NO:
            return Q(**{name: False})
        raise ValueError(_("Choose yes or no."))
    if kind == CustomFieldType.MULTIPLE_CHOICE:  # a JSON list that holds the option
        if connection.vendor == "postgresql":
            return Q(**{f"{name}__contains": [raw]})
        return Q(**{f"{name}__icontains": json.dumps(raw)})  # SQLite keeps the list as JSON text
    return Q(**{name: raw})  # a choice


def _by_phone_or_email(workspace: Workspace, model: type, queryset: QuerySet, text: str) -> list[int]:
    """Exact lookups the full-text index cannot do: a phone number in any format, a whole email."""
    key = "person_id" if model is Person else "company_id"
    if "@" in text:
        owners = Email.objects.filter(workspace=workspace, email=text.strip().lower())
    elif len(digits(text)) >= 6:
        e164 = to_e164_or_none(text, workspace.default_region)
        if e164 is None:
            return []
        owners = Phone.objects.filter(workspace=workspace, e164=e164)
    else:
        return []
    ids = [i for i in owners.values_list(key, flat=True) if i is not None]
    return list(queryset.filter(pk__in=ids).values_list("pk", flat=True)[:50])


def _with_relations(model: type, queryset: QuerySet) -> QuerySet:
    queryset = queryset.select_related("owner")
    if model is Person:
        queryset = queryset.select_related("company")
    return queryset.prefetch_related(
        Prefetch("tags", queryset=Tag.objects.all()),
        Prefetch("emails", queryset=Email.objects.order_by("-is_primary", "id")),
        Prefetch("phones", queryset=Phone.objects.order_by("-is_primary", "id")),
    )


def _with_relations_list(workspace: Workspace, model: type, queryset: QuerySet) -> list[Any]:
    return list(_with_relations(model, queryset))


# A list row's keys, in the order of the API's PersonOut and CompanyOut: the API sends rows as they are
# (a test holds them to those schemas).
PERSON_ROW = (
    "id", "first_name", "last_name", "full_name", "company", "job_title", "birth_date", "gender",
    "marital_status", "income_band", "education", "language", "preferred_channel", "lifecycle_stage",
    "source_channel", "source_campaign", "source_keyword", "owner", "notes", "emails", "phones", "tags",
    "custom", "created_at", "updated_at",
)  # fmt: skip
COMPANY_ROW = (
    "id", "name", "legal_name", "vat_number", "industry", "size", "website", "lifecycle_stage", "owner",
    "notes", "emails", "phones", "tags", "custom", "created_at", "updated_at",
)  # fmt: skip
_ROW_COMPUTED = {"full_name", "company", "owner", "emails", "phones", "tags"}


def _rows(
    workspace: Workspace, model: type[Person] | type[Company], queryset: QuerySet
) -> list[dict[str, Any]]:
    """Plain rows in one query: the records with owner and company, their tags, emails and phones as
    JSON arrays of correlated subqueries (see ``related_rows``)."""
    is_person = model is Person
    keys = PERSON_ROW if is_person else COMPANY_ROW
    key = "person" if is_person else "company"
    link = PersonTag if is_person else CompanyTag
    columns = [name for name in keys if name not in _ROW_COMPUTED]
    columns += ["owner_id", "owner__email", "owner__full_name"]
    if is_person:
        columns += ["company_id", "company__name"]
    records = queryset.annotate(
        tag_rows=related_rows(link.objects.all(), key, "tag__name"),
        # Contact points by their owner's key alone: the owner is a row of this workspace already, and a
        # second test on the workspace let SQLite's planner scan the workspace's emails for every row.
        email_rows=related_rows(Email.all_workspaces.all(), key, "is_primary", "id", "email"),
        phone_rows=related_rows(Phone.all_workspaces.all(), key, "is_primary", "id", "e164", "raw", "label"),
    ).values(*columns, "tag_rows", "email_rows", "phone_rows")
    rows = []
    for r in records:
        r["owner"] = (
            {"id": r["owner_id"], "email": r["owner__email"], "full_name": r["owner__full_name"]}
            if r["owner_id"] is not None
            else None
        )
        if is_person:
            r["full_name"] = person_full_name(r["first_name"], r["last_name"])
            r["company"] = (
                {"id": r["company_id"], "name": r["company__name"]} if r["company_id"] is not None else None
            )
        r["tags"] = sorted(name for (name,) in r["tag_rows"] or ())
        r["emails"] = [email for _primary, _id, email in _primary_first(r["email_rows"])]
        r["phones"] = [
            {"e164": e164, "raw": raw, "label": label}
            for _primary, _id, e164, raw, label in _primary_first(r["phone_rows"])
        ]
        rows.append({name: r[name] for name in keys})
    return rows


def _primary_first(rows: list[list[Any]] | None) -> list[list[Any]]:
    """Contact points as ``[is_primary, id, ...]`` rows: the primary first, then by id (as on the card)."""
    return sorted(rows or (), key=lambda row: (not row[0], row[1]))


def person_full_name(first_name: str, last_name: str) -> str:
    """What ``Person.full_name`` gives, from the two names alone."""
    return " ".join(part for part in (first_name, last_name) if part) or str(_("(no name)"))


def _value(row: Any, name: str) -> Any:
    return row[name] if isinstance(row, dict) else getattr(row, name)


def _encode_cursor(row: Any, order: tuple[str, ...]) -> str:
    values = []
    for name in order:
        value = _value(row, name.lstrip("-"))
        values.append(value.isoformat() if isinstance(value, dt.datetime) else value)
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> list[Any]:
    try:
        return list(json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))))
    except ValueError:
        raise ValidationFailed(_("The page cursor is invalid."), fields={"cursor": [_("Invalid.")]}) from None


def _after(order: tuple[str, ...], values: list[Any]) -> Q:
    """Rows strictly after ``values`` in ``order``: (a > x) or (a = x and b > y) or ..."""
    if len(values) != len(order):
        raise ValidationFailed(_("The page cursor is invalid."), fields={"cursor": [_("Invalid.")]})
    condition = Q()
    for i, name in enumerate(order):
        field_name = name.lstrip("-")
        op = "lt" if name.startswith("-") else "gt"
        step = Q(**{f"{field_name}__{op}": values[i]})
        for prev_name, prev_value in zip(order[:i], values[:i], strict=False):
            step &= Q(**{prev_name.lstrip("-"): prev_value})
        condition |= step
    return condition


# --- single records -------------------------------------------------------------------------------


def person_get(*, workspace: Workspace, person_id: int) -> Person:
    """A person with everything the card shows at the top (raises Person.DoesNotExist -> 404)."""
    return (
        Person.objects.select_related("company", "owner")
        .prefetch_related(
            "tags",
            Prefetch("emails", queryset=Email.objects.order_by("-is_primary", "id")),
            Prefetch("phones", queryset=Phone.objects.order_by("-is_primary", "id")),
            Prefetch("addresses", queryset=Address.objects.order_by("-is_primary", "id")),
            Prefetch("consents", queryset=Consent.objects.order_by("channel", "-recorded_at")),
        )
        .get(workspace=workspace, pk=person_id)
    )


def company_get(*, workspace: Workspace, company_id: int) -> Company:
    return (
        Company.objects.select_related("owner")
        .prefetch_related(
            "tags",
            Prefetch("emails", queryset=Email.objects.order_by("-is_primary", "id")),
            Prefetch("phones", queryset=Phone.objects.order_by("-is_primary", "id")),
            Prefetch("addresses", queryset=Address.objects.order_by("-is_primary", "id")),
            Prefetch("people", queryset=Person.objects.order_by("last_name", "first_name")),
        )
        .get(workspace=workspace, pk=company_id)
    )


def current_consents(person: Person) -> dict[str, Consent]:
    """The newest consent per channel (the prefetched list is newest first within a channel)."""
    current: dict[str, Consent] = {}
    for consent in person.consents.all():
        current.setdefault(consent.channel, consent)
    return current


@dataclass
class TimelinePage:
    items: list[Interaction]
    next_cursor: str | None


def timeline(
    *,
    workspace: Workspace,
    record: Person | Company,
    kinds: list[str] | None = None,
    cursor: str = "",
    page_size: int = 25,
) -> TimelinePage:
    """A record's interactions, newest first, keyset-paginated: as fast at 10,000 rows as at ten."""
    key = "person" if isinstance(record, Person) else "company"
    queryset = Interaction.objects.filter(workspace=workspace, **{key: record}).select_related("actor")
    if kinds:
        queryset = queryset.filter(kind__in=kinds)
    order = ("-occurred_at", "-id")
    queryset = queryset.order_by(*order)
    if cursor:
        values = _decode_cursor(cursor)
        if values:
            values[0] = dt.datetime.fromisoformat(values[0])
        queryset = queryset.filter(_after(order, values))
    rows = list(queryset[: page_size + 1])
    next_cursor = _encode_cursor(rows[page_size - 1], order) if len(rows) > page_size else None
    return TimelinePage(rows[:page_size], next_cursor)


def custom_field_list(
    *, workspace: Workspace, entity: str, include_archived: bool = False
) -> QuerySet[CustomField]:
    fields = CustomField.objects.filter(workspace=workspace, entity=entity)
    return fields if include_archived else fields.filter(archived_at__isnull=True)


def tag_list(*, workspace: Workspace) -> QuerySet[Tag]:
    return Tag.objects.filter(workspace=workspace).order_by("name")


def saved_view_list(*, workspace: Workspace, user: User, entity: str) -> QuerySet[SavedView]:
    return SavedView.objects.filter(
        Q(owner=user) | Q(shared=True), workspace=workspace, entity=entity
    ).order_by("name")
