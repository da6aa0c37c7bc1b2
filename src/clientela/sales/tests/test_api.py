"""Pipelines, deals, moves and the forecast over the API: happy paths, problems, the permission matrix."""

import pytest

from clientela.sales.models import Deal
from clientela.workspaces.roles import Role


@pytest.fixture
def api(owner_a, api_for):
    return api_for(owner_a)


def stage_ids(api):
    pipeline = api.get("/api/v1/pipelines").json()[0]
    return pipeline, {s["name"]: s["id"] for s in pipeline["stages"]}


def test_create_read_move_and_history_of_a_deal(api, make_person):
    person = make_person("Ana", "Pop")
    pipeline, stages = stage_ids(api)
    assert pipeline["name"] == "New business" and pipeline["is_default"]
    created = api.post(
        "/api/v1/deals",
        {"title": "Solar roof", "person": person.pk, "amount": "12000.5", "expected_close": "2027-05-01"},
    )
    assert created.status_code == 201, created.json()
    deal = created.json()
    assert (deal["amount"], deal["currency"], deal["version"]) == ("12000.50", "EUR", 1)
    assert deal["stage"]["name"] == "Qualified" and deal["person"] == person.pk

    moved = api.post(f"/api/v1/deals/{deal['id']}/move", {"stage": stages["Proposal sent"], "version": 1})
    assert moved.status_code == 200 and moved.json()["stage"]["name"] == "Proposal sent"
    assert moved.json()["version"] == 2
    assert moved.json() == api.get(f"/api/v1/deals/{deal['id']}").json()  # the answer is what is stored
    history = api.get(f"/api/v1/deals/{deal['id']}/history").json()
    assert [h["stage"]["name"] for h in history] == ["Qualified", "Proposal sent"]
    assert history[0]["left_at"] is not None and history[1]["left_at"] is None
    assert all(h["seconds"] >= 0 for h in history)

    patched = api.patch(f"/api/v1/deals/{deal['id']}", {"version": 2, "notes": "Call after Easter"})
    assert patched.json()["notes"] == "Call after Easter" and patched.json()["version"] == 3
    assert api.get(f"/api/v1/deals/{deal['id']}").json()["title"] == "Solar roof"


def test_refusals_are_problem_details(api, make_person):
    _, stages = stage_ids(api)
    deal = api.post("/api/v1/deals", {"title": "Empty"}).json()
    refused = api.post(f"/api/v1/deals/{deal['id']}/move", {"stage": stages["Won"], "version": 1})
    assert refused.status_code == 422 and refused["Content-Type"] == "application/problem+json"
    body = refused.json()
    assert body["code"] == "stage_rules" and "cannot move to Won" in body["title"]
    assert {e["field"] for e in body["errors"]} == {"amount", "person"}

    stale = api.post(f"/api/v1/deals/{deal['id']}/move", {"stage": stages["Lost"], "version": 7})
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    assert stale.json()["title"] == "This deal was changed by someone else; reload."
    stale_patch = api.patch(f"/api/v1/deals/{deal['id']}", {"version": 7, "title": "x"})
    assert stale_patch.status_code == 409

    lost = api.post(
        f"/api/v1/deals/{deal['id']}/move",
        {"stage": stages["Lost"], "version": 1, "lost_reason": "No budget"},
    )
    assert lost.status_code == 200 and lost.json()["lost_reason"] == "No budget"

    invalid = api.post("/api/v1/deals", {"title": "", "amount": "-1", "currency": "XXXX", "person": 99999})
    assert invalid.status_code == 422
    assert {e["field"] for e in invalid.json()["errors"]} == {"title", "amount", "currency", "person"}
    assert api.post("/api/v1/deals", {"title": "x", "amount": "lots"}).status_code == 422
    assert api.post(f"/api/v1/deals/{deal['id']}/move", {"stage": 999999, "version": 2}).status_code == 404


