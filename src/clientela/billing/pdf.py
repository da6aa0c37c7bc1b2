"""Documents as PDF: an HTML template rendered by WeasyPrint (fonts from the system, any script)."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from clientela.billing.models import Document


def document_pdf(*, document: Document, language: str | None = None) -> bytes:
    """The document (quote, order, invoice or credit note) as a printable A4 PDF."""
    from weasyprint import HTML  # heavy: imported when a PDF is actually made

    with translation.override(language or translation.get_language()):
        html = render_to_string(
            "billing/pdf/document.html", {"document": document, "lines": document.lines.all()}
        )
    return bytes(HTML(string=html).write_pdf())


def document_filename(document: Document) -> str:
    return f"{document.number or document.kind}.pdf"
