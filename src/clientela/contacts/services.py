"""Writes for people and companies: create, update, tag, trash, restore, custom fields.

Every write validates first (Django's field validators, phones through ``phonenumbers``, VAT numbers
through ``python-stdnum``, custom values against their field's type) and raises ``ValidationFailed``
with per-field messages, leaving the data unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

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
    Tag,
)
from clientela.core.audit import audit_record
from clientela.core.errors import ValidationFailed
from clientela.core.phones import to_e164
from clientela.core.text import digits, fold
from clientela.timeline.services import interaction_record
from clientela.timeline.text import SystemText
from clientela.workspaces.models import Membership, User, Workspace

TRASH_DAYS = 30

PERSON_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "company",
        "job_title",
        "birth_date",
        "gender",
        "marital_status",
        "income_band",
        "education",
        "language",
        "preferred_channel",
        "lifecycle_stage",
        "source_channel",
        "source_campaign",
        "source_keyword",
        "owner",
        "notes",
    }
)
COMPANY_FIELDS = frozenset(
    {
        "name",
        "legal_name",
        "vat_number",
        "industry",
        "size",
        "website",
        "lifecycle_stage",
        "source_channel",
        "source_campaign",
        "source_keyword",
        "owner",
        "notes",
    }
)


@dataclass
class PhoneInput:
    number: str
    label: str = ""


@dataclass
class AddressInput:
    street: str = ""
    city: str = ""
    postal_code: str = ""
    region: str = ""
    country: str = ""
    label: str = ""


@dataclass
class ContactPoints:
    """Emails, phones and addresses of a record; ``None`` means "leave as they are"."""

    emails: Sequence[str] | None = None
    phones: Sequence[PhoneInput | str] | None = None
    addresses: Sequence[AddressInput] | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


# --- people and companies -------------------------------------------------------------------------

CREATED = SystemText(gettext_noop("Created"))  # on the timeline of a new person or company


@transaction.atomic
def person_create(
    *,
    workspace: Workspace,
    actor: User | None,
    attributes: dict[str, Any],
    contact: ContactPoints | None = None,
    tags: Iterable[str] = (),
    custom: dict[str, Any] | None = None,
    record_on_timeline: bool = True,
) -> Person:
    """Create a person. ``attributes`` are model fields by name; ``company``/``owner`` may be ids."""
    person = Person()
    person.workspace = workspace
    points = _validate(workspace, person, PERSON_FIELDS, attributes, custom, contact)
    person.save()
    _save_contact_points(person, points)
    tag_assign(workspace=workspace, records=[person], names=tags)
    _refresh_search_text(person)
    if record_on_timeline:
        interaction_record(workspace=workspace, kind="system", person=person, actor=actor, subject=CREATED)
    return person


@transaction.atomic
def person_update(
    *,
    person: Person,
    actor: User | None,
    attributes: dict[str, Any],
    contact: ContactPoints | None = None,
    custom: dict[str, Any] | None = None,
    tags: Sequence[str] | None = None,
) -> Person:
    """Update the given attributes only (others are left as they are) and record what changed; ``tags``,
    when given, become the person's tags exactly."""
    before = {name: getattr(person, name) for name in attributes if name in PERSON_FIELDS}
    points = _validate(person.workspace, person, PERSON_FIELDS, attributes, custom, contact)
    person.save()
    _save_contact_points(person, points)
    _refresh_search_text(person)
    changed = {k: [str(v), str(getattr(person, k))] for k, v in before.items() if v != getattr(person, k)}
    if tags is not None:
        changed |= tag_set(workspace=person.workspace, record=person, names=tags)
    if changed:
        audit_record(
            workspace=person.workspace,
            actor=actor,
            action="person.updated",
            target=person,
            summary=person.full_name,
            data={"changed": changed},
        )
    return person


