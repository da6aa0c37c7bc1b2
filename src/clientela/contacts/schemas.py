from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from clientela.contacts.models import Company, Person
from clientela.timeline.models import Interaction


class TagOut(Schema):
    id: int
    name: str
    color: str


class PhoneIO(Schema):
    number: str = Field(description="Any format; national numbers are read in the workspace's region")
    label: str = ""


class PhoneOut(Schema):
    e164: str
    raw: str
    label: str


class AddressIO(Schema):
    street: str = ""
    city: str = ""
    postal_code: str = ""
    region: str = ""
    country: str = Field("", description="ISO 3166-1 alpha-2")
    label: str = ""


class OwnerOut(Schema):
    id: int
    email: str
    full_name: str


class CompanyRef(Schema):
    id: int
    name: str


class PersonIn(Schema):
    first_name: str = ""
    last_name: str = ""
    company: int | None = None
    job_title: str = ""
    birth_date: dt.date | None = None
    gender: str = ""
    marital_status: str = ""
    income_band: str = ""
    education: str = ""
    language: str = ""
    preferred_channel: str = ""
    lifecycle_stage: str = "lead"
    source_channel: str = ""
    source_campaign: str = ""
    source_keyword: str = ""
    owner: int | None = None
    notes: str = ""
    emails: list[str] = []
    phones: list[PhoneIO] = []
    addresses: list[AddressIO] = []
    tags: list[str] = []
    custom: dict[str, Any] = {}


class PersonPatch(Schema):
    """Only the fields sent are changed; lists (emails, phones, addresses, tags) replace the old ones."""

    first_name: str | None = None
    last_name: str | None = None
    company: int | None = None
    job_title: str | None = None
    birth_date: dt.date | None = None
    gender: str | None = None
    marital_status: str | None = None
    income_band: str | None = None
    education: str | None = None
    language: str | None = None
    preferred_channel: str | None = None
    lifecycle_stage: str | None = None
    source_channel: str | None = None
    source_campaign: str | None = None
    source_keyword: str | None = None
    owner: int | None = None
    notes: str | None = None
    emails: list[str] | None = None
    phones: list[PhoneIO] | None = None
    addresses: list[AddressIO] | None = None
    tags: list[str] | None = None
    custom: dict[str, Any] | None = None


class PersonOut(Schema):
    id: int
    first_name: str
    last_name: str
    full_name: str
    company: CompanyRef | None
    job_title: str
    birth_date: dt.date | None
    gender: str
    marital_status: str
    income_band: str
    education: str
    language: str
    preferred_channel: str
    lifecycle_stage: str
    source_channel: str
    source_campaign: str
    source_keyword: str
    owner: OwnerOut | None
    notes: str
    emails: list[str]
    phones: list[PhoneOut]
    tags: list[str]
    custom: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_emails(obj: Person | dict[str, Any]) -> list[str]:
        if isinstance(obj, dict):  # a row of selectors.customer_rows, already in this shape
            return obj["emails"]
        return [e.email for e in obj.emails.all()]

    @staticmethod
    def resolve_tags(obj: Person | dict[str, Any]) -> list[str]:
        if isinstance(obj, dict):
            return obj["tags"]
        return [t.name for t in obj.tags.all()]


class PersonDetailOut(PersonOut):
    """One person (read, created, changed): the list's fields and the postal addresses."""

    addresses: list[AddressIO]


class CompanyIn(Schema):
    name: str
    legal_name: str = ""
    vat_number: str = ""
    industry: str = ""
    size: str = ""
    website: str = ""
    lifecycle_stage: str = ""
    source_channel: str = ""
    source_campaign: str = ""
    owner: int | None = None
    notes: str = ""
    emails: list[str] = []
    phones: list[PhoneIO] = []
    addresses: list[AddressIO] = []
    tags: list[str] = []
    custom: dict[str, Any] = {}


class CompanyPatch(Schema):
    """As ``PersonPatch``."""

    name: str | None = None
    legal_name: str | None = None
    vat_number: str | None = None
    industry: str | None = None
    size: str | None = None
    website: str | None = None
    lifecycle_stage: str | None = None
    source_channel: str | None = None
    source_campaign: str | None = None
    owner: int | None = None
    notes: str | None = None
    emails: list[str] | None = None
    phones: list[PhoneIO] | None = None
    addresses: list[AddressIO] | None = None
    tags: list[str] | None = None
    custom: dict[str, Any] | None = None


class CompanyOut(Schema):
    id: int
    name: str
    legal_name: str
    vat_number: str
    industry: str
    size: str
    website: str
    lifecycle_stage: str
    owner: OwnerOut | None
    notes: str
    emails: list[str]
    phones: list[PhoneOut]
    tags: list[str]
    custom: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_emails(obj: Company | dict[str, Any]) -> list[str]:
        if isinstance(obj, dict):  # a row of selectors.customer_rows, already in this shape
            return obj["emails"]
        return [e.email for e in obj.emails.all()]

    @staticmethod
    def resolve_tags(obj: Company | dict[str, Any]) -> list[str]:
        if isinstance(obj, dict):
            return obj["tags"]
        return [t.name for t in obj.tags.all()]


class CompanyDetailOut(CompanyOut):
    """One company (read, created, changed): the list's fields and the postal addresses."""

    addresses: list[AddressIO]


class PersonPage(Schema):
    results: list[PersonOut]
    next: str | None


class CompanyPage(Schema):
    results: list[CompanyOut]
    next: str | None


class SearchOut(Schema):
    people: list[PersonOut]
    companies: list[CompanyOut]


class ConsentIn(Schema):
    channel: str = Field(description="email, phone, sms, messenger or post")
    granted: bool = Field(description="true: granted; false: withdrawn")
    source: str = Field(description="where the decision comes from: a web form, a call, a letter")
    recorded_at: dt.datetime | None = Field(None, description="when it was given; now when left out")


class ConsentOut(Schema):
    id: int
    channel: str
    granted: bool
    source: str
    recorded_at: dt.datetime


class InteractionIn(Schema):
    kind: str = Field(description="call, email, message, meeting, note, complaint, follow_up, ...")
    subject: str = ""
    body: str = ""
    direction: str = ""
    occurred_at: dt.datetime | None = None
    due_at: dt.datetime | None = None


class InteractionOut(Schema):
    id: int
    kind: str
    subject: str = Field(description="In the request's language when the system wrote it")
    body: str
    direction: str
    occurred_at: dt.datetime
    due_at: dt.datetime | None
    actor: OwnerOut | None
    source_type: str
    source_id: str

    @staticmethod
    def resolve_subject(obj: Interaction) -> str:
        return obj.shown_subject

    @staticmethod
    def resolve_body(obj: Interaction) -> str:
        return obj.shown_body


class TimelineOut(Schema):
    results: list[InteractionOut]
    next: str | None


class CustomFieldIn(Schema):
    entity: str = Field(description="person or company")
    label: str
    type: str
    choices: list[str] = []


class CustomFieldPatch(Schema):
    label: str | None = None
    choices: list[str] | None = None


class CustomFieldOut(Schema):
    id: int
    entity: str
    key: str
    label: str
    type: str
    choices: list[str]
    archived_at: dt.datetime | None


class BulkIn(Schema):
    action: str = Field(description="tag, untag, set_owner, set_stage, trash, restore")
    ids: list[int]
    tags: list[str] = []
    owner: int | None = None
    stage: str = ""


class BulkOut(Schema):
    action: str
    count: int