def test_positions_in_a_column_follow_what_the_client_sees(api):
    _, stages = stage_ids(api)
    ids = [api.post("/api/v1/deals", {"title": t}).json()["id"] for t in "ABC"]  # column: C, B, A

    def column():
        page = api.get(f"/api/v1/deals?stage={stages['Qualified']}&sort=board").json()
        return [d["title"] for d in page["results"]]

    assert column() == ["C", "B", "A"]
    api.post(f"/api/v1/deals/{ids[0]}/move", {"stage": stages["Qualified"], "version": 1, "position": 0})
    assert column() == ["A", "C", "B"]
    api.post(f"/api/v1/deals/{ids[2]}/move", {"stage": stages["Qualified"], "version": 1, "position": 2})
    assert column() == ["A", "B", "C"]


def test_list_filters_and_cursor_pagination(api, make_person):
    vip = make_person("Vera", "Vip", tags=["VIP"])
    for i in range(5):
        api.post(
            "/api/v1/deals",
            {"title": f"Deal {i}", "amount": str(i * 100), "person": vip.pk if i == 2 else None},
        )
    first = api.get("/api/v1/deals?sort=-amount&page_size=2").json()
    assert [d["title"] for d in first["results"]] == ["Deal 4", "Deal 3"]
    second = api.get(f"/api/v1/deals?sort=-amount&page_size=2&cursor={first['next']}").json()
    assert [d["title"] for d in second["results"]] == ["Deal 2", "Deal 1"]
    assert [d["title"] for d in api.get("/api/v1/deals?tag=vip").json()["results"]] == ["Deal 2"]
    assert api.get("/api/v1/deals?status=open&close_from=2027-01-01").json()["results"] == []
    bad = api.get("/api/v1/deals?sort=luck&cursor=garbage")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "sort"
    assert api.get("/api/v1/deals?cursor=garbage").status_code == 422


def test_qualify_a_lead(api, make_person, make_company):
    lead = make_person("Lena", "Lead")
    deal = api.post("/api/v1/leads/qualify", {"person": lead.pk, "amount": "500"})
    assert deal.status_code == 201 and deal.json()["title"] == "Lena Lead"
    assert api.get(f"/api/v1/people/{lead.pk}").json()["lifecycle_stage"] == "opportunity"
    again = api.post("/api/v1/leads/qualify", {"person": lead.pk})
    assert again.status_code == 422 and "already" in again.json()["title"]
    company = make_company("Lead Srl", lifecycle_stage="lead")
    assert api.post("/api/v1/leads/qualify", {"company": company.pk}).status_code == 201
    assert api.post("/api/v1/leads/qualify", {}).status_code == 422


def test_admins_configure_pipelines_and_stages(api, owner_a, member_factory, api_for):
    created = api.post(
        "/api/v1/pipelines",
        {
            "name": "Renewals",
            "stages": [
                {"name": "Due", "probability": 60},
                {"name": "Renewed", "kind": "won"},
                {"name": "Churned", "kind": "lost"},
            ],
        },
    )
    assert created.status_code == 201, created.json()
    pipeline = created.json()
    assert [(s["name"], s["probability"]) for s in pipeline["stages"]] == [
        ("Due", "60.00"),
        ("Renewed", "100.00"),
        ("Churned", "0.00"),
    ]
    added = api.post(
        f"/api/v1/pipelines/{pipeline['id']}/stages", {"name": "Reminded", "probability": 70}
    ).json()
    listed = {p["id"]: p for p in api.get("/api/v1/pipelines").json()}
    ids = [s["id"] for s in listed[pipeline["id"]]["stages"]]
    assert ids[1] == added["id"]  # after the last open stage, before won and lost
    reordered = api.post(
        f"/api/v1/pipelines/{pipeline['id']}/stages/reorder", {"stages": [ids[1], ids[0], *ids[2:]]}
    )
    assert [s["name"] for s in reordered.json()["stages"]] == ["Reminded", "Due", "Renewed", "Churned"]
    assert (
        api.patch(f"/api/v1/stages/{added['id']}", {"name": "Reminder sent"}).json()["name"]
        == "Reminder sent"
    )
    retired = api.post(f"/api/v1/stages/{added['id']}/retire", {}).json()
    assert retired["retired_at"] is not None
    assert api.post(f"/api/v1/stages/{ids[0]}/retire", {}).status_code == 422  # the last open stage
    renamed = api.patch(f"/api/v1/pipelines/{pipeline['id']}", {"name": "Renewals 2027", "is_default": True})
    assert renamed.json()["is_default"] and renamed.json()["name"] == "Renewals 2027"
    assert api.post("/api/v1/pipelines", {"name": "renewals 2027"}).status_code == 422

    manager = api_for(member_factory(owner_a.workspace, Role.MANAGER))
    assert manager.get("/api/v1/pipelines").status_code == 200
    assert manager.post("/api/v1/pipelines", {"name": "Manager's"}).status_code == 403