@transaction.atomic
def company_create(
    *,
    workspace: Workspace,
    actor: User | None,
    attributes: dict[str, Any],
    contact: ContactPoints | None = None,
    tags: Iterable[str] = (),
    custom: dict[str, Any] | None = None,
    record_on_timeline: bool = True,
) -> Company:
    company = Company()
    company.workspace = workspace
    points = _validate(workspace, company, COMPANY_FIELDS, attributes, custom, contact)
    company.save()
    _save_contact_points(company, points)
    tag_assign(workspace=workspace, records=[company], names=tags)
    _refresh_search_text(company)
    if record_on_timeline:
        interaction_record(workspace=workspace, kind="system", company=company, actor=actor, subject=CREATED)
    return company


@transaction.atomic
def company_update(
    *,
    company: Company,
    actor: User | None,
    attributes: dict[str, Any],
    contact: ContactPoints | None = None,
    custom: dict[str, Any] | None = None,
    tags: Sequence[str] | None = None,
) -> Company:
    """As ``person_update``, for a company."""
    before = {name: getattr(company, name) for name in attributes if name in COMPANY_FIELDS}
    points = _validate(company.workspace, company, COMPANY_FIELDS, attributes, custom, contact)
    company.save()
    _save_contact_points(company, points)
    _refresh_search_text(company)
    for person in company.people.all():
        _refresh_search_text(person)
    changed = {k: [str(v), str(getattr(company, k))] for k, v in before.items() if v != getattr(company, k)}
    if tags is not None:
        changed |= tag_set(workspace=company.workspace, record=company, names=tags)
    if changed:
        audit_record(
            workspace=company.workspace,
            actor=actor,
            action="company.updated",
            target=company,
            summary=company.name,
            data={"changed": changed},
        )
    return company


@transaction.atomic
def customers_trash(*, workspace: Workspace, actor: User | None, records: Sequence[Person | Company]) -> int:
    """Move records to the trash (restorable for 30 days). Returns how many were trashed."""
    now = timezone.now()
    count = 0
    for record in records:
        if record.deleted_at is None:
            record.deleted_at = now
            record.save(update_fields=["deleted_at"])
            audit_record(
                workspace=workspace,
                actor=actor,
                action=f"{record._meta.model_name}.trashed",
                target=record,
                summary=str(record),
            )
            count += 1
    return count


@transaction.atomic
def customers_restore(
    *, workspace: Workspace, actor: User | None, records: Sequence[Person | Company]
) -> int:
    count = 0
    for record in records:
        if record.deleted_at is not None:
            record.deleted_at = None
            record.save(update_fields=["deleted_at"])
            audit_record(
                workspace=workspace,
                actor=actor,
                action=f"{record._meta.model_name}.restored",
                target=record,
                summary=str(record),
            )
            count += 1
    return count


