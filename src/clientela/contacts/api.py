"""People, companies, search, timelines, custom fields and bulk actions over the API."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from ninja import Router, Schema, Status

from clientela.api.responses import as_validated
from clientela.contacts import selectors, services
from clientela.contacts.models import Company, CustomField, Person
from clientela.contacts.schemas import (
    BulkIn,
    BulkOut,
    CompanyDetailOut,
    CompanyIn,
    CompanyPage,
    CompanyPatch,
    ConsentIn,
    ConsentOut,
    CustomFieldIn,
    CustomFieldOut,
    CustomFieldPatch,
    InteractionIn,
    InteractionOut,
    PersonDetailOut,
    PersonIn,
    PersonPage,
    PersonPatch,
    SearchOut,
    TagOut,
    TimelineOut,
)
from clientela.timeline.services import interaction_record
from clientela.workspaces.http import WorkspaceRequest
from clientela.workspaces.permissions import require
from clientela.workspaces.roles import Action, Module

router = Router(tags=["customers"])

CONTACT_KEYS = {"emails", "phones", "addresses", "tags", "custom"}


def _split(
    payload: Schema, *, partial: bool
) -> tuple[dict[str, Any], services.ContactPoints, list[str] | None, Any]:
    data = payload.model_dump(exclude_unset=partial)
    contact = services.ContactPoints(
        emails=data.get("emails"),
        phones=[services.PhoneInput(**p) for p in data["phones"]] if data.get("phones") is not None else None,
        addresses=[services.AddressInput(**a) for a in data["addresses"]]
        if data.get("addresses") is not None
        else None,
    )
    attributes = {k: v for k, v in data.items() if k not in CONTACT_KEYS}
    return attributes, contact, data.get("tags"), data.get("custom")


def _view(request: WorkspaceRequest) -> None:
    require(request.membership, Module.CONTACTS, Action.VIEW)


def _edit(request: WorkspaceRequest) -> None:
    require(request.membership, Module.CONTACTS, Action.EDIT)


# --- people ---------------------------------------------------------------------------------------


@router.get("/people", response=PersonPage, operation_id="contacts_person_list")
def person_list(
    request: WorkspaceRequest,
    q: str = "",
    sort: str = "name",
    cursor: str = "",
    page_size: int = 50,
    owner: str = "",
    tag: str = "",
) -> HttpResponse:
    """People, filtered by any field: ``q``, ``owner`` (id, ``me``, ``none``), ``tag`` (repeatable),
    ``lifecycle_stage``, ``company``, ``city``, ``country``, ``created_from``/``created_to``,
    ``custom.<key>``; sorted by ``name``, ``-name``, ``created`` or ``-created``; keyset-paginated."""
    _view(request)
    page = selectors.customer_rows(
        workspace=request.workspace, user=request.user, query=selectors.ListQuery.parse("person", request.GET)
    )
    return as_validated(request, {"results": page.items, "next": page.next_cursor})


@router.post("/people", response={201: PersonDetailOut}, operation_id="contacts_person_create")
def person_create(request: WorkspaceRequest, payload: PersonIn) -> Status:
    _edit(request)
    attributes, contact, tags, custom = _split(payload, partial=False)
    person = services.person_create(
        workspace=request.workspace,
        actor=request.user,
        attributes=attributes,
        contact=contact,
        tags=tags or [],
        custom=custom,
    )
    return Status(201, selectors.person_get(workspace=request.workspace, person_id=person.pk))


@router.post("/people/bulk", response=BulkOut, operation_id="contacts_person_bulk")
def person_bulk(request: WorkspaceRequest, payload: BulkIn) -> dict:
    _edit(request)
    return {"action": payload.action, "count": bulk_apply(request, Person, payload)}


@router.get("/people/{person_id}", response=PersonDetailOut, operation_id="contacts_person_get")
def person_get(request: WorkspaceRequest, person_id: int) -> Person:
    _view(request)
    return selectors.person_get(workspace=request.workspace, person_id=person_id)


@router.patch("/people/{person_id}", response=PersonDetailOut, operation_id="contacts_person_update")
def person_update(request: WorkspaceRequest, person_id: int, payload: PersonPatch) -> Person:
    _edit(request)
    person = selectors.person_get(workspace=request.workspace, person_id=person_id)
    attributes, contact, tags, custom = _split(payload, partial=True)
    services.person_update(
        person=person, actor=request.user, attributes=attributes, contact=contact, custom=custom, tags=tags
    )
    return selectors.person_get(workspace=request.workspace, person_id=person_id)


@router.delete("/people/{person_id}", response={204: None}, operation_id="contacts_person_trash")
def person_trash(request: WorkspaceRequest, person_id: int) -> Status:
    """Move to the trash; restorable for 30 days."""
    _edit(request)
    person = selectors.person_get(workspace=request.workspace, person_id=person_id)
    services.customers_trash(workspace=request.workspace, actor=request.user, records=[person])
    return Status(204, None)


@router.post("/people/{person_id}/restore", response=PersonDetailOut, operation_id="contacts_person_restore")
def person_restore(request: WorkspaceRequest, person_id: int) -> Person:
    _edit(request)
    person = Person.with_trash.get(workspace=request.workspace, pk=person_id)
    services.customers_restore(workspace=request.workspace, actor=request.user, records=[person])
    return selectors.person_get(workspace=request.workspace, person_id=person_id)


@router.get("/people/{person_id}/timeline", response=TimelineOut, operation_id="contacts_person_timeline")
def person_timeline(request: WorkspaceRequest, person_id: int, kind: str = "", cursor: str = "") -> dict:
    _view(request)
    person = Person.objects.get(workspace=request.workspace, pk=person_id)  # existence only: one query
    page = selectors.timeline(
        workspace=request.workspace, record=person, kinds=[k for k in kind.split(",") if k], cursor=cursor
    )
    return {"results": page.items, "next": page.next_cursor}


@router.post(
    "/people/{person_id}/interactions",
    response={201: InteractionOut},
    operation_id="contacts_person_interaction_create",
)
def person_interaction_create(request: WorkspaceRequest, person_id: int, payload: InteractionIn) -> Status:
    """Log a call, note, complaint, meeting or follow-up on the person's timeline."""
    _edit(request)
    person = selectors.person_get(workspace=request.workspace, person_id=person_id)
    return Status(
        201,
        interaction_record(
            workspace=request.workspace,
            person=person,
            actor=request.user,
            **payload.model_dump(exclude_none=True),
        ),
    )


