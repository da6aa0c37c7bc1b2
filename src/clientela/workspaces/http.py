"""The request type that workspace entrypoints see once the workspace is activated."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from clientela.workspaces.models import Membership, User, Workspace


class WorkspaceRequest(HttpRequest):
    """Set by WorkspaceMiddleware (pages) or the API auth classes, before any view runs."""

    user: User
    workspace: Workspace
    membership: Membership
    htmx: HtmxDetails