def trash_purge(*, workspace: Workspace, now: dt.datetime | None = None) -> int:
    """Delete for good what has been in the trash longer than 30 days."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=TRASH_DAYS)
    deleted = 0
    for model in (Person, Company):
        deleted += model.with_trash.filter(workspace=workspace, deleted_at__lt=cutoff).delete()[0]
    return deleted


@transaction.atomic
def customers_set_owner(
    *, workspace: Workspace, actor: User | None, records: Sequence[Person | Company], owner: User | None
) -> int:
    if owner is not None and not Membership.objects.filter(workspace=workspace, user=owner).exists():
        raise ValidationFailed(
            _("The owner must be a member of this workspace."), fields={"owner": [_("Invalid.")]}
        )
    for record in records:
        record.owner = owner
        record.save(update_fields=["owner", "updated_at"])
    return len(records)


@transaction.atomic
def people_set_stage(
    *, workspace: Workspace, actor: User | None, people: Sequence[Person], stage: str
) -> int:
    from clientela.contacts.models import LifecycleStage

    if stage not in LifecycleStage.values:
        raise ValidationFailed(_("Unknown lifecycle stage."), fields={"lifecycle_stage": [_("Unknown.")]})
    for person in people:
        person.lifecycle_stage = stage
        person.save(update_fields=["lifecycle_stage", "updated_at"])
    return len(people)


BULK_ACTIONS = ("tag", "untag", "set_owner", "set_stage", "trash", "restore")


def customers_bulk(
    *,
    workspace: Workspace,
    actor: User | None,
    model: type[Person] | type[Company],
    action: str,
    ids: Sequence[int],
    tags: Sequence[str] = (),
    owner_id: int | None = None,
    stage: str = "",
) -> int:
    """Apply one action to many records of the workspace; ids of other workspaces are simply absent.

    Returns how many records the action applied to.
    """
    if action not in BULK_ACTIONS or (action == "set_stage" and model is not Person):
        raise ValidationFailed(
            _("Unknown bulk action %(action)s.") % {"action": action}, fields={"action": [_("Unknown.")]}
        )
    manager = model.with_trash if action == "restore" else model.objects
    records: list[Any] = list(manager.filter(workspace=workspace, pk__in=list(ids)[:5000]))
    if action == "tag":
        tag_assign(workspace=workspace, records=records, names=tags)
    elif action == "untag":
        tag_unassign(workspace=workspace, records=records, names=tags)
    elif action == "set_owner":
        owner = None
        errors: dict[str, list[str]] = {}
        if owner_id is not None:
            owner = _owner(workspace, owner_id, errors)
            if errors:
                raise ValidationFailed(errors["owner"][0], fields=errors)
        return customers_set_owner(workspace=workspace, actor=actor, records=records, owner=owner)
    elif action == "set_stage":
        return people_set_stage(workspace=workspace, actor=actor, people=records, stage=stage)
    elif action == "trash":
        return customers_trash(workspace=workspace, actor=actor, records=records)
    elif action == "restore":
        return customers_restore(workspace=workspace, actor=actor, records=records)
    return len(records)


# --- tags -----------------------------------------------------------------------------------------


def tag_get_or_create(*, workspace: Workspace, name: str) -> Tag:
    name = " ".join(name.split())[:60]
    if not name:
        raise ValidationFailed(_("A tag needs a name."), fields={"tags": [_("Empty tag.")]})
    tag = Tag.objects.filter(workspace=workspace, name__iexact=name).first()
    if tag is None:
        tag = Tag(name=name)
        tag.workspace = workspace
        tag.save()
    return tag


@transaction.atomic
def tag_assign(*, workspace: Workspace, records: Sequence[Person | Company], names: Iterable[str]) -> None:
    for name in names:
        tag = tag_get_or_create(workspace=workspace, name=name)
        for record in records:
            if isinstance(record, Person):
                PersonTag.objects.get_or_create(workspace=workspace, tag=tag, person=record)
            else:
                CompanyTag.objects.get_or_create(workspace=workspace, tag=tag, company=record)


@transaction.atomic
def tag_unassign(*, workspace: Workspace, records: Sequence[Person | Company], names: Iterable[str]) -> None:
    tags = Tag.objects.filter(workspace=workspace, name__in=list(names))
    for record in records:
        link_model, key = _tag_link(record)
        link_model.objects.filter(workspace=workspace, tag__in=tags, **{key: record}).delete()


def tag_set(*, workspace: Workspace, record: Person | Company, names: Iterable[str]) -> dict[str, list[str]]:
    """Make ``names`` the record's tags exactly (letter case aside: "vip" keeps the tag "VIP"). Returns
    the change for the audit trail, ``{"tags": [before, after]}``, or nothing when they were the same."""
    link_model, key = _tag_link(record)
    current = list(
        link_model.objects.filter(workspace=workspace, **{key: record}).values_list("tag__name", flat=True)
    )
    wanted = list(dict.fromkeys(" ".join(name.split()) for name in names if name.strip()))
    wanted_folded = {name.casefold() for name in wanted}
    current_folded = {name.casefold() for name in current}
    removed = [name for name in current if name.casefold() not in wanted_folded]
    added = [name for name in wanted if name.casefold() not in current_folded]
    tag_unassign(workspace=workspace, records=[record], names=removed)
    tag_assign(workspace=workspace, records=[record], names=added)
    if wanted_folded == current_folded:
        return {}
    return {"tags": [", ".join(sorted(current)), ", ".join(sorted(wanted))]}


def _tag_link(record: Person | Company) -> tuple[type[PersonTag] | type[CompanyTag], str]:
    return (PersonTag, "person") if isinstance(record, Person) else (CompanyTag, "company")


# --- consent --------------------------------------------------------------------------------------


def consent_record(
    *,
    person: Person,
    channel: str,
    granted: bool,
    source: str,
    actor: User | None = None,
    recorded_at: dt.datetime | None = None,
) -> Consent:
    """Append a consent decision (granted or withdrawn) for a channel; the newest per channel is the
    current one, the earlier ones stay as evidence. ``source`` says where it came from ("web form",
    "phone call with Anna"). The decision is in the audit trail."""
    consent = Consent(
        person=person,
        channel=channel,
        granted=granted,
        source=" ".join(source.split())[:120],
        recorded_at=recorded_at or timezone.now(),
    )
    consent.workspace = person.workspace
    errors: dict[str, list[str]] = {}
    try:
        consent.full_clean(exclude=["workspace", "person"])
    except ValidationError as exc:
        errors = {name: list(messages) for name, messages in exc.message_dict.items()}
    if not consent.source:
        errors.setdefault("source", []).append(_("Say where the decision comes from."))
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    consent.save()
    audit_record(
        workspace=person.workspace,
        actor=actor,
        action="consent.granted" if granted else "consent.withdrawn",
        target=person,
        summary=f"{person.full_name}: {consent.get_channel_display()}",
        data={"channel": channel, "source": consent.source},
    )
    return consent


# --- custom fields --------------------------------------------------------------------------------


@transaction.atomic
def custom_field_create(
    *, workspace: Workspace, entity: str, label: str, type: str, choices: Sequence[str] = ()
) -> CustomField:
    """Define a custom field. Its key is derived from the label once and never changes."""
    if entity not in ("person", "company"):
        raise ValidationFailed(
            _("Custom fields exist for people and companies."), fields={"entity": [_("Invalid.")]}
        )
    if type not in CustomFieldType.values:
        raise ValidationFailed(_("Unknown field type."), fields={"type": [_("Unknown.")]})
    label = label.strip()
    if not label:
        raise ValidationFailed(_("A field needs a label."), fields={"label": [_("Required.")]})
    clean_choices = [c.strip() for c in choices if c.strip()]
    if type in (CustomFieldType.CHOICE, CustomFieldType.MULTIPLE_CHOICE) and not clean_choices:
        raise ValidationFailed(_("A choice field needs choices."), fields={"choices": [_("Required.")]})
    base = slugify(label).replace("-", "_")[:50] or "field"
    key, n = base, 1
    while CustomField.objects.filter(workspace=workspace, entity=entity, key=key).exists():
        n += 1
        key = f"{base}_{n}"
    position = CustomField.objects.filter(workspace=workspace, entity=entity).count()
    custom_field = CustomField(
        entity=entity, key=key, label=label, type=type, choices=clean_choices, position=position
    )
    custom_field.workspace = workspace
    custom_field.save()
    return custom_field


@transaction.atomic
def custom_field_update(
    *, custom_field: CustomField, label: str | None = None, choices: Sequence[str] | None = None
) -> CustomField:
    """Rename a field or extend its choices. The key and the stored values stay as they are."""
    if label is not None:
        if not label.strip():
            raise ValidationFailed(_("A field needs a label."), fields={"label": [_("Required.")]})
        custom_field.label = label.strip()
    if choices is not None:
        custom_field.choices = [c.strip() for c in choices if c.strip()]
    custom_field.save()
    return custom_field


@transaction.atomic
def custom_field_archive(*, custom_field: CustomField) -> CustomField:
    """Hide a field everywhere; the values stay stored and come back if it is restored."""
    custom_field.archived_at = timezone.now()
    custom_field.save(update_fields=["archived_at"])
    return custom_field


def custom_values_clean(*, workspace: Workspace, entity: str, values: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise custom values by their field's type; unknown keys are errors."""
    fields = {
        f.key: f for f in CustomField.objects.filter(workspace=workspace, entity=entity, archived_at=None)
    }
    clean: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in values.items():
        custom_field = fields.get(key)
        if custom_field is None:
            errors[f"custom.{key}"] = [_("There is no custom field %(key)s.") % {"key": key}]
            continue
        try:
            clean[key] = _custom_value(custom_field, value)
        except ValueError as exc:
            errors[f"custom.{key}"] = [str(exc)]
    if errors:
        raise ValidationFailed(_("Some custom fields are invalid."), fields=errors)
    return clean


