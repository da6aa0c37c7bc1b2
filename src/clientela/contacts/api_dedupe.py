"""Duplicates, merges and a person's data-protection requests over the API.

Mounted before the main customers router, so ``/people/duplicates-check`` wins over ``/people/{id}``.
Finding and merging duplicates needs edit rights on customers; exporting or erasing a person's data is
for owners and admins (settings/edit).
"""

from __future__ import annotations

from typing import Any, Literal

from ninja import Field, Router, Schema

from clientela.contacts import dedupe, privacy, selectors
from clientela.contacts.merge import company_merge, person_merge
from clientela.contacts.models import Company, Person
from clientela.contacts.schemas import CompanyOut, PersonOut
from clientela.workspaces.http import WorkspaceRequest
from clientela.workspaces.permissions import require
from clientela.workspaces.roles import Action, Module

router = Router(tags=["customers"])


class ReasonOut(Schema):
    code: str = Field(description="email, phone, vat or name")
    value: str
    label: str


class RecordRef(Schema):
    id: int
    entity: str
    name: str
    emails: list[str]
    phones: list[str]
    company: str | None = None


class CandidateOut(Schema):
    record: RecordRef
    reasons: list[ReasonOut]


class CandidatesOut(Schema):
    results: list[CandidateOut]


class PairOut(Schema):
    first: RecordRef = Field(description="The older record, the default survivor")
    second: RecordRef
    reasons: list[ReasonOut]


class PairsOut(Schema):
    results: list[PairOut]


class PersonCheckIn(Schema):
    first_name: str = ""
    last_name: str = ""
    company: int | None = None
    emails: list[str] = []
    phones: list[str] = Field(
        [], description="Any format; national numbers are read in the workspace's region"
    )
    exclude_id: int | None = Field(None, description="A record being edited, so it does not match itself")


class CompanyCheckIn(Schema):
    name: str = ""
    vat_number: str = ""
    emails: list[str] = []
    phones: list[str] = []
    exclude_id: int | None = None


class MergeIn(Schema):
    other_id: int = Field(description="The record merged into this one and then deleted")
    choices: dict[str, Literal["survivor", "other"]] = Field(
        {},
        description="Per field (or custom.<key>): whose value to keep. Unmentioned fields keep this "
        "record's value, or the other's when this one's is empty.",
    )


class ErasedOut(Schema):
    id: int
    full_name: str


def _edit(request: WorkspaceRequest) -> None:
    require(request.membership, Module.CONTACTS, Action.EDIT)


def _privacy(request: WorkspaceRequest) -> None:
    require(request.membership, Module.SETTINGS, Action.EDIT)


@router.get("/duplicates", response=PairsOut, operation_id="contacts_duplicate_list")
def duplicate_list(
    request: WorkspaceRequest, entity: Literal["person", "company"] = "person", limit: int = 100
) -> dict:
    """Pairs of people (or companies) that are probably the same customer, strongest evidence first."""
    _edit(request)
    pairs = dedupe.duplicate_pairs(workspace=request.workspace, entity=entity, limit=limit)
    return {
        "results": [
            {"first": _ref(p.first), "second": _ref(p.second), "reasons": _reasons(p.reasons)} for p in pairs
        ]
    }


@router.post(
    "/people/duplicates-check", response=CandidatesOut, operation_id="contacts_person_duplicates_check"
)
def person_duplicates_check(request: WorkspaceRequest, payload: PersonCheckIn) -> dict:
    """Existing people that a person about to be created may duplicate: same email or phone, or a
    similar name at the same company."""
    _edit(request)
    candidates = dedupe.duplicates_for_input(
        workspace=request.workspace,
        entity="person",
        attributes=payload.model_dump(include={"first_name", "last_name", "company"}),
        emails=payload.emails,
        phones=payload.phones,
        exclude_id=payload.exclude_id,
    )
    return {"results": [{"record": _ref(c.record), "reasons": _reasons(c.reasons)} for c in candidates]}


@router.post(
    "/companies/duplicates-check", response=CandidatesOut, operation_id="contacts_company_duplicates_check"
)
def company_duplicates_check(request: WorkspaceRequest, payload: CompanyCheckIn) -> dict:
    """Existing companies that a company about to be created may duplicate: same VAT number, email,
    phone or name (legal form ignored)."""
    _edit(request)
    candidates = dedupe.duplicates_for_input(
        workspace=request.workspace,
        entity="company",
        attributes={"name": payload.name},
        emails=payload.emails,
        phones=payload.phones,
        vat=payload.vat_number,
        exclude_id=payload.exclude_id,
    )
    return {"results": [{"record": _ref(c.record), "reasons": _reasons(c.reasons)} for c in candidates]}


@router.post("/people/{person_id}/merge", response=PersonOut, operation_id="contacts_person_merge")
def person_merge_endpoint(request: WorkspaceRequest, person_id: int, payload: MergeIn) -> Person:
    """Merge person ``other_id`` into this one: picked values kept, all history moved, the other deleted."""
    _edit(request)
    survivor = Person.objects.get(workspace=request.workspace, pk=person_id)
    other = Person.objects.get(workspace=request.workspace, pk=payload.other_id)
    person_merge(
        workspace=request.workspace,
        actor=request.user,
        survivor=survivor,
        other=other,
        choices=dict(payload.choices),
    )
    return selectors.person_get(workspace=request.workspace, person_id=person_id)


@router.post("/companies/{company_id}/merge", response=CompanyOut, operation_id="contacts_company_merge")
def company_merge_endpoint(request: WorkspaceRequest, company_id: int, payload: MergeIn) -> Company:
    """Merge company ``other_id`` into this one; its people, history and contact points move too."""
    _edit(request)
    survivor = Company.objects.get(workspace=request.workspace, pk=company_id)
    other = Company.objects.get(workspace=request.workspace, pk=payload.other_id)
    company_merge(
        workspace=request.workspace,
        actor=request.user,
        survivor=survivor,
        other=other,
        choices=dict(payload.choices),
    )
    return selectors.company_get(workspace=request.workspace, company_id=company_id)


@router.get(
    "/people/{person_id}/privacy-export",
    response=dict[str, Any],
    operation_id="contacts_person_privacy_export",
)
def person_privacy_export(request: WorkspaceRequest, person_id: int) -> dict[str, Any]:
    """Everything held about the person (people in the trash too), as JSON. Recorded in the audit trail."""
    _privacy(request)
    person = Person.with_trash.get(workspace=request.workspace, pk=person_id)
    return privacy.person_export_json(workspace=request.workspace, person=person, actor=request.user)


@router.post("/people/{person_id}/erase", response=ErasedOut, operation_id="contacts_person_erase")
def person_erase(request: WorkspaceRequest, person_id: int) -> Person:
    """Erase the person's personal data for good (anonymised; counts and dates stay). Cannot be undone."""
    _privacy(request)
    person = Person.with_trash.get(workspace=request.workspace, pk=person_id)
    return privacy.person_erase(workspace=request.workspace, actor=request.user, person=person)


def _ref(record: Person | Company) -> dict[str, Any]:
    return {
        "id": record.pk,
        "entity": "person" if isinstance(record, Person) else "company",
        "name": str(record),
        "emails": [e.email for e in record.emails.all()],
        "phones": [p.e164 for p in record.phones.all()],
        "company": record.company.name if isinstance(record, Person) and record.company else None,
    }


def _reasons(reasons: list[dedupe.Reason]) -> list[dict[str, str]]:
    return [{"code": r.code, "value": r.value, "label": r.label} for r in reasons]