def test_salespeople_see_and_move_only_their_own_deals(api, owner_a, member_factory, api_for):
    seller_member = member_factory(owner_a.workspace, Role.SALES)
    seller = api_for(seller_member)
    _, stages = stage_ids(api)
    theirs = api.post("/api/v1/deals", {"title": "Owner's deal"}).json()
    mine = seller.post("/api/v1/deals", {"title": "Seller's deal"})
    assert mine.status_code == 201 and mine.json()["owner"]["id"] == seller_member.user_id
    assert [d["title"] for d in seller.get("/api/v1/deals").json()["results"]] == ["Seller's deal"]
    assert seller.get(f"/api/v1/deals/{theirs['id']}").status_code == 404
    assert (
        seller.post(f"/api/v1/deals/{theirs['id']}/move", {"stage": stages["Lost"], "version": 1}).status_code
        == 404
    )
    assert seller.patch(f"/api/v1/deals/{theirs['id']}", {"version": 1, "title": "x"}).status_code == 404
    handed = seller.patch(f"/api/v1/deals/{mine.json()['id']}", {"version": 1, "owner": owner_a.user_id})
    assert handed.status_code == 422 and handed.json()["errors"][0]["field"] == "owner"
    assert seller.post("/api/v1/deals", {"title": "x", "owner": owner_a.user_id}).status_code == 422
    assert {d["title"] for d in api.get("/api/v1/deals").json()["results"]} == {
        "Owner's deal",
        "Seller's deal",
    }


@pytest.mark.parametrize(
    ("role", "can_view", "can_edit"),
    [
        (Role.OWNER, True, True),
        (Role.ADMIN, True, True),
        (Role.MANAGER, True, True),
        (Role.SALES, True, True),
        (Role.SUPPORT, True, False),
        (Role.MARKETING, True, False),
        (Role.READ_ONLY, True, False),
    ],
)
def test_permission_matrix(owner_a, member_factory, api_for, role, can_view, can_edit):
    member = member_factory(owner_a.workspace, role)
    client = api_for(member)
    assert (client.get("/api/v1/deals").status_code == 200) == can_view
    assert (client.get("/api/v1/forecast").status_code == 200) == can_view
    created = client.post("/api/v1/deals", {"title": "Try"})
    assert created.status_code == (201 if can_edit else 403)


def test_anonymous_and_other_workspaces_get_nothing(api, owner_b, api_for):
    deal = api.post("/api/v1/deals", {"title": "Secret"}).json()
    from django.test import Client

    assert Client().get("/api/v1/deals").status_code == 401
    intruder = api_for(owner_b)
    assert intruder.get(f"/api/v1/deals/{deal['id']}").status_code == 404
    assert intruder.get("/api/v1/deals").json()["results"] == []
    assert Deal.all_workspaces.get(pk=deal["id"]).title == "Secret"


def test_forecast_over_the_api(api, make_deal, stage):
    make_deal("Jan", amount="1000", stage=stage["Proposal sent"], expected_close="2027-01-15")
    make_deal("Feb", amount="200", stage=stage["Negotiation"], expected_close="2027-02-15")
    body = api.get("/api/v1/forecast?start=2027-01-01&months=2").json()
    assert body["months"] == ["2027-01", "2027-02"] and body["currencies"] == ["EUR"]
    total = body["totals"][0]
    assert [(m["month"], m["amount"], m["weighted"]) for m in total["months"]] == [
        ("2027-01", "1000.00", "500.00"),
        ("2027-02", "200.00", "150.00"),
    ]
    assert total["total"] == {"count": 2, "amount": "1200.00", "weighted": "650.00"}
    assert body["by_pipeline"][0]["label"] == "New business"
    assert api.get("/api/v1/forecast?months=99").status_code == 422
