"""Duplicates, merges and privacy requests over the API: happy paths, problems, permissions."""

import pytest

from clientela.contacts import services
from clientela.contacts.models import Email, Person
from clientela.core.models import AuditEvent
from clientela.core.tenancy import workspace_scope
from clientela.timeline.models import Interaction

PROBLEM = "application/problem+json"


@pytest.fixture
def twins(make_person):
    """Two records of Anna Neri sharing an email."""
    first = make_person("Anna", "Neri", emails=["anna@example.it"], job_title="Buyer")
    second = make_person("Anna Maria", "Neri", emails=["anna@example.it", "anna@home.it"])
    return first, second


def test_duplicates_lists_pairs_with_reasons(owner_a, api_for, twins):
    first, second = twins
    response = api_for(owner_a).get("/api/v1/duplicates?entity=person")

    assert response.status_code == 200
    [pair] = response.json()["results"]
    assert (pair["first"]["id"], pair["second"]["id"]) == (first.pk, second.pk)
    assert pair["first"]["emails"] == ["anna@example.it"]
    assert pair["reasons"] == [
        {"code": "email", "value": "anna@example.it", "label": "Same email anna@example.it"}
    ]
    assert api_for(owner_a).get("/api/v1/duplicates?entity=deal").status_code == 422


def test_duplicates_check_before_creating_a_person_and_a_company(owner_a, api_for, twins):
    api = api_for(owner_a)
    with workspace_scope(owner_a.workspace):
        services.company_create(workspace=owner_a.workspace, actor=None, attributes={"name": "ACME S.r.l."})

    people = api.post(
        "/api/v1/people/duplicates-check", {"last_name": "Rossi", "emails": ["Anna@Example.it"]}
    )
    companies = api.post("/api/v1/companies/duplicates-check", {"name": "Acme srl"})

    assert people.status_code == 200
    assert [c["record"]["id"] for c in people.json()["results"]] == [p.pk for p in twins]
    assert people.json()["results"][0]["reasons"][0]["code"] == "email"
    [company] = companies.json()["results"]
    assert (company["record"]["name"], company["reasons"][0]["label"]) == ("ACME S.r.l.", "Same name")
    nothing = api.post("/api/v1/people/duplicates-check", {"emails": ["x@y.it"], "exclude_id": twins[0].pk})
    assert nothing.json() == {"results": []}


def test_merge_keeps_picks_and_moves_history(owner_a, api_for, twins):
    first, second = twins

    response = api_for(owner_a).post(
        f"/api/v1/people/{first.pk}/merge", {"other_id": second.pk, "choices": {"first_name": "other"}}
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["first_name"], body["job_title"]) == (first.pk, "Anna Maria", "Buyer")
    assert sorted(body["emails"]) == ["anna@example.it", "anna@home.it"]
    assert not Person.objects.filter(pk=second.pk).exists()
    assert Interaction.objects.filter(person=first, subject="Created").count() == 2
    assert AuditEvent.objects.filter(action="person.merged", actor=owner_a.user).count() == 1


@pytest.mark.parametrize(
    ("choices", "field"),
    [({"first_name": "both"}, "choices.first_name"), ({"password": "other"}, "choices.password")],
)
def test_merge_with_bad_choices_is_a_422_problem(owner_a, api_for, twins, choices, field):
    first, second = twins
    response = api_for(owner_a).post(
        f"/api/v1/people/{first.pk}/merge", {"other_id": second.pk, "choices": choices}
    )
    assert (response.status_code, response["Content-Type"]) == (422, PROBLEM)
    assert field in [e["field"] for e in response.json()["errors"]]
    assert Person.objects.filter(pk=second.pk).exists()


def test_merge_with_itself_or_with_another_workspaces_record_is_refused(
    owner_a, owner_b, api_for, make_person
):
    anna = make_person("Anna", "Neri")
    stranger = make_person("Anna", "Neri", workspace=owner_b.workspace)
    api = api_for(owner_a)

    itself = api.post(f"/api/v1/people/{anna.pk}/merge", {"other_id": anna.pk})
    across = api.post(f"/api/v1/people/{anna.pk}/merge", {"other_id": stranger.pk})
    reverse = api.post(f"/api/v1/people/{stranger.pk}/merge", {"other_id": anna.pk})

    assert (itself.status_code, itself.json()["code"]) == (422, "validation_failed")
    assert (across.status_code, across.json()["code"]) == (404, "not_found")
    assert reverse.status_code == 404
    with workspace_scope(owner_b.workspace):
        assert Person.objects.filter(pk=stranger.pk).exists()


def test_company_merge(owner_a, api_for, make_person):
    ws = owner_a.workspace
    with workspace_scope(ws):
        a = services.company_create(workspace=ws, actor=None, attributes={"name": "Acme Srl"})
        b = services.company_create(
            workspace=ws,
            actor=None,
            attributes={"name": "ACME srl", "website": "https://acme.example"},
            contact=services.ContactPoints(emails=["info@acme.it"]),
        )
    anna = make_person("Anna", "Neri", company=b.pk)

    response = api_for(owner_a).post(f"/api/v1/companies/{a.pk}/merge", {"other_id": b.pk})

    assert response.status_code == 200
    assert (response.json()["website"], response.json()["emails"]) == (
        "https://acme.example",
        ["info@acme.it"],
    )
    assert Person.objects.get(pk=anna.pk).company_id == a.pk


def test_privacy_export_and_erase(owner_a, api_for, twins):
    first, _second = twins
    api = api_for(owner_a)

    export = api.get(f"/api/v1/people/{first.pk}/privacy-export")
    erased = api.post(f"/api/v1/people/{first.pk}/erase")

    assert export.status_code == 200
    assert export.json()["emails"][0]["email"] == "anna@example.it"
    assert erased.status_code == 200
    assert erased.json() == {"id": first.pk, "full_name": f"Erased person #{first.pk}"}
    assert not Email.objects.filter(person=first).exists()
    trail = AuditEvent.objects.filter(target_type="contacts.person", target_id=str(first.pk)).order_by("id")
    assert list(trail.values_list("action", flat=True)) == ["person.exported", "person.erased"]


@pytest.mark.parametrize(
    ("role", "merge", "privacy"), [("sales", 404, 403), ("read_only", 403, 403), ("admin", 404, 200)]
)
def test_permissions(owner_a, member_factory, api_for, twins, role, merge, privacy):
    api = api_for(member_factory(owner_a.workspace, role))
    first, _second = twins
    assert api.post(f"/api/v1/people/{first.pk}/merge", {"other_id": 0}).status_code == merge
    assert api.get(f"/api/v1/people/{first.pk}/privacy-export").status_code == privacy
    assert api.post(f"/api/v1/people/{first.pk}/erase").status_code == privacy
