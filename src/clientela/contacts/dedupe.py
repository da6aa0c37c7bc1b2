"""Likely duplicates among people and companies, computed on the fly from indexed lookups.

Two records are likely the same customer when they share an email or a phone number (both stored
normalised and indexed), a VAT number (companies), or a similar name: two people at the same company
whose folded names match closely (``Mario Rossi`` / ``mario rossi`` / ``M. Rossi`` / ``Mario Rosi``),
or two companies whose names are the same once case, accents and the legal form are ignored
(``ACME S.r.l.`` / ``Acme srl``).

- ``duplicates_for_input`` answers "does this record I am about to create already exist?" (forms, API).
- ``duplicate_pairs`` lists candidate pairs for the duplicates page. Each signal is one GROUP BY over
  an index (``email``, ``e164``, ``vat_number``, company + start of the last name, company name), and
  only the groups with more than one record are read back. Records in the trash are ignored.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any, Literal

from django.db.models import Count, Prefetch, QuerySet
from django.db.models.functions import Lower, Substr, Trim
from django.utils.translation import gettext as _

from clientela.contacts.models import Company, Email, Person, Phone
from clientela.contacts.services import vat_normalise
from clientela.core import search
from clientela.core.errors import ValidationFailed
from clientela.core.phones import display, to_e164_or_none
from clientela.core.text import fold
from clientela.workspaces.models import Workspace

Entity = Literal["person", "company"]
ENTITIES: tuple[Entity, ...] = ("person", "company")

# How much each signal says about two records being the same customer; pairs are listed strongest first.
WEIGHTS = {"vat": 4, "email": 3, "phone": 2, "name": 1}
MAX_GROUP = 20  # a value shared by more records than this is a shared mailbox or switchboard, not a person
MAX_COMPANY_PEOPLE = 2000  # people compared by name when checking one company's staff
NAME_SIMILARITY = 0.85

# Legal forms dropped from the end of a company name before comparing (folded, without dots).
# fmt: off
LEGAL_FORMS = frozenset(
    {
        "srl", "srls", "spa", "snc", "sas", "sapa", "scarl", "onlus",  # Italy
        "kft", "zrt", "nyrt", "bt", "kkt", "ev",  # Hungary
        "sa", "sca", "pfa", "ii", "if",  # Romania (srl and snc above)
        "ltd", "limited", "llc", "llp", "inc", "corp", "corporation", "co", "company", "plc", "lp",
        "gmbh", "ag", "kg", "ohg", "ug", "bv", "nv", "sarl", "sl", "sro", "as", "oy", "ab",
    }
)
# fmt: on


@dataclass(frozen=True)
class Reason:
    """Why two records look alike: a signal (``email``, ``phone``, ``vat``, ``name``) and its value."""

    code: str
    value: str

    @property
    def label(self) -> str:
        if self.code == "email":
            return _("Same email %(value)s") % {"value": self.value}
        if self.code == "phone":
            return _("Same phone %(value)s") % {"value": display(self.value)}
        if self.code == "vat":
            return _("Same VAT number %(value)s") % {"value": self.value}
        if self.value:
            return _("Similar name at %(company)s") % {"company": self.value}
        return _("Same name")

    @property
    def weight(self) -> int:
        return WEIGHTS.get(self.code, 1)


@dataclass
class Candidate:
    """An existing record that may be the one being entered, with every reason found."""

    record: Person | Company
    reasons: list[Reason] = field(default_factory=list)

    @property
    def entity(self) -> Entity:
        return "person" if isinstance(self.record, Person) else "company"

    @property
    def score(self) -> int:
        return sum(reason.weight for reason in self.reasons)


@dataclass
class Pair:
    """Two records that may be the same customer; ``first`` is the older one (the default survivor)."""

    first: Person | Company
    second: Person | Company
    reasons: list[Reason] = field(default_factory=list)

    @property
    def entity(self) -> Entity:
        return "person" if isinstance(self.first, Person) else "company"

    @property
    def score(self) -> int:
        return sum(reason.weight for reason in self.reasons)


def duplicates_for_input(
    *,
    workspace: Workspace,
    entity: Entity,
    attributes: dict[str, Any],
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    vat: str = "",
    exclude_id: int | None = None,
    limit: int = 10,
) -> list[Candidate]:
    """Existing records that the record described by the input may duplicate, most likely first.

    ``attributes`` holds ``first_name``, ``last_name`` and ``company`` (an id or a Company) for a
    person, ``name`` for a company. Emails and phones are normalised the way they are stored; text
    that is not a valid email, phone or VAT number is ignored (the create form reports it). Pass
    ``exclude_id`` when checking a record that already exists, so it does not match itself.
    """
    _check_entity(entity)
    model = _model(entity)
    found: dict[int, list[Reason]] = defaultdict(list)
    key = f"{entity}_id"

    clean_emails = sorted({e.strip().lower() for e in emails if "@" in e})
    if clean_emails:
        rows = Email.objects.filter(workspace=workspace, email__in=clean_emails, **_live_owner(entity))
        for email, owner_id in rows.values_list("email", key).distinct():
            found[owner_id].append(Reason("email", email))

    numbers = sorted(
        {n for n in (to_e164_or_none(p, workspace.default_region) for p in phones if p.strip()) if n}
    )
    if numbers:
        rows = Phone.objects.filter(workspace=workspace, e164__in=numbers, **_live_owner(entity))
        for e164, owner_id in rows.values_list("e164", key).distinct():
            found[owner_id].append(Reason("phone", e164))

    if entity == "company":
        clean_vat = _vat_or_none(vat, workspace)
        if clean_vat:
            companies = Company.objects.filter(workspace=workspace, vat_number=clean_vat)
            for company_id in companies.values_list("pk", flat=True):
                found[company_id].append(Reason("vat", clean_vat))
        for company_id in _companies_named(workspace, str(attributes.get("name") or "")):
            found[company_id].append(Reason("name", ""))
    else:
        for person_id, company_name in _people_named(workspace, attributes):
            found[person_id].append(Reason("name", company_name))

    found.pop(exclude_id or 0, None)
    records = _load(model, workspace, list(found))
    candidates = [Candidate(record, found[record.pk]) for record in records]
    candidates.sort(key=lambda c: (-c.score, c.record.pk))
    return candidates[:limit]


def duplicate_pairs(*, workspace: Workspace, entity: Entity, limit: int = 100) -> list[Pair]:
    """Candidate pairs of duplicate people or companies in the workspace, strongest evidence first.

    Every signal reads at most ``limit`` groups of records sharing a value; a pair found by several
    signals is listed once with all its reasons.
    """
    _check_entity(entity)
    limit = max(1, min(limit, 500))
    found: dict[tuple[int, int], list[Reason]] = defaultdict(list)

    def add(code: str, groups: dict[Any, list[int]], label: dict[Any, str] | None = None) -> None:
        for value, ids in groups.items():
            for first, second in itertools.combinations(sorted(set(ids))[:MAX_GROUP], 2):
                reason = Reason(code, label[value] if label else str(value))
                if reason not in found[(first, second)]:
                    found[(first, second)].append(reason)

    add("email", _shared_values(Email, "email", workspace, entity, limit))
    add("phone", _shared_values(Phone, "e164", workspace, entity, limit))
    if entity == "company":
        add("vat", _shared_vat(workspace, limit))
        same_name = _companies_with_same_name(workspace, limit)
        add("name", same_name, label=dict.fromkeys(same_name, ""))
    else:
        add(*_colleagues_with_similar_names(workspace, limit))

    ranked = sorted(found.items(), key=lambda item: (-sum(r.weight for r in item[1]), -item[0][1]))[:limit]
    records = {r.pk: r for r in _load(_model(entity), workspace, {pk for pair, _ in ranked for pk in pair})}
    return [
        Pair(records[first], records[second], reasons)
        for (first, second), reasons in ranked
        if first in records and second in records
    ]


def names_similar(first: tuple[str, str], second: tuple[str, str]) -> bool:
    """Whether two (first name, last name) pairs probably name the same person.

    Folded (case and accents ignored); true for the same name, swapped names, an initial or a shortened
    first name with the same last name (``M. Rossi``, ``Giu Rossi``), a missing first name with the same
    last name, or a small typo (``Mario Rosi``).
    """
    return _similar(_folded(*first), _folded(*second))


def _folded(first_name: str, last_name: str) -> tuple[str, str]:
    return fold(first_name).replace(".", " ").strip(), fold(last_name).replace(".", " ").strip()


def _similar(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """``names_similar`` on names already folded by ``_folded`` (groups fold each name once)."""
    (first_a, last_a), (first_b, last_b) = a, b
    full_a, full_b = f"{first_a} {last_a}".strip(), f"{first_b} {last_b}".strip()
    if not full_a or not full_b:
        return False
    if full_a == full_b or full_a == f"{last_b} {first_b}".strip():
        return True
    if last_a and last_a == last_b:
        if not first_a or not first_b or first_a.startswith(first_b) or first_b.startswith(first_a):
            return True
        return _alike(first_a, first_b, NAME_SIMILARITY)
    if not (last_a and last_b) or abs(len(full_a) - len(full_b)) > 2:
        return False  # a typo changes a letter or two, not the length of the name
    return _alike(full_a, full_b, 0.9)


def _alike(a: str, b: str, threshold: float) -> bool:
    """Similarity ratio at least ``threshold``; the cheap upper bounds rule most pairs out first."""
    matcher = SequenceMatcher(None, a, b)
    return (
        matcher.real_quick_ratio() >= threshold
        and matcher.quick_ratio() >= threshold
        and matcher.ratio() >= threshold
    )


def company_name_key(name: str) -> str:
    """A company name without case, accents, punctuation or a trailing legal form: ``acme``."""
    words = fold(name).replace(".", "").replace(",", " ").replace("&", " ").split()
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
    return " ".join(words)


# --- helpers --------------------------------------------------------------------------------------


def _check_entity(entity: str) -> None:
    if entity not in ENTITIES:
        raise ValidationFailed(
            _("Duplicates are found among people or companies."), fields={"entity": [_("Unknown.")]}
        )


def _model(entity: Entity) -> type[Person] | type[Company]:
    return Person if entity == "person" else Company


def _live_owner(entity: Entity) -> dict[str, Any]:
    """Filter for email/phone rows that belong to a live (not trashed) record of ``entity``."""
    return {f"{entity}__isnull": False, f"{entity}__deleted_at__isnull": True}


def _vat_or_none(raw: str, workspace: Workspace) -> str | None:
    if not raw.strip():
        return None
    try:
        return vat_normalise(raw, workspace.default_region)
    except ValidationFailed:
        return None


def _people_named(workspace: Workspace, attributes: dict[str, Any]) -> list[tuple[int, str]]:
    """(id, company name) of people at the given company whose names are similar to the input's."""
    company = attributes.get("company")
    company_id = company.pk if isinstance(company, Company) else company
    name = (str(attributes.get("first_name") or ""), str(attributes.get("last_name") or ""))
    if not company_id or not any(part.strip() for part in name):
        return []
    colleagues = Person.objects.filter(workspace=workspace, company_id=company_id).values_list(
        "pk", "first_name", "last_name", "company__name"
    )
    wanted = _folded(*name)
    return [
        (pk, company_name)
        for pk, first_name, last_name, company_name in colleagues[:MAX_COMPANY_PEOPLE]
        if _similar(wanted, _folded(first_name, last_name))
    ]


