"""Isolation cases for the workspaces app's pages and API routes (see core/testing/isolation.py)."""

from __future__ import annotations

from typing import Any

from clientela.core.testing.factories import MembershipFactory, make_token
from clientela.core.testing.isolation import RouteCase, register
from clientela.workspaces.models import Invitation, Workspace
from clientela.workspaces.roles import Action, Module, Role


def _member(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"member_id": MembershipFactory.create(workspace=workspace, role=Role.SALES).pk}


def _token(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"token_id": make_token(actor)[0].pk}


def _invitation(workspace: Workspace, actor: Any) -> dict[str, Any]:
    from datetime import timedelta

    from django.utils import timezone

    invitation = Invitation(
        email="invitee@example.com",
        role=Role.SALES,
        token_hash=f"h{timezone.now().timestamp()}",
        expires_at=timezone.now() + timedelta(days=1),
    )
    invitation.workspace = workspace
    invitation.save()
    return {"invitation_id": invitation.pk}


def _slug(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"slug": workspace.slug}


register(
    RouteCase("workspaces:switch", _slug, methods=("POST",)),
    RouteCase("workspaces:members", module=Module.SETTINGS),
    RouteCase("workspaces:audit", module=Module.SETTINGS),
    RouteCase(
        "workspaces:member_role",
        _member,
        methods=("POST",),
        module=Module.SETTINGS,
        action=Action.EDIT,
        body={"role": "support"},
    ),
    RouteCase(
        "workspaces:member_remove", _member, methods=("POST",), module=Module.SETTINGS, action=Action.EDIT
    ),
    RouteCase(
        "workspaces:invitation_revoke",
        _invitation,
        methods=("POST",),
        module=Module.SETTINGS,
        action=Action.EDIT,
    ),
    RouteCase("workspaces:token_revoke", _token, methods=("POST",)),
    RouteCase("GET /members", module=Module.SETTINGS),
    RouteCase("GET /members/{member_id}", _member, module=Module.SETTINGS),
    RouteCase(
        "PATCH /members/{member_id}",
        _member,
        methods=("PATCH",),
        module=Module.SETTINGS,
        action=Action.EDIT,
        body={"role": "support"},
    ),
    RouteCase("DELETE /tokens/{token_id}", _token, methods=("DELETE",)),
)
