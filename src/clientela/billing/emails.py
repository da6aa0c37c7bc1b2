"""Emailing documents: the PDF attached, through the workspace's mailer (a ``MAILERS`` alias chosen in
the billing settings, else the default one)."""

from __future__ import annotations

from django.core.mail import EmailMessage, mailers
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from clientela.billing.models import BillingSettings, Document
from clientela.billing.pdf import document_filename, document_pdf


def mailer_alias(workspace_settings: BillingSettings | None) -> str:
    """The workspace's mailer when it names one that is configured, else ``default``."""
    alias = workspace_settings.mailer if workspace_settings is not None else ""
    return alias if alias and alias in mailers else "default"


def document_email_send(
    *, document: Document, to: str, language: str | None = None, message: str = ""
) -> None:
    """Email ``document`` to ``to`` with its PDF; the text says what it is and how long a quote holds."""
    settings = BillingSettings.objects.filter(workspace=document.workspace).first()
    with translation.override(language):
        context = {"document": document, "message": message, "workspace": document.workspace}
        subject = _("%(kind)s %(number)s from %(workspace)s") % {
            "kind": document.get_kind_display(),
            "number": document.number,
            "workspace": document.workspace.name,
        }
        body = render_to_string("billing/email/document.txt", context)
        pdf = document_pdf(document=document, language=language)
    email = EmailMessage(subject=subject, body=body, to=[to])
    email.attach(document_filename(document), pdf, "application/pdf")
    email.send(using=mailer_alias(settings))
