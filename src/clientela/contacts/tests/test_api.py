"""People and companies over the API: CRUD, search, timeline, custom fields, bulk, errors."""

from clientela.contacts.models import Person


def test_create_read_update_trash_restore_a_person(owner_a, api_for):
    api = api_for(owner_a)
    company = api.post("/api/v1/companies", {"name": "Acme Srl", "vat_number": "00743110157"}).json()
    assert company["vat_number"] == "IT00743110157"
    created = api.post(
        "/api/v1/people",
        {
            "first_name": "Mario",
            "last_name": "Rossi",
            "company": company["id"],
            "emails": ["Mario@Acme.it"],
            "phones": [{"number": "02 3661 8300", "label": "work"}],
            "tags": ["VIP"],
        },
    )
    assert created.status_code == 201, created.json()
    person = created.json()
    assert person["emails"] == ["mario@acme.it"] and person["phones"][0]["e164"] == "+390236618300"
    assert person["company"] == {"id": company["id"], "name": "Acme Srl"} and person["tags"] == ["VIP"]

    updated = api.patch(f"/api/v1/people/{person['id']}", {"job_title": "CEO"}).json()
    assert updated["job_title"] == "CEO" and updated["emails"] == ["mario@acme.it"]  # untouched fields kept
    assert updated["tags"] == ["VIP"]
    retagged = api.patch(f"/api/v1/people/{person['id']}", {"tags": ["vip", "Partner"]}).json()
    assert sorted(retagged["tags"]) == ["Partner", "VIP"]  # "vip" is the tag VIP already there
    assert api.patch(f"/api/v1/people/{person['id']}", {"tags": []}).json()["tags"] == []

    assert api.get(f"/api/v1/people/{person['id']}").json()["addresses"] == []
    assert api.delete(f"/api/v1/people/{person['id']}").status_code == 204
    assert api.get(f"/api/v1/people/{person['id']}").status_code == 404
    assert api.post(f"/api/v1/people/{person['id']}/restore").json()["id"] == person["id"]


def test_validation_errors_name_every_bad_field_and_change_nothing(owner_a, api_for):
    response = api_for(owner_a).post(
        "/api/v1/people",
        {
            "first_name": "X",
            "gender": "alien",
            "emails": ["nope"],
            "phones": [{"number": "12"}],
            "custom": {"missing": 1},
        },
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"gender", "emails", "phones", "custom.missing"}
    assert not Person.all_workspaces.exists()