def _finite(value: Any) -> Decimal | None:
    """A number as people write it ("1234,5" too); ``None`` for anything else, NaN and infinities
    included (and numbers too large to be stored as written)."""
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None
    return number if number.is_finite() and abs(number.adjusted()) < 30 else None


def _custom_value(custom_field: CustomField, value: Any) -> Any:
    if value is None or value == "" or value == []:
        return None
    kind = custom_field.type
    if kind in (CustomFieldType.TEXT, CustomFieldType.LONG_TEXT):
        return str(value)
    if kind == CustomFieldType.NUMBER:
        number = _finite(value)
        if number is None:
            raise ValueError(_("Enter a number."))
        return str(number)
    if kind == CustomFieldType.MONEY:
        amount = value.get("amount") if isinstance(value, dict) else value
        currency = (
            value.get("currency") if isinstance(value, dict) else None
        ) or custom_field.workspace.default_currency
        number = _finite(amount)
        if number is None:
            raise ValueError(_("Enter an amount."))
        return {"amount": str(number), "currency": str(currency).upper()[:3]}
    if kind == CustomFieldType.DATE:
        parsed = value if isinstance(value, dt.date) else parse_date(str(value))
        if parsed is None:
            raise ValueError(_("Enter a date as YYYY-MM-DD."))
        return parsed.isoformat()
    if kind == CustomFieldType.BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "y", "si", "sì", "igen", "da"}:
            return True
        if text in {"0", "false", "no", "n", "nem", "nu"}:
            return False
        raise ValueError(_("Enter yes or no."))
    if kind == CustomFieldType.CHOICE:
        if str(value) not in custom_field.choices:
            raise ValueError(_("%(value)s is not one of the choices.") % {"value": value})
        return str(value)
    if kind == CustomFieldType.MULTIPLE_CHOICE:
        items = value if isinstance(value, list) else [v.strip() for v in str(value).split(";")]
        unknown = [v for v in items if v not in custom_field.choices]
        if unknown:
            raise ValueError(_("%(value)s is not one of the choices.") % {"value": ", ".join(unknown)})
        return items
    if kind == CustomFieldType.LINK:
        try:
            URLValidator()(str(value))
        except ValidationError:
            raise ValueError(_("Enter a full web address (https://...).")) from None
        return str(value)
    raise ValueError(_("Unknown field type."))


