"""Interaction: anything that happened with a customer. The customer card's history is this table."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from clientela.core.tenancy import WorkspaceScopedModel
from clientela.timeline.text import shown


class Kind(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    MESSAGE = "message", _("Message")
    MEETING = "meeting", _("Meeting")
    NOTE = "note", _("Note")
    ORDER = "order", _("Purchase")  # orders, invoices and credit notes: the purchase history
    COMPLAINT = "complaint", _("Complaint")
    FORM = "form", _("Form submission")
    DOCUMENT = "document", _("Document")
    FOLLOW_UP = "follow_up", _("Follow-up")
    SYSTEM = "system", _("Change")


class Direction(models.TextChoices):
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")
    INTERNAL = "", _("Internal")


class Interaction(WorkspaceScopedModel):
    """One event on a customer's timeline, written only through ``timeline.services.interaction_record``.

    ``source_type``/``source_id`` point at the record that produced it (a deal, a ticket, an email
    message), so other capabilities can link back without the timeline knowing their models.
    """

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("when"))
    person = models.ForeignKey(
        "contacts.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="interactions"
    )
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="interactions"
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices, blank=True)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("details"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)  # for follow-ups
    source_type = models.CharField(max_length=64, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("interaction")
        indexes = [
            models.Index(fields=["workspace", "person", "-occurred_at", "-id"], name="interaction_ws_person"),
            models.Index(
                fields=["workspace", "company", "-occurred_at", "-id"], name="interaction_ws_company"
            ),
            models.Index(fields=["workspace", "source_type", "source_id"], name="interaction_ws_source"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=False) | models.Q(company__isnull=False),
                name="interaction_has_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.shown_subject}"

    @property
    def shown_subject(self) -> str:
        """The subject in the reader's language when the system wrote it (``timeline.text``)."""
        return shown(self.data, "subject", self.subject)

    @property
    def shown_body(self) -> str:
        return shown(self.data, "body", self.body)
