"""The shell: home page, language switch and the error pages."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import check_for_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from clientela.workspaces.http import WorkspaceRequest
from clientela.workspaces.permissions import workspace_view


@workspace_view()
def home(request: WorkspaceRequest) -> HttpResponse:
    return render(request, "web/pages/home.html")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the UI language; remembered on the user so it follows them to other devices."""
    language = request.POST.get("language", "")
    if (
        request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
        and check_for_language(language)
    ):
        request.user.language = language
        request.user.save(update_fields=["language"])
    return django_set_language(request)


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers, and the floor of the HTTP benchmarks: no database, no session."""
    return JsonResponse({"status": "ok"})


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):  # a route the API does not have: its own kind of answer
        from clientela.api.problems import problem

        return problem(404, "not_found", _("Not found."), _("There is no such API route."))
    return render(request, "404.html", status=404)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {"reason": str(exception or "")}, status=403)


def error_500(request: HttpRequest) -> HttpResponse:
    return render(request, "500.html", status=500)
