"""Billing panels: on the customer card, the balance, overdue by age, credit limit and recent documents;
on a deal's page, its products and quotes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from clientela.billing import selectors
from clientela.billing.models import Document, DocumentKind
from clientela.contacts.models import Person
from clientela.workspaces.roles import Action, Module, role_allows


def balance_panel_context(request: HttpRequest, record: Any) -> dict[str, Any] | None:
    """The panel's context, or ``None`` (hidden) for a role that may not see sales."""
    membership = getattr(request, "membership", None)
    if membership is None or not role_allows(membership.role, Module.SALES, Action.VIEW):
        return None
    workspace = membership.workspace
    key = "person" if isinstance(record, Person) else "company"
    documents = list(
        selectors.document_list(workspace=workspace, kind=DocumentKind.INVOICE, **{key: record}, limit=5)
    )
    return {
        "balance": selectors.customer_balance(workspace=workspace, customer=record),
        "recent_invoices": documents,
        "recent_quotes": list(
            selectors.document_list(workspace=workspace, kind=DocumentKind.QUOTE, **{key: record}, limit=3)
        ),
        "entity": key,
        "can_edit": role_allows(membership.role, Module.SALES, Action.EDIT),
    }


def deal_panel_context(request: HttpRequest, deal: Any) -> dict[str, Any] | None:
    """A deal's products (its lines, for the calculator) and its quotes; hidden from roles without sales."""
    membership = getattr(request, "membership", None)
    if membership is None or not role_allows(membership.role, Module.SALES, Action.VIEW):
        return None
    workspace = membership.workspace
    return {
        "deal_lines": list(selectors.deal_lines(workspace=workspace, deal_id=deal.pk)),
        "quotes": list(
            Document.objects.filter(workspace=workspace, kind=DocumentKind.QUOTE, deal=deal).order_by("-pk")[
                :10
            ]
        ),
        "can_edit": role_allows(membership.role, Module.SALES, Action.EDIT),
    }
