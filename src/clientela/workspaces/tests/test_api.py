"""The API shell: auth, problem details, pagination, and the workspaces endpoints."""

import pytest
from django.test import Client

from clientela.workspaces.models import Membership
from clientela.workspaces.roles import Role

PROBLEM = "application/problem+json"


def test_me_returns_user_workspace_and_role(owner_a, api_for):
    response = api_for(owner_a).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json() == {
        "user": {
            "id": owner_a.user.pk,
            "email": "owner@alpha.test",
            "full_name": owner_a.user.full_name,
            "language": "",
        },
        "workspace": {
            "id": owner_a.workspace.pk,
            "name": "Alpha Srl",
            "slug": "alpha",
            "default_currency": "EUR",
        },
        "role": "owner",
    }


@pytest.mark.parametrize("header", ["", "Bearer ", "Bearer clt_nope", "Token abc", "Bearer " + "x" * 500])
def test_missing_or_malformed_tokens_get_401_problem(db, header):
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["code"] == "unauthenticated"


def test_revoked_token_and_removed_member_get_401(owner_a, member_factory, api_for):
    api = api_for(owner_a)
    token_id = api.get("/api/v1/tokens").json()["results"][0]["id"]
    assert api.delete(f"/api/v1/tokens/{token_id}").json()["revoked_at"] is not None
    assert api.get("/api/v1/me").status_code == 401

    sales = member_factory(owner_a.workspace, Role.SALES)
    sales_api = api_for(sales)
    Membership.all_workspaces.filter(pk=sales.pk).delete()
    assert sales_api.get("/api/v1/me").status_code == 401


def test_token_of_workspace_a_cannot_reach_records_of_workspace_b(owner_a, owner_b, api_for):
    api = api_for(owner_a)
    response = api.get(f"/api/v1/members/{owner_b.pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert api.patch(f"/api/v1/members/{owner_b.pk}", {"role": "read_only"}).status_code == 404
    owner_b.refresh_from_db()
    assert owner_b.role == Role.OWNER


def test_malformed_json_oversized_body_and_invalid_fields_are_problems(owner_a, api_for, settings):
    api = api_for(owner_a)
    response = api.post("/api/v1/tokens", "{not json")
    assert (response.status_code, response["Content-Type"], response.json()["code"]) == (
        400,
        PROBLEM,
        "malformed_body",
    )

    response = api.post("/api/v1/tokens", {"name": 42, "extra": True})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "name", "message": "Input should be a valid string"}]

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api.post("/api/v1/tokens", {"name": "x" * 5000})
    assert (response.status_code, response.json()["code"]) == (413, "body_too_large")
    assert (
        len(api.get("/api/v1/tokens").json()["results"]) == 1
    )  # only the client's own token: nothing created


def test_role_errors_are_403_problems_and_change_nothing(owner_a, member_factory, api_for):
    sales = member_factory(owner_a.workspace, Role.SALES)
    response = api_for(sales).patch(f"/api/v1/members/{owner_a.pk}", {"role": "read_only"})
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    owner_a.refresh_from_db()
    assert owner_a.role == Role.OWNER


def test_session_auth_requires_csrf_on_unsafe_methods(owner_a, client_for):
    client = client_for(owner_a, enforce_csrf_checks=True)
    assert client.get("/api/v1/me").json()["role"] == "owner"
    response = client.post("/api/v1/tokens", {"name": "x"}, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (403, "csrf_failed")
    client.get("/settings/tokens/")  # sets the CSRF cookie, as the browser would
    response = client.post(
        "/api/v1/tokens",
        {"name": "x"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 201
    assert response.json()["token"].startswith("clt_")


def test_members_list_is_cursor_paginated(owner_a, member_factory, api_for):
    for _ in range(4):
        member_factory(owner_a.workspace)
    api = api_for(owner_a)
    seen, url = [], "/api/v1/members?page_size=2"
    while url:
        page = api.get(url).json()
        seen += [m["id"] for m in page["results"]]
        url = page["next"]
    assert len(seen) == 5 and seen == sorted(set(seen))


def test_openapi_schema_and_docs_are_served_locally(db):
    client = Client()
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    assert "/api/v1/me" in schema["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"/static/ninja/" in docs.content and b"cdn." not in docs.content