# --- helpers --------------------------------------------------------------------------------------


def _validate(
    workspace: Workspace,
    record: Person | Company,
    allowed: frozenset[str],
    attributes: dict[str, Any],
    custom: dict[str, Any] | None,
    contact: ContactPoints | None,
) -> _CleanPoints:
    """Apply and validate everything, reporting the errors of attributes and contact points together."""
    errors: dict[str, list[str]] = {}
    points = None
    for step in (
        lambda: _apply(workspace, record, allowed, attributes, custom),
        lambda: _clean_contact_points(workspace, contact or ContactPoints(), record),
    ):
        try:
            result = step()
        except ValidationFailed as exc:
            errors.update(exc.fields)
        else:
            points = result if isinstance(result, _CleanPoints) else points
    if errors or points is None:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    return points


def _apply(
    workspace: Workspace,
    record: Person | Company,
    allowed: frozenset[str],
    attributes: dict[str, Any],
    custom: dict[str, Any] | None,
) -> None:
    """Set attributes on the record and validate them with the model's own field validators."""
    unknown = set(attributes) - allowed
    if unknown:
        raise ValidationFailed(
            _("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))},
            fields={name: [_("Unknown field.")] for name in unknown},
        )
    errors: dict[str, list[str]] = {}
    for name, value in attributes.items():
        if name == "owner":
            value = _owner(workspace, value, errors)
        elif name == "company":
            value = _company(workspace, value, errors)
        elif name == "vat_number":
            value = _vat(workspace, value or "", errors)
        elif name == "birth_date" and isinstance(value, str):
            parsed = parse_date(value) if value else None
            if value and parsed is None:
                errors[name] = [_("Enter a date as YYYY-MM-DD.")]
            value = parsed
        elif value is None and isinstance(record._meta.get_field(name), models.CharField | models.TextField):
            value = ""
        setattr(record, name, value)
    if custom is not None:
        entity = "person" if isinstance(record, Person) else "company"
        try:
            record.custom = {
                **record.custom,
                **custom_values_clean(workspace=workspace, entity=entity, values=custom),
            }
        except ValidationFailed as exc:
            errors.update(exc.fields)
    try:
        record.full_clean(
            exclude=["workspace", "owner", "company", "import_batch", "tags", "search_text"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if isinstance(record, Person) and not (record.first_name or record.last_name):
        errors.setdefault("last_name", []).append(_("A person needs a first or a last name."))
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)


def _owner(workspace: Workspace, value: Any, errors: dict[str, list[str]]) -> User | None:
    if value in (None, ""):
        return None
    user_id = value.pk if isinstance(value, User) else value
    membership = (
        Membership.objects.filter(workspace=workspace, user_id=user_id).select_related("user").first()
    )
    if membership is None:
        errors["owner"] = [_("The owner must be a member of this workspace.")]
        return None
    return membership.user


def _company(workspace: Workspace, value: Any, errors: dict[str, list[str]]) -> Company | None:
    if value in (None, ""):
        return None
    if isinstance(value, Company):
        value = value.pk
    company = Company.objects.filter(workspace=workspace, pk=value).first()
    if company is None:
        errors["company"] = [_("No such company.")]
    return company


def vat_normalise(raw: str, region: str) -> str:
    """Validate an EU VAT number (with or without its country prefix) and return it compact."""
    text = "".join(ch for ch in raw.upper() if ch.isalnum())
    candidates = [text] if text[:2].isalpha() else [f"{region.upper()}{text}", text]
    for candidate in candidates:
        try:
            return str(eu_vat.validate(candidate))
        except StdnumError:
            continue
    raise ValidationFailed(_("%(value)s is not a valid EU VAT number.") % {"value": raw})


def _vat(workspace: Workspace, value: str, errors: dict[str, list[str]]) -> str:
    if not value.strip():
        return ""
    try:
        return vat_normalise(value, workspace.default_region)
    except ValidationFailed as exc:
        errors["vat_number"] = [exc.message]
        return value


@dataclass
class _CleanPoints:
    emails: list[str] | None
    phones: list[tuple[str, str, str]] | None  # (e164, raw, label)
    addresses: list[AddressInput] | None


def _clean_contact_points(
    workspace: Workspace, contact: ContactPoints, record: Person | Company | None = None
) -> _CleanPoints:
    """Emails lower-cased, phones in E.164 (each number once, however it was typed), addresses with a
    country code. A phone written without its country code is read in the customer's country: the first
    address given, else the record's primary one, else the workspace's region."""
    errors: dict[str, list[str]] = {}
    emails = None
    if contact.emails is not None:
        emails = []
        for raw in contact.emails:
            email = raw.strip().lower()
            if not email:
                continue
            try:
                validate_email(email)
            except ValidationError:
                errors.setdefault("emails", []).append(_("%(value)s is not a valid email.") % {"value": raw})
                continue
            if email not in emails:
                emails.append(email)
    addresses = None
    if contact.addresses is not None:
        addresses = []
        for address in contact.addresses:
            if address.country and (len(address.country) != 2 or not address.country.isalpha()):
                errors.setdefault("addresses", []).append(
                    _("%(value)s is not a two-letter country code.") % {"value": address.country}
                )
                continue
            address.country = address.country.upper()
            addresses.append(address)
    region = _phone_region(workspace, addresses, record) if contact.phones else workspace.default_region
    phones: list[tuple[str, str, str]] | None = None
    if contact.phones is not None:
        phones = []
        for item in contact.phones:
            phone = item if isinstance(item, PhoneInput) else PhoneInput(number=item)
            if not phone.number.strip():
                continue
            try:
                e164 = to_e164(phone.number, region)
            except ValidationFailed as exc:
                errors.setdefault("phones", []).append(exc.message)
                continue
            if e164 not in {known for known, _raw, _label in phones}:
                phones.append((e164, phone.number.strip(), phone.label))
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    return _CleanPoints(emails, phones, addresses)


def _phone_region(
    workspace: Workspace, addresses: list[AddressInput] | None, record: Person | Company | None
) -> str:
    for address in addresses or []:
        if address.country:
            return address.country
    if addresses is None and record is not None and record.pk is not None:
        country = (
            Address.objects.filter(**_owner_key(record))
            .exclude(country="")
            .order_by("-is_primary", "id")
            .values_list("country", flat=True)
            .first()
        )
        if country:
            return country
    return workspace.default_region


def _owner_key(record: Person | Company) -> dict[str, Any]:
    return {"person": record} if isinstance(record, Person) else {"company": record}


def _save_contact_points(record: Person | Company, points: _CleanPoints) -> None:
    key = _owner_key(record)
    if points.emails is not None:
        Email.objects.filter(**key).delete()
        Email.objects.bulk_create(
            [
                Email(workspace=record.workspace, email=e, is_primary=i == 0, **key)
                for i, e in enumerate(points.emails)
            ]
        )
    if points.phones is not None:
        Phone.objects.filter(**key).delete()
        Phone.objects.bulk_create(
            [
                Phone(workspace=record.workspace, e164=e164, raw=raw, label=label, is_primary=i == 0, **key)
                for i, (e164, raw, label) in enumerate(points.phones)
            ]
        )
    if points.addresses is not None:
        Address.objects.filter(**key).delete()
        Address.objects.bulk_create(
            [
                Address(
                    workspace=record.workspace,
                    is_primary=i == 0,
                    street=a.street,
                    city=a.city,
                    postal_code=a.postal_code,
                    region=a.region,
                    country=a.country,
                    label=a.label,
                    **key,
                )
                for i, a in enumerate(points.addresses)
            ]
        )


def search_text_for(record: Person | Company, emails: Iterable[str], company_name: str = "") -> str:
    """The folded text the search engines index: names, company, emails, VAT with and without prefix."""
    if isinstance(record, Person):
        return person_search_text(record.first_name, record.last_name, record.job_title, company_name, emails)
    return company_search_text(record.name, record.legal_name, record.vat_number, emails)


def person_search_text(
    first_name: str,
    last_name: str,
    job_title: str,
    company_name: str,
    emails: Iterable[str],
    *,
    fold_part: Callable[[str], str] = fold,
) -> str:
    """``search_text_for`` a person, from plain values (an import writes rows, not model instances).

    Folding is word-wise, so each part is folded on its own and the results joined: an import passes a
    ``fold`` that remembers the names and titles repeating from row to row as ``fold_part``.
    """
    parts = [first_name, last_name, job_title, company_name, *emails]
    return " ".join(folded for folded in map(fold_part, parts) if folded)


def company_search_text(name: str, legal_name: str, vat_number: str, emails: Iterable[str]) -> str:
    """``search_text_for`` a company, from plain values."""
    parts = [name, legal_name, vat_number, vat_number[2:], digits(vat_number)]
    return fold(" ".join([*parts, *emails]))


def _refresh_search_text(record: Person | Company) -> None:
    emails = Email.objects.filter(**_owner_key(record)).values_list("email", flat=True)
    company_name = record.company.name if isinstance(record, Person) and record.company else ""
    text = search_text_for(record, emails, company_name)
    if text != record.search_text:
        record.search_text = text
        type(record).with_trash.filter(pk=record.pk).update(search_text=text)
