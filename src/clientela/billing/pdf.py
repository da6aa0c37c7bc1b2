"""Documents as PDF: an HTML template rendered by WeasyPrint (fonts from the system, any script)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from clientela.billing.models import Document
from clientela.billing.services import billing_settings_for
from clientela.contacts.models import Address


def document_pdf(*, document: Document, language: str | None = None) -> bytes:
    """The document (quote, order, invoice or credit note) as a printable A4 PDF, with what an invoice
    must show: the seller's legal name, address and VAT number, the customer's address and VAT number,
    and on a credit note the invoice it corrects."""
    from weasyprint import HTML  # heavy: imported when a PDF is actually made

    return bytes(HTML(string=document_html(document=document, language=language)).write_pdf())


def document_html(*, document: Document, language: str | None = None) -> str:
    """The HTML the PDF is printed from."""
    context = {
        "document": document,
        "lines": document.lines.all(),
        "seller": billing_settings_for(document.workspace),
        "customer_address": customer_address(document),
        "credit": -document.amount_due if document.amount_due < 0 else None,  # paid more than due
    }
    with translation.override(language or translation.get_language()):
        return render_to_string("billing/pdf/document.html", context)


def customer_address(document: Document) -> Address | None:
    """The company's primary address (else its first), else the person's."""
    for key, record in (("company", document.company), ("person", document.person)):
        if record is not None:
            found = Address.objects.filter(**{key: record}).order_by("-is_primary", "id").first()
            if found is not None:
                return found
    return None


def document_filename(document: Document) -> str:
    return f"{document.number or document.kind}.pdf"
