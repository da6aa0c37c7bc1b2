from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from clientela.web.navigation import navigation_for
from clientela.workspaces.selectors import membership_list_for_user


def shell(request: HttpRequest) -> dict[str, Any]:
    """What the layout needs on every page: the workspace switcher, navigation and languages."""
    user = getattr(request, "user", None)
    membership = getattr(request, "membership", None)
    if user is None or not user.is_authenticated:
        return {"LANGUAGES": settings.LANGUAGES}
    return {
        "LANGUAGES": settings.LANGUAGES,
        "current_workspace": getattr(request, "workspace", None),
        "current_membership": membership,
        "memberships": getattr(request, "memberships", None) or list(membership_list_for_user(user=user)),
        "navigation": navigation_for(request, membership),
    }
