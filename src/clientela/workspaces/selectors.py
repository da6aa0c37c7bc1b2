"""Reads for workspaces and memberships."""

from __future__ import annotations

from django.db.models import QuerySet

from clientela.workspaces.models import ApiToken, Invitation, Membership, User, Workspace


def membership_list_for_user(*, user: User | None = None, user_id: int | None = None) -> QuerySet[Membership]:
    """Every workspace a user belongs to (the switcher). A reviewed cross-workspace read."""
    return (
        Membership.all_workspaces.filter(user_id=user.pk if user is not None else user_id, is_active=True)
        .select_related("workspace")
        .order_by("workspace__name")
    )


def membership_for(
    *, user: User, workspace_id: int | None = None, slug: str | None = None
) -> Membership | None:
    """The user's active membership in one workspace (by id or slug), or ``None``."""
    memberships = membership_list_for_user(user=user)
    if workspace_id is not None:
        memberships = memberships.filter(workspace_id=workspace_id)
    if slug is not None:
        memberships = memberships.filter(workspace__slug=slug)
    return memberships.first()


def member_list(*, workspace: Workspace) -> QuerySet[Membership]:
    return Membership.objects.filter(workspace=workspace).select_related("user").order_by("user__email")


def member_get(*, workspace: Workspace, member_id: int) -> Membership:
    return Membership.objects.select_related("user", "workspace").get(workspace=workspace, pk=member_id)


def invitation_list(*, workspace: Workspace) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(workspace=workspace, accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .order_by("-created_at")
    )


def api_token_list(*, workspace: Workspace, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(workspace=workspace, user=user).order_by("-created_at")


def api_token_get(*, workspace: Workspace, user: User, token_id: int) -> ApiToken:
    return ApiToken.objects.select_related("workspace").get(workspace=workspace, user=user, pk=token_id)