@router.get("/people/{person_id}/consents", response=list[ConsentOut], operation_id="contacts_consent_list")
def person_consent_list(request: WorkspaceRequest, person_id: int) -> Any:
    """Every consent decision of the person, newest first: the first of each channel is the current one."""
    _view(request)
    person = selectors.person_get(workspace=request.workspace, person_id=person_id)
    return person.consents.order_by("-recorded_at", "-id")


@router.post(
    "/people/{person_id}/consents", response={201: ConsentOut}, operation_id="contacts_consent_record"
)
def person_consent_record(request: WorkspaceRequest, person_id: int, payload: ConsentIn) -> Status:
    """Record a decision: consent granted or withdrawn for a channel, with where it comes from."""
    _edit(request)
    person = selectors.person_get(workspace=request.workspace, person_id=person_id)
    return Status(201, services.consent_record(person=person, actor=request.user, **payload.model_dump()))


# --- companies ------------------------------------------------------------------------------------


@router.get("/companies", response=CompanyPage, operation_id="contacts_company_list")
def company_list(
    request: WorkspaceRequest,
    q: str = "",
    sort: str = "name",
    cursor: str = "",
    page_size: int = 50,
    owner: str = "",
    tag: str = "",
) -> HttpResponse:
    _view(request)
    page = selectors.customer_rows(
        workspace=request.workspace,
        user=request.user,
        query=selectors.ListQuery.parse("company", request.GET),
    )
    return as_validated(request, {"results": page.items, "next": page.next_cursor})


@router.post("/companies", response={201: CompanyDetailOut}, operation_id="contacts_company_create")
def company_create(request: WorkspaceRequest, payload: CompanyIn) -> Status:
    _edit(request)
    attributes, contact, tags, custom = _split(payload, partial=False)
    company = services.company_create(
        workspace=request.workspace,
        actor=request.user,
        attributes=attributes,
        contact=contact,
        tags=tags or [],
        custom=custom,
    )
    return Status(201, selectors.company_get(workspace=request.workspace, company_id=company.pk))


@router.post("/companies/bulk", response=BulkOut, operation_id="contacts_company_bulk")
def company_bulk(request: WorkspaceRequest, payload: BulkIn) -> dict:
    _edit(request)
    return {"action": payload.action, "count": bulk_apply(request, Company, payload)}


@router.get("/companies/{company_id}", response=CompanyDetailOut, operation_id="contacts_company_get")
def company_get(request: WorkspaceRequest, company_id: int) -> Company:
    _view(request)
    return selectors.company_get(workspace=request.workspace, company_id=company_id)


