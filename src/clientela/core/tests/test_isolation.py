"""The workspace-isolation suite over every registered page and API route, and proof that it bites."""

import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from clientela.core.testing import isolation
from clientela.core.testing.isolation import RouteCase
from clientela.workspaces.models import Membership
from clientela.workspaces.permissions import workspace_view


def test_every_page_is_isolated_and_role_checked(workspace_a, workspace_b):
    assert isolation.check_web(workspace_a, workspace_b) == []


def test_every_api_route_is_isolated_and_role_checked(workspace_a, workspace_b):
    assert isolation.check_api(workspace_a, workspace_b) == []


# A deliberately broken page: it reads through the unscoped manager, so it leaks across workspaces.
@workspace_view()
def leaky_member_page(request: HttpRequest, member_id: int) -> HttpResponse:
    member = Membership.all_workspaces.get(pk=member_id)
    return HttpResponse(member.user.email)


@workspace_view()
def unregistered_page(request: HttpRequest, thing_id: int) -> HttpResponse:
    return HttpResponse("")


urlpatterns = [
    path("", include("clientela.config.urls")),
    path("leak/<int:member_id>/", leaky_member_page, name="leak"),
    path("forgotten/<int:thing_id>/", unregistered_page, name="forgotten"),
]


@pytest.fixture
def leaky_case():
    def make(workspace, actor):
        from clientela.core.testing.factories import MembershipFactory

        return {"member_id": MembershipFactory.create(workspace=workspace).pk}

    isolation.REGISTRY["leak"] = RouteCase("leak", make)
    yield
    del isolation.REGISTRY["leak"]


def test_the_suite_catches_a_leaky_route_and_a_forgotten_one(workspace_a, workspace_b, settings, leaky_case):
    settings.ROOT_URLCONF = __name__
    failures = isolation.check_web(workspace_a, workspace_b, urlconf=__name__)
    assert any(f.startswith("leak GET") and "expected 404" in f for f in failures), failures
    assert any(f.startswith("forgotten:") and "no isolation case" in f for f in failures), failures
    assert len(failures) == 2, failures