def test_wrong_field_type_is_a_422(owner_a, api_for):
    response = api_for(owner_a).post("/api/v1/people", {"last_name": "X", "birth_date": "not a date"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "birth_date"


def test_search_list_filters_and_timeline(owner_a, api_for):
    api = api_for(owner_a)
    for first, last in [("Zoltán", "Szabó"), ("Ana", "Ștefănescu"), ("Mario", "Rossi")]:
        api.post("/api/v1/people", {"first_name": first, "last_name": last})
    assert [p["last_name"] for p in api.get("/api/v1/search?q=szabo").json()["people"]] == ["Szabó"]
    page = api.get("/api/v1/people?sort=-name&page_size=2").json()
    assert [p["last_name"] for p in page["results"]] == ["Ștefănescu", "Szabó"] or len(page["results"]) == 2
    rest = api.get(f"/api/v1/people?sort=-name&page_size=2&cursor={page['next']}").json()
    assert len(rest["results"]) == 1 and rest["next"] is None
    assert api.get("/api/v1/people?sort=shoe").status_code == 422

    person_id = page["results"][0]["id"]
    logged = api.post(
        f"/api/v1/people/{person_id}/interactions", {"kind": "call", "subject": "Called", "direction": "out"}
    )
    assert logged.status_code == 201
    timeline = api.get(f"/api/v1/people/{person_id}/timeline?kind=call").json()
    assert [i["subject"] for i in timeline["results"]] == ["Called"]
    assert api.post(f"/api/v1/people/{person_id}/interactions", {"kind": "bogus"}).status_code == 422


def test_custom_fields_and_bulk_actions(owner_a, api_for):
    api = api_for(owner_a)
    field = api.post(
        "/api/v1/custom-fields",
        {"entity": "person", "label": "Tier", "type": "choice", "choices": ["Gold", "Silver"]},
    ).json()
    assert field["key"] == "tier"
    person = api.post("/api/v1/people", {"last_name": "Gold", "custom": {"tier": "Gold"}}).json()
    assert person["custom"] == {"tier": "Gold"}
    assert [p["id"] for p in api.get("/api/v1/people?custom.tier=Gold").json()["results"]] == [person["id"]]
    bulk = api.post("/api/v1/people/bulk", {"action": "tag", "ids": [person["id"], 999999], "tags": ["Q4"]})
    assert bulk.json() == {"action": "tag", "count": 1}
    assert api.post("/api/v1/people/bulk", {"action": "explode", "ids": []}).status_code == 422
    renamed = api.patch(f"/api/v1/custom-fields/{field['id']}", {"label": "Level"}).json()
    assert (renamed["label"], renamed["key"]) == ("Level", "tier")
    assert api.get(f"/api/v1/people/{person['id']}").json()["custom"] == {"tier": "Gold"}


def test_consent_is_recorded_per_channel_and_the_newest_decision_counts(owner_a, api_for):
    api = api_for(owner_a)
    person = api.post("/api/v1/people", {"last_name": "Rossi"}).json()
    url = f"/api/v1/people/{person['id']}/consents"
    granted = api.post(url, {"channel": "email", "granted": True, "source": "web form"})
    assert granted.status_code == 201 and granted.json()["granted"] is True
    withdrawn = api.post(url, {"channel": "email", "granted": False, "source": "phone call"})
    assert withdrawn.status_code == 201
    decisions = api.get(url).json()
    assert [(d["channel"], d["granted"], d["source"]) for d in decisions] == [
        ("email", False, "phone call"),
        ("email", True, "web form"),
    ]
    bad = api.post(url, {"channel": "pigeon", "granted": True, "source": ""})
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"channel", "source"}
    assert len(api.get(url).json()) == 2  # nothing recorded


def test_a_national_phone_is_read_in_the_customers_country_and_kept_once(owner_a, api_for):
    api = api_for(owner_a)  # workspace A's region is Italy
    person = api.post(
        "/api/v1/people",
        {
            "last_name": "Kovács",
            "addresses": [{"city": "Budapest", "country": "HU"}],
            "phones": [{"number": "06 30 765 4321"}, {"number": "+36 30 765 4321"}],
        },
    ).json()
    assert [p["e164"] for p in person["phones"]] == ["+36307654321"]
    # Later, phones alone: read in the country of the address already on the record.
    updated = api.patch(f"/api/v1/people/{person['id']}", {"phones": [{"number": "06 1 234 5678"}]}).json()
    assert [p["e164"] for p in updated["phones"]] == ["+3612345678"]
    italian = api.post("/api/v1/people", {"last_name": "Rossi", "phones": [{"number": "02 3661 8300"}]})
    assert italian.json()["phones"][0]["e164"] == "+390236618300"


def test_bad_values_the_api_used_to_take_are_refused(owner_a, api_for):
    api = api_for(owner_a)
    assert (
        api.post(
            "/api/v1/custom-fields", {"entity": "person", "label": "Score", "type": "number"}
        ).status_code
        == 201
    )
    for bad in ("NaN", "Infinity", "1e400"):
        response = api.post("/api/v1/people", {"last_name": "X", "custom": {"score": bad}})
        assert response.status_code == 422, bad
    assert api.post("/api/v1/people", {"last_name": "X", "custom": {"score": "12,5"}}).json()["custom"] == {
        "score": "12.5"
    }
    person = api.post("/api/v1/people", {"last_name": "Y"}).json()
    follow_up = api.post(f"/api/v1/people/{person['id']}/interactions", {"kind": "follow_up", "subject": "x"})
    assert follow_up.status_code == 422 and follow_up.json()["errors"][0]["field"] == "due_at"
    missing = api.get("/api/v1/no-such-route")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/problem+json"


def test_a_company_shows_its_addresses_and_comes_back_from_the_trash(owner_a, api_for):
    api = api_for(owner_a)
    company = api.post(
        "/api/v1/companies", {"name": "Duna Kft", "addresses": [{"city": "Budapest", "country": "hu"}]}
    ).json()
    assert [(a["city"], a["country"]) for a in company["addresses"]] == [("Budapest", "HU")]
    assert api.delete(f"/api/v1/companies/{company['id']}").status_code == 204
    assert api.get(f"/api/v1/companies/{company['id']}").status_code == 404
    restored = api.post(f"/api/v1/companies/{company['id']}/restore")
    assert restored.status_code == 200 and restored.json()["addresses"][0]["city"] == "Budapest"
