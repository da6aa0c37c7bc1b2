"""The "Open deals" panel on a person's or company's card, with its Qualify / New deal button."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from clientela.contacts.models import Person
from clientela.core.panels import CardPanel
from clientela.sales import selectors
from clientela.sales.services import BEFORE_OPPORTUNITY
from clientela.workspaces.roles import Action, Module, role_allows


def deals_panel_context(request: HttpRequest, record: Any) -> dict[str, Any] | None:
    """The record's open deals the member may see; hidden from roles without the sales module."""
    membership = getattr(request, "membership", None)
    if membership is None or not role_allows(membership.role, Module.SALES, Action.VIEW):
        return None
    key = "person" if isinstance(record, Person) else "company"
    return {
        "deals": selectors.deals_for_customer(
            workspace=membership.workspace, viewer=membership, record=record
        ),
        "can_edit": role_allows(membership.role, Module.SALES, Action.EDIT),
        "is_lead": (record.lifecycle_stage or "") in BEFORE_OPPORTUNITY,
        "qualify_url": reverse(f"sales:qualify_{key}", args=[record.pk]),
        "new_deal_url": reverse("sales:deal_create") + f"?{key}={record.pk}",
    }


DEALS_PANEL = CardPanel(template="sales/panels/deals.html", context=deals_panel_context, order=20)
