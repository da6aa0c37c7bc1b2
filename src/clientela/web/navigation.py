"""The sidebar: one entry per capability, shown when the member's role may view it."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from clientela.workspaces.models import Membership
from clientela.workspaces.roles import Action, Module, role_allows


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    icon: str
    module: Module | None = None


@dataclass(frozen=True)
class NavLink:
    label: str | Promise
    url: str
    icon: str
    active: bool


NAVIGATION: list[NavItem] = [
    NavItem(_("Home"), "web:home", "house"),
    NavItem(_("People"), "contacts:person_list", "person", Module.CONTACTS),
    NavItem(_("Companies"), "contacts:company_list", "building", Module.CONTACTS),
    NavItem(_("Deals"), "sales:board", "kanban", Module.SALES),
    NavItem(_("Forecast"), "sales:forecast", "graph-up-arrow", Module.SALES),
    NavItem(_("Quotes"), "billing:quote_list", "file-earmark-text", Module.SALES),
    NavItem(_("Invoices"), "billing:invoice_list", "receipt", Module.SALES),
    NavItem(_("Products"), "billing:product_list", "box-seam", Module.SALES),
    NavItem(_("Commissions"), "billing:commissions", "percent", Module.SALES),
    NavItem(_("Imports"), "contacts:import_list", "upload", Module.CONTACTS),
    NavItem(_("Duplicates"), "contacts:duplicates", "intersect", Module.CONTACTS),
    NavItem(_("Members"), "workspaces:members", "people", Module.SETTINGS),
    NavItem(_("API tokens"), "workspaces:tokens", "key", None),
    NavItem(_("Custom fields"), "contacts:custom_fields", "ui-radios", Module.SETTINGS),
    NavItem(_("Audit trail"), "workspaces:audit", "journal-text", Module.SETTINGS),
]


def navigation_for(request: HttpRequest, membership: Membership | None) -> list[NavLink]:
    if membership is None:
        return []
    links = []
    for item, url in _installed(get_script_prefix(), get_urlconf()):
        if item.module is not None and not role_allows(membership.role, item.module, Action.VIEW):
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        links.append(NavLink(item.label, url, item.icon, active))
    return links


@functools.lru_cache(maxsize=16)
def _installed(script_prefix: str, urlconf: str | None) -> list[tuple[NavItem, str]]:
    """The entries whose page is installed, with its URL: reversed once, not on every page."""
    entries = []
    for item in NAVIGATION:
        try:
            entries.append((item, reverse(item.url_name, urlconf=urlconf)))
        except NoReverseMatch:  # a capability that is not installed
            continue
    return entries
