"""The one way to write to a customer's timeline."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from clientela.core.errors import ValidationFailed
from clientela.timeline.models import Interaction, Kind
from clientela.timeline.text import SystemText

if TYPE_CHECKING:
    from clientela.contacts.models import Company, Person
    from clientela.workspaces.models import User, Workspace


def interaction_record(
    *,
    workspace: Workspace,
    kind: str,
    person: Person | None = None,
    company: Company | None = None,
    subject: str | SystemText = "",
    body: str | SystemText | list[SystemText] = "",
    actor: User | None = None,
    occurred_at: datetime | None = None,
    direction: str = "",
    due_at: datetime | None = None,
    source: models.Model | None = None,
    data: dict[str, Any] | None = None,
) -> Interaction:
    """Append an interaction to a person's and/or company's timeline.

    A person's interaction is also shown on their company's card (``company`` defaults to theirs).
    A ``SystemText`` subject or body (the system's own words) is shown in each reader's language
    (``timeline.text``); the columns keep it in English.
    """
    if kind not in Kind.values:
        raise ValidationFailed(
            _("Unknown interaction kind %(kind)s.") % {"kind": kind}, fields={"kind": [_("Unknown.")]}
        )
    if person is None and company is None:
        raise ValidationFailed(_("An interaction needs a person or a company."))
    if kind == Kind.FOLLOW_UP and due_at is None:
        message = _("A follow-up needs a due date.")
        raise ValidationFailed(message, fields={"due_at": [message]})
    if company is None and person is not None:
        company = person.company
    data = dict(data or {})
    texts: dict[str, list[dict[str, Any]]] = {}
    if isinstance(subject, SystemText):
        texts["subject"] = [subject.as_data()]
        subject = subject.english()
    if isinstance(body, SystemText):
        body = [body]
    if isinstance(body, list):
        texts["body"] = [line.as_data() for line in body]
        body = "\n".join(line.english() for line in body)
    if texts:
        data["texts"] = texts
    interaction = Interaction(
        kind=kind,
        person=person,
        company=company,
        subject=subject[:255],
        body=body,
        actor=actor,
        occurred_at=occurred_at or timezone.now(),
        direction=direction,
        due_at=due_at,
        source_type=source._meta.label_lower if source is not None else "",
        source_id=str(source.pk) if source is not None else "",
        data=data,
    )
    interaction.workspace = workspace
    interaction.save()
    return interaction
