"""A person's data-protection rights: a copy of everything held about them, and erasure on request.

Erasure anonymises rather than deletes: the row stays, so counts, funnels and the kinds and dates of
interactions stay true, but nothing identifies the person any more. Their name becomes "Erased person
#<id>"; emails, phones, addresses, tags and consents are deleted; free text (notes, custom values,
interaction subjects and bodies) is cleared; the audit events about them keep what was done, when and
by whom, but lose their summaries and details (the values an import changed included). The uploaded
files of imports that hold a row about the person (that created or changed them, or name one of their
emails or phones) are deleted. Both requests are recorded in the audit trail, without personal data.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clientela.contacts.importing import (
    UPDATED_ACTION,
    import_discard,
    import_file_remove,
    import_problems_forget,
    imports_holding,
)
from clientela.contacts.models import (
    Address,
    Consent,
    CustomField,
    Email,
    Import,
    ImportStatus,
    Person,
    PersonTag,
    Phone,
)
from clientela.core.audit import audit_record
from clientela.core.errors import NotFound
from clientela.core.models import AuditEvent
from clientela.timeline.models import Interaction
from clientela.timeline.services import interaction_record
from clientela.timeline.text import SystemText
from clientela.workspaces.models import User, Workspace

EXPORT_FORMAT = "clientela.person-export/1"
PERSON_ATTRIBUTES = (
    "first_name",
    "last_name",
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
    "notes",
    "created_at",
    "updated_at",
    "deleted_at",
)
# Attributes that describe the person (cleared on erasure); the lifecycle stage, the source of the lead
# and the dates stay, as aggregates.
ERASED_ATTRIBUTES: dict[str, Any] = {
    "first_name": "",
    "job_title": "",
    "birth_date": None,
    "gender": "",
    "marital_status": "",
    "income_band": "",
    "education": "",
    "language": "",
    "preferred_channel": "",
    "notes": "",
    "company": None,
    "custom": {},
    "search_text": "",
}
# Relations this module exports by name; rows of any other model pointing at the person (deals,
# tickets, tasks, ... as they arrive) are listed generically under "other_records".
KNOWN_RELATIONS = {Email, Phone, Address, Consent, PersonTag, Interaction}


@transaction.atomic
def person_export_json(*, workspace: Workspace, person: Person, actor: User | None = None) -> dict[str, Any]:
    """Everything held about ``person`` as a JSON-ready dict; the export is recorded in the audit trail.

    Attributes, emails, phones, addresses, consents (with their evidence), tags, custom values with
    their labels, every interaction, the audit events about the person, and references to rows of
    other capabilities that point at them.
    """
    person = _person(workspace, person.pk)
    fields = {f.key: f.label for f in CustomField.objects.filter(workspace=workspace, entity="person")}
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now().isoformat(),
        "workspace": {"id": workspace.pk, "name": workspace.name},
        "person": {
            "id": person.pk,
            **{name: _json(getattr(person, name)) for name in PERSON_ATTRIBUTES},
            "company": {"id": person.company.pk, "name": person.company.name} if person.company else None,
            "owner": person.owner.email if person.owner else None,
        },
        "emails": [
            {"email": e.email, "label": e.label, "primary": e.is_primary}
            for e in Email.objects.filter(workspace=workspace, person=person).order_by("id")
        ],
        "phones": [
            {"number": p.e164, "as_entered": p.raw, "label": p.label, "primary": p.is_primary}
            for p in Phone.objects.filter(workspace=workspace, person=person).order_by("id")
        ],
        "addresses": [
            {
                "street": a.street,
                "city": a.city,
                "postal_code": a.postal_code,
                "region": a.region,
                "country": a.country,
                "label": a.label,
                "primary": a.is_primary,
            }
            for a in Address.objects.filter(workspace=workspace, person=person).order_by("id")
        ],
        "consents": [
            {
                "channel": c.channel,
                "granted": c.granted,
                "source": c.source,
                "recorded_at": _json(c.recorded_at),
            }
            for c in Consent.objects.filter(workspace=workspace, person=person).order_by("recorded_at", "id")
        ],
        "tags": sorted(
            PersonTag.objects.filter(workspace=workspace, person=person).values_list("tag__name", flat=True)
        ),
        "custom": {
            key: {"label": fields.get(key, key), "value": _json(value)}
            for key, value in sorted(person.custom.items())
        },
        "interactions": [
            {
                "id": i.pk,
                "kind": i.kind,
                "occurred_at": _json(i.occurred_at),
                "direction": i.direction,
                "subject": i.subject,
                "body": i.body,
                "by": i.actor.email if i.actor else None,
                "due_at": _json(i.due_at),
                "source": f"{i.source_type}:{i.source_id}" if i.source_type else None,
                "data": i.data,
            }
            for i in Interaction.objects.filter(workspace=workspace, person=person)
            .select_related("actor")
            .order_by("occurred_at", "id")
        ],
        "audit_events": [
            {
                "at": _json(e.created_at),
                "action": e.action,
                "by": e.actor.email if e.actor else None,
                "summary": e.summary,
                "data": e.data,
            }
            for e in _audit_events(workspace, person).select_related("actor").order_by("created_at", "id")
        ],
        "other_records": _other_records(person),
    }
    audit_record(
        workspace=workspace, actor=actor, action="person.exported", target=person, summary=f"#{person.pk}"
    )
    return data


@transaction.atomic
def person_erase(*, workspace: Workspace, actor: User | None, person: Person) -> Person:
    """Anonymise ``person`` for good (see the module docstring); returns the anonymised record.

    Works on people in the trash too, and erasing twice is harmless. Raises NotFound for a person of
    another workspace.
    """
    person = _person(workspace, person.pk, lock=True)
    # Imports hold rows about the person (files, quoted problems): found before the emails and phones go.
    emails = list(Email.objects.filter(workspace=workspace, person=person).values_list("email", flat=True))
    phones = list(Phone.objects.filter(workspace=workspace, person=person).values_list("e164", flat=True))
    imports = imports_holding(workspace=workspace, person=person, emails=emails, phones=phones)
    counts = {
        "emails": Email.objects.filter(workspace=workspace, person=person).delete()[0],
        "phones": Phone.objects.filter(workspace=workspace, person=person).delete()[0],
        "addresses": Address.objects.filter(workspace=workspace, person=person).delete()[0],
        "tags": PersonTag.objects.filter(workspace=workspace, person=person).delete()[0],
        "consents": Consent.objects.filter(workspace=workspace, person=person).delete()[0],
        "interactions": Interaction.objects.filter(workspace=workspace, person=person).update(
            subject="", body="", data={}
        ),
        "audit_events": _audit_events(workspace, person).update(summary="", data={}),
        "import_changes": _forget_import_changes(workspace, person),
        "import_files": sum(_remove_import_file(imported) for imported in imports),
        "import_problems": import_problems_forget(workspace=workspace, emails=emails, phones=phones),
    }
    for name, value in ERASED_ATTRIBUTES.items():
        setattr(person, name, value)
    person.last_name = _("Erased person #%(id)s") % {"id": person.pk}
    person.save()
    interaction_record(
        workspace=workspace,
        kind="system",
        person=person,
        actor=actor,
        subject=SystemText(gettext_noop("Personal data erased")),
    )
    audit_record(
        workspace=workspace,
        actor=actor,
        action="person.erased",
        target=person,
        summary=f"#{person.pk}",
        data={"removed": counts},
    )
    return person


def person_data_summary(*, workspace: Workspace, person: Person) -> list[tuple[str, int]]:
    """How much is held about ``person``, per kind (for the privacy page): [("Emails", 2), ...]."""
    return [
        (
            str(model._meta.verbose_name_plural).capitalize(),
            model.objects.filter(workspace=workspace, person=person).count(),
        )
        for model in (Email, Phone, Address, Consent, Interaction)
    ] + [(_("Tags"), PersonTag.objects.filter(workspace=workspace, person=person).count())]


# --- helpers --------------------------------------------------------------------------------------


def _person(workspace: Workspace, person_id: int, *, lock: bool = False) -> Person:
    """The person, trashed or not (requests about people in the trash must still be answered)."""
    people = Person.with_trash.filter(workspace=workspace, pk=person_id)
    person = (people.select_for_update() if lock else people.select_related("company", "owner")).first()
    if person is None:
        raise NotFound(_("Not found."))
    return person


def _audit_events(workspace: Workspace, person: Person) -> models.QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        workspace=workspace, target_type=Person._meta.label_lower, target_id=str(person.pk)
    )


def _remove_import_file(imported: Import) -> bool:
    if imported.status == ImportStatus.UPLOADED:  # never started: the upload goes as a whole
        import_discard(import_=imported)
        return True
    return import_file_remove(import_=imported, reason="erasure")


def _forget_import_changes(workspace: Workspace, person: Person) -> int:
    """The import's record of what it changed in the person loses the values (undo then leaves the
    person as erasure left it)."""
    events = AuditEvent.objects.filter(
        workspace=workspace,
        action=UPDATED_ACTION,
        target_type=Import._meta.label_lower,
        data__model="person",
        data__record=person.pk,
    )
    for event in events:
        event.summary = ""
        event.data = {key: event.data[key] for key in ("run", "model", "record") if key in event.data}
        event.save(update_fields=["summary", "data"])
    return len(events)


def _other_records(person: Person) -> dict[str, list[dict[str, Any]]]:
    """Rows of models this module does not know (later capabilities) that point at the person."""
    other: dict[str, list[dict[str, Any]]] = {}
    for relation in person._meta.get_fields(include_hidden=True):
        if not (isinstance(relation, models.ManyToOneRel) and relation.auto_created):
            continue
        related = relation.related_model
        if related in KNOWN_RELATIONS or related is None:
            continue
        rows = related._base_manager.filter(**{relation.field.name: person})
        listed = [{"id": row.pk, "text": str(row)} for row in rows.order_by("pk")[:1000]]
        if listed:
            other[related._meta.label_lower] = listed
    return other


def _json(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