@router.patch("/companies/{company_id}", response=CompanyDetailOut, operation_id="contacts_company_update")
def company_update(request: WorkspaceRequest, company_id: int, payload: CompanyPatch) -> Company:
    _edit(request)
    company = selectors.company_get(workspace=request.workspace, company_id=company_id)
    attributes, contact, tags, custom = _split(payload, partial=True)
    services.company_update(
        company=company, actor=request.user, attributes=attributes, contact=contact, custom=custom, tags=tags
    )
    return selectors.company_get(workspace=request.workspace, company_id=company_id)


@router.post(
    "/companies/{company_id}/restore", response=CompanyDetailOut, operation_id="contacts_company_restore"
)
def company_restore(request: WorkspaceRequest, company_id: int) -> Company:
    """Take a company out of the trash (within 30 days)."""
    _edit(request)
    company = Company.with_trash.get(workspace=request.workspace, pk=company_id)
    services.customers_restore(workspace=request.workspace, actor=request.user, records=[company])
    return selectors.company_get(workspace=request.workspace, company_id=company_id)


@router.delete("/companies/{company_id}", response={204: None}, operation_id="contacts_company_trash")
def company_trash(request: WorkspaceRequest, company_id: int) -> Status:
    _edit(request)
    company = selectors.company_get(workspace=request.workspace, company_id=company_id)
    services.customers_trash(workspace=request.workspace, actor=request.user, records=[company])
    return Status(204, None)


@router.get(
    "/companies/{company_id}/timeline", response=TimelineOut, operation_id="contacts_company_timeline"
)
def company_timeline(request: WorkspaceRequest, company_id: int, kind: str = "", cursor: str = "") -> dict:
    _view(request)
    company = Company.objects.get(workspace=request.workspace, pk=company_id)  # existence only: one query
    page = selectors.timeline(
        workspace=request.workspace, record=company, kinds=[k for k in kind.split(",") if k], cursor=cursor
    )
    return {"results": page.items, "next": page.next_cursor}


# --- search, tags, custom fields, bulk ------------------------------------------------------------


@router.get("/search", response=SearchOut, operation_id="contacts_search")
def search(request: WorkspaceRequest, q: str, limit: int = 10) -> HttpResponse:
    """People and companies by any part of a name (accents and case ignored), email, phone in any
    format, company name or VAT number; best matches first."""
    _view(request)
    limit = max(1, min(limit, 50))
    results = {}
    for entity, key in (("person", "people"), ("company", "companies")):
        query = selectors.ListQuery(entity=entity, q=q, page_size=limit)
        results[key] = selectors.customer_rows(
            workspace=request.workspace, user=request.user, query=query
        ).items
    return as_validated(request, results)


@router.get("/tags", response=list[TagOut], operation_id="contacts_tag_list")
def tag_list(request: WorkspaceRequest) -> Any:
    _view(request)
    return selectors.tag_list(workspace=request.workspace)


@router.get("/custom-fields", response=list[CustomFieldOut], operation_id="contacts_custom_field_list")
def custom_field_list(request: WorkspaceRequest, entity: str = "person") -> Any:
    _view(request)
    return selectors.custom_field_list(workspace=request.workspace, entity=entity)


@router.post("/custom-fields", response={201: CustomFieldOut}, operation_id="contacts_custom_field_create")
def custom_field_create(request: WorkspaceRequest, payload: CustomFieldIn) -> Status:
    require(request.membership, Module.SETTINGS, Action.EDIT)
    return Status(201, services.custom_field_create(workspace=request.workspace, **payload.model_dump()))


@router.patch(
    "/custom-fields/{field_id}", response=CustomFieldOut, operation_id="contacts_custom_field_update"
)
def custom_field_update(request: WorkspaceRequest, field_id: int, payload: CustomFieldPatch) -> CustomField:
    require(request.membership, Module.SETTINGS, Action.EDIT)
    custom_field = CustomField.objects.get(workspace=request.workspace, pk=field_id)
    return services.custom_field_update(custom_field=custom_field, **payload.model_dump(exclude_unset=True))


@router.delete(
    "/custom-fields/{field_id}", response=CustomFieldOut, operation_id="contacts_custom_field_archive"
)
def custom_field_archive(request: WorkspaceRequest, field_id: int) -> CustomField:
    """Archive: the field disappears from forms and lists; stored values are kept."""
    require(request.membership, Module.SETTINGS, Action.EDIT)
    custom_field = CustomField.objects.get(workspace=request.workspace, pk=field_id)
    return services.custom_field_archive(custom_field=custom_field)


def bulk_apply(request: WorkspaceRequest, model: type[Person] | type[Company], payload: BulkIn) -> int:
    return services.customers_bulk(
        workspace=request.workspace,
        actor=request.user,
        model=model,
        action=payload.action,
        ids=payload.ids,
        tags=payload.tags,
        owner_id=payload.owner,
        stage=payload.stage,
    )