def _companies_named(workspace: Workspace, name: str) -> list[int]:
    """Ids of companies whose name is the same as ``name`` once the legal form is ignored."""
    key = company_name_key(name)
    if not key:
        return []
    live = Company.objects.filter(workspace=workspace)
    ids = search.search_ids(live, key, limit=50)
    return [
        pk
        for pk, other in live.filter(pk__in=ids).values_list("pk", "name")
        if company_name_key(other) == key
    ]


def _shared_values(
    model: type[Email] | type[Phone], column: str, workspace: Workspace, entity: Entity, limit: int
) -> dict[str, list[int]]:
    """Values of ``column`` shared by two or more live records of ``entity``, with those records' ids."""
    key = f"{entity}_id"
    rows = model.objects.filter(workspace=workspace, **_live_owner(entity))
    shared = (
        rows.values(column)
        .annotate(owners=Count(key, distinct=True))
        .filter(owners__gt=1)
        .order_by(column)
        .values_list(column, flat=True)[:limit]
    )
    groups: dict[str, list[int]] = defaultdict(list)
    for value, owner_id in rows.filter(**{f"{column}__in": list(shared)}).values_list(column, key):
        groups[value].append(owner_id)
    return groups


def _shared_vat(workspace: Workspace, limit: int) -> dict[str, list[int]]:
    live = Company.objects.filter(workspace=workspace).exclude(vat_number="")
    shared = (
        live.values("vat_number")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("vat_number")
        .values_list("vat_number", flat=True)[:limit]
    )
    groups: dict[str, list[int]] = defaultdict(list)
    for vat, pk in live.filter(vat_number__in=list(shared)).values_list("vat_number", "pk"):
        groups[vat].append(pk)
    return groups


