"""The web entrypoint's single activation point for the workspace scope."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from clientela.core import errors
from clientela.core.tenancy import _active_workspace
from clientela.workspaces.selectors import membership_list_for_user

SESSION_KEY = "workspace_id"


class WorkspaceMiddleware:
    """Sets ``request.workspace`` and ``request.membership`` from the session and activates the scope.

    The API's token auth may activate another workspace later in the same request; the scope is reset
    here when the response leaves, whatever activated it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.workspace = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            # Every workspace of the user (the switcher shows them, the session picks one): read with the
            # user by ``MembershipBackend``, else one query.
            memberships = getattr(user, "active_memberships", None)
            if memberships is None:
                memberships = list(membership_list_for_user(user=user))
            request.memberships = memberships  # type: ignore[attr-defined]
            wanted = request.session.get(SESSION_KEY)
            membership = next((m for m in memberships if m.workspace_id == wanted), None)
            if membership is None and memberships:
                membership = memberships[0]
            if membership is not None:
                if request.session.get(SESSION_KEY) != membership.workspace_id:
                    request.session[SESSION_KEY] = membership.workspace_id  # a write only when it changes
                request.workspace = membership.workspace  # type: ignore[attr-defined]
                request.membership = membership  # type: ignore[attr-defined]
        token = _active_workspace.set(request.workspace)  # type: ignore[attr-defined]
        try:
            return self.get_response(request)
        finally:
            _active_workspace.reset(token)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Missing and forbidden look the same to the web: a record of another workspace is a 404.
        if isinstance(exception, ObjectDoesNotExist | errors.NotFound):
            raise Http404(str(exception)) from exception
        if isinstance(exception, errors.PermissionDenied):
            raise DjangoPermissionDenied(exception.message) from exception
        return None
