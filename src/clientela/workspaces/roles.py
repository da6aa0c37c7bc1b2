"""Roles and what they may do: one matrix, checked once at each entrypoint.

A role grants ``view`` and/or ``edit`` per module, and a record scope (own, team, all) that selectors
apply to records with an owner. Services still enforce their own invariants.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Manager")
    SALES = "sales", _("Sales")
    SUPPORT = "support", _("Support")
    MARKETING = "marketing", _("Marketing")
    READ_ONLY = "read_only", _("Read-only")


class Module(StrEnum):
    CONTACTS = "contacts"
    SALES = "sales"
    SERVICE = "service"
    MARKETING = "marketing"
    WORK = "work"
    DOCUMENTS = "documents"
    ANALYTICS = "analytics"
    AUTOMATION = "automation"
    SETTINGS = "settings"


class Action(StrEnum):
    VIEW = "view"
    EDIT = "edit"


class RecordScope(StrEnum):
    OWN = "own"
    TEAM = "team"
    ALL = "all"


_V = frozenset({Action.VIEW})
_VE = frozenset({Action.VIEW, Action.EDIT})
_BUSINESS = [m for m in Module if m is not Module.SETTINGS]

PERMISSIONS: dict[str, dict[Module, frozenset[Action]]] = {
    Role.OWNER: {m: _VE for m in Module},
    Role.ADMIN: {m: _VE for m in Module},
    Role.MANAGER: {**{m: _VE for m in _BUSINESS}, Module.SETTINGS: _V},
    Role.SALES: {
        Module.CONTACTS: _VE,
        Module.SALES: _VE,
        Module.WORK: _VE,
        Module.DOCUMENTS: _VE,
        Module.SERVICE: _V,
        Module.MARKETING: _V,
        Module.ANALYTICS: _V,
    },
    Role.SUPPORT: {
        Module.CONTACTS: _VE,
        Module.SERVICE: _VE,
        Module.WORK: _VE,
        Module.DOCUMENTS: _VE,
        Module.SALES: _V,
        Module.ANALYTICS: _V,
    },
    Role.MARKETING: {
        Module.CONTACTS: _VE,
        Module.MARKETING: _VE,
        Module.AUTOMATION: _VE,
        Module.WORK: _VE,
        Module.DOCUMENTS: _VE,
        Module.ANALYTICS: _V,
        Module.SALES: _V,
    },
    Role.READ_ONLY: {m: _V for m in _BUSINESS},
}

RECORD_SCOPE: dict[str, RecordScope] = {
    Role.OWNER: RecordScope.ALL,
    Role.ADMIN: RecordScope.ALL,
    Role.MANAGER: RecordScope.ALL,
    Role.SALES: RecordScope.OWN,
    Role.SUPPORT: RecordScope.ALL,
    Role.MARKETING: RecordScope.ALL,
    Role.READ_ONLY: RecordScope.ALL,
}

# Roles that may grant a role: nobody can hand out more power than they hold.
ROLE_RANK = {
    Role.OWNER: 100,
    Role.ADMIN: 80,
    Role.MANAGER: 60,
    Role.SALES: 40,
    Role.SUPPORT: 40,
    Role.MARKETING: 40,
    Role.READ_ONLY: 10,
}


def role_allows(role: str, module: Module, action: Action) -> bool:
    return action in PERMISSIONS.get(role, {}).get(module, frozenset())