def _companies_with_same_name(workspace: Workspace, limit: int) -> dict[str, list[int]]:
    """Companies whose names are equal ignoring case (the database groups), then by ``company_name_key``."""
    live = Company.objects.filter(workspace=workspace).annotate(key=Lower(Trim("name")))
    shared = (
        live.values("key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by("key")
        .values_list("key", flat=True)
    )[:limit]
    groups: dict[str, list[int]] = defaultdict(list)
    for pk, name in live.filter(key__in=list(shared)).values_list("pk", "name"):
        groups[company_name_key(name)].append(pk)
    return groups


def _colleagues_with_similar_names(
    workspace: Workspace, limit: int
) -> tuple[str, dict[tuple[int, int], list[int]], dict[tuple[int, int], str]]:
    """People at the same company with similar names, as (reason code, groups, company name per group).

    The database groups people by company and the first three letters of the last name (an index on
    company narrows it); ``names_similar`` then decides within each small group.
    """
    people = Person.objects.filter(workspace=workspace, company__isnull=False).annotate(
        stem=Substr(Lower("last_name"), 1, 3)
    )
    groups_with_many = (
        people.values("company_id", "stem")
        .annotate(n=Count("id"))
        .filter(n__gt=1, n__lte=MAX_GROUP * 5)
        .order_by("company_id", "stem")
        .values_list("company_id", "stem")[: limit * 4]
    )
    wanted = set(groups_with_many)
    members: dict[tuple[int, str], list[tuple[int, tuple[str, str], str]]] = defaultdict(list)
    rows = people.filter(
        company_id__in={company for company, _stem in wanted}, stem__in={stem for _company, stem in wanted}
    ).values_list("pk", "company_id", "stem", "first_name", "last_name", "company__name")
    for pk, company_id, stem, first_name, last_name, company_name in rows:
        if (company_id, stem) in wanted:
            members[(company_id, stem)].append((pk, _folded(first_name, last_name), company_name))
    groups: dict[tuple[int, int], list[int]] = {}
    labels: dict[tuple[int, int], str] = {}
    for group in members.values():
        for a, b in itertools.combinations(sorted(group), 2):
            if _similar(a[1], b[1]):
                groups[(a[0], b[0])] = [a[0], b[0]]
                labels[(a[0], b[0])] = a[2]
    return "name", groups, labels


def _load(
    model: type[Person] | type[Company], workspace: Workspace, ids: Sequence[int] | set[int]
) -> list[Any]:
    """The live records with these ids, with what a duplicates list shows (company, emails, phones)."""
    queryset: QuerySet[Any] = model.objects.filter(workspace=workspace, pk__in=list(ids))
    if model is Person:
        queryset = queryset.select_related("company")
    return list(
        queryset.prefetch_related(
            Prefetch("emails", queryset=Email.objects.order_by("-is_primary", "id")),
            Prefetch("phones", queryset=Phone.objects.order_by("-is_primary", "id")),
        ).order_by("pk")
    )
