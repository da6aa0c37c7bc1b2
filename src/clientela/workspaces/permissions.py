"""Entrypoint checks: is there a workspace, and does the caller's role allow this module and action?"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from clientela.core.errors import PermissionDenied
from clientela.workspaces.models import Membership
from clientela.workspaces.roles import Action, Module, role_allows


def require(membership: Membership | None, module: Module, action: Action) -> Membership:
    """The membership if its role allows ``action`` on ``module``; otherwise PermissionDenied."""
    if membership is None or not role_allows(membership.role, module, action):
        raise PermissionDenied(_("Your role does not allow this."))
    return membership


def workspace_view(module: Module | None = None, action: Action = Action.VIEW) -> Callable[..., Any]:
    """Decorate a view: signed in, member of the active workspace, and (optionally) allowed by role."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            membership = getattr(request, "membership", None)
            if membership is None:
                return render(request, "web/pages/no_workspace.html", status=403)
            if module is not None:
                require(membership, module, action)
            return view(request, *args, **kwargs)

        wrapped.workspace_view = (module, action)  # type: ignore[attr-defined]  # read by the isolation suite
        return wrapped

    return decorate
