"""The authentication backend: Django's model backend, whose signed-in user comes with their workspaces."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from clientela.workspaces.selectors import membership_list_for_user


class MembershipBackend(ModelBackend):
    """``get_user`` (the session's user, on every page) reads the user with their active memberships in
    one query, where the model backend and ``WorkspaceMiddleware`` took one each. The memberships are
    left on the user as ``active_memberships`` for the middleware; everything else (passwords,
    permissions, the session hash check of ``django.contrib.auth.get_user``) is the model backend's."""

    def get_user(self, user_id: Any) -> Any:
        try:
            memberships = list(membership_list_for_user(user_id=int(user_id)).select_related("user"))
        except (TypeError, ValueError):
            return None
        if not memberships:  # a user without a workspace yet
            return super().get_user(user_id)
        user = memberships[0].user
        for membership in memberships:
            membership.user = user
        user.active_memberships = memberships  # type: ignore[attr-defined]
        return user if self.user_can_authenticate(user) else None
