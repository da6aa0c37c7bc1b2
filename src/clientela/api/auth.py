"""The API entrypoint's activation point: a bearer token or the browser session selects the workspace."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from clientela.core.tenancy import _active_workspace
from clientela.workspaces.models import Membership
from clientela.workspaces.services import api_token_authenticate


def _activate(request: HttpRequest, membership: Membership) -> None:
    request.workspace = membership.workspace  # type: ignore[attr-defined]
    request.membership = membership  # type: ignore[attr-defined]
    # Reset by WorkspaceMiddleware when the response leaves.
    _active_workspace.set(membership.workspace)


class BearerToken(HttpBearer):
    """``Authorization: Bearer clt_...``: the token's user, in the token's workspace, with their role
    (a user removed from the workspace since the token was made is refused)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        request.user = api_token.user
        request.api_token = api_token  # type: ignore[attr-defined]
        _activate(request, api_token.membership)  # type: ignore[attr-defined]
        return api_token


class WorkspaceSession(APIKeyCookie):
    """The browser's session (with CSRF on unsafe methods), in the workspace chosen in the UI."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        membership = getattr(request, "membership", None)
        if request.user.is_authenticated and membership is not None:
            _activate(request, membership)
            return request.user
        return None
