"""The pages: list, filters, card, quick log, inline edit, bulk delete with undo, forms."""

import re
from html import unescape as html_unescape

from clientela.contacts.forms import PersonForm
from clientela.contacts.models import Person
from clientela.core.models import AuditEvent
from clientela.timeline.models import Interaction
from clientela.workspaces.roles import Role


def test_list_shows_people_and_filters_with_htmx(owner_a, make_person, client_for):
    make_person("Mario", "Rossi", emails=["m@r.it"])
    make_person("Zoltán", "Szabó")
    client = client_for(owner_a)
    page = client.get("/people/").content.decode()
    assert "Mario Rossi" in page and "Zoltán Szabó" in page and "m@r.it" in page
    partial = client.get(
        "/people/?q=szabo", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="list-results"
    ).content.decode()
    assert "Zoltán Szabó" in partial and "Mario Rossi" not in partial and "<html" not in partial


def test_empty_list_invites_to_add_the_first_person(owner_a, client_for):
    page = client_for(owner_a).get("/people/").content.decode()
    assert "No people yet." in page and "Add the first one" in page


def test_card_shows_facts_and_logs_a_call(owner_a, make_person, client_for):
    person = make_person("Mario", "Rossi", phones=["+39 02 3661 8300"])
    client = client_for(owner_a)
    card = client.get(f"/people/{person.pk}/").content.decode()
    assert "+39 02 3661 8300" in card and "Created" in card
    response = client.post(
        f"/people/{person.pk}/log/", {"kind": "call", "subject": "Asked for a quote"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "Asked for a quote" in response.content.decode()
    assert Interaction.objects.filter(person=person, kind="call").count() == 1
    missing = client.post(
        f"/people/{person.pk}/log/", {"kind": "follow_up", "subject": "x"}, HTTP_HX_REQUEST="true"
    )
    assert missing.status_code == 422 and "needs a due date" in missing.content.decode()


def test_inline_edit_saves_one_cell(owner_a, make_person, client_for):
    person = make_person()
    client = client_for(owner_a)
    assert 'name="value"' in client.get(f"/people/{person.pk}/cell/job_title/").content.decode()
    response = client.post(f"/people/{person.pk}/cell/job_title/", {"value": "CFO"})
    assert response.status_code == 200 and "CFO" in response.content.decode()
    person.refresh_from_db()
    assert person.job_title == "CFO"
    bad = client.post(f"/people/{person.pk}/cell/lifecycle_stage/", {"value": "alien"})
    assert bad.status_code == 422
    assert client.post(f"/people/{person.pk}/cell/owner_id/", {"value": "1"}).status_code == 404


def test_bulk_delete_can_be_undone(owner_a, make_person, client_for):
    a, b = make_person("A", "One"), make_person("B", "Two")
    client = client_for(owner_a)
    client.post("/people/bulk/", {"action": "trash", "ids": [a.pk, b.pk]})
    assert not Person.objects.filter(pk__in=[a.pk, b.pk]).exists()
    assert "Undo" in client.get("/people/").content.decode()
    client.post("/people/bulk/", {"action": "undo_trash"})
    assert Person.objects.filter(pk__in=[a.pk, b.pk]).count() == 2


def test_create_form_shows_service_errors_on_fields(owner_a, client_for):
    client = client_for(owner_a)
    response = client.post(
        "/people/new/",
        {"first_name": "Ada", "emails": "not-an-email", "phones": "12", "lifecycle_stage": "lead"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "not-an-email is not a valid email." in page and "not a possible phone number" in page
    response = client.post(
        "/people/new/",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "emails": "ada@x.io",
            "lifecycle_stage": "lead",
            "tags": "VIP, Math",
        },
    )
    person = Person.objects.get(last_name="Lovelace")
    assert response["Location"] == f"/people/{person.pk}/"
    assert sorted(t.name for t in person.tags.all()) == ["Math", "VIP"]


def test_read_only_member_sees_but_cannot_change(owner_a, member_factory, make_person, client_for):
    person = make_person()
    reader = client_for(member_factory(owner_a.workspace, Role.READ_ONLY))
    assert reader.get(f"/people/{person.pk}/").status_code == 200
    assert reader.get("/people/new/").status_code == 403
    assert reader.post(f"/people/{person.pk}/cell/job_title/", {"value": "x"}).status_code == 403


def test_global_search_dropdown(owner_a, make_person, client_for):
    make_person("Ana", "Ștefănescu")
    html = client_for(owner_a).get("/search/?q=stefanescu", HTTP_HX_REQUEST="true").content.decode()
    assert "Ana Ștefănescu" in html and "<html" not in html


def test_company_card_logs_a_meeting(owner_a, client_for):
    from clientela.contacts import services

    company = services.company_create(workspace=owner_a.workspace, actor=None, attributes={"name": "Acme"})
    client = client_for(owner_a)
    response = client.post(f"/companies/{company.pk}/log/", {"kind": "meeting", "subject": "Kick-off"})
    assert response["Location"] == f"/companies/{company.pk}/"
    assert "Kick-off" in client.get(f"/companies/{company.pk}/").content.decode()


def test_card_page_query_count_is_pinned(owner_a, make_person, client_for, django_assert_max_num_queries):
    """The whole card (facts, other apps' panels, first timeline page) in a fixed number of queries."""
    from django.utils import timezone

    person = make_person(emails=["a@b.it"], phones=["+39 02 3661 8300"])
    Interaction.objects.bulk_create(
        [
            Interaction(
                workspace=owner_a.workspace,
                person=person,
                kind="note",
                subject=f"n{i}",
                occurred_at=timezone.now(),
            )
            for i in range(300)
        ]
    )
    client = client_for(owner_a)
    client.get(f"/people/{person.pk}/")  # warm the session and the default pipeline
    with django_assert_max_num_queries(16):
        assert client.get(f"/people/{person.pk}/").status_code == 200


def _full_people(owner_a, make_person, count):
    """People with everything a list row shows: company, owner, tags, emails, phones."""
    from clientela.contacts import services

    ws = owner_a.workspace
    acme = services.company_create(workspace=ws, actor=None, attributes={"name": "Acme <Impianti>"})
    people = []
    for i in range(count):
        person = make_person(
            f"P{i}", "Rossi", emails=[f"p{i}@x.it"], phones=["+39 02 3661 8300"], company=acme.pk
        )
        services.person_update(person=person, actor=None, attributes={"owner": owner_a.user.pk})
        services.tag_assign(workspace=ws, records=[person], names=["VIP", "<b>bold</b>"])
        people.append(person)
    return people


def test_list_page_query_count_is_pinned(owner_a, make_person, client_for, django_assert_max_num_queries):
    """The list page in a fixed number of queries, whatever its rows hold."""
    _full_people(owner_a, make_person, 30)
    client = client_for(owner_a)
    client.get("/people/")  # warm the session
    with django_assert_max_num_queries(7):
        page = client.get("/people/?sort=-created&col=company&col=email&col=phone&col=owner&col=tags")
    html = page.content.decode()
    assert html.count('<a href="mailto:p') == 30 and html.count("+39 02 3661 8300") == 30
    assert "Acme &lt;Impianti&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold" not in html
    first = client.get("/people/?sort=-created&page_size=10").content.decode()
    more = re.search(r'hx-get="(\?[^"]+)"', first)
    assert more is not None
    with django_assert_max_num_queries(
        3
    ):  # "load more": the session, the user with their workspaces, the rows
        rows = client.get("/people/" + html_unescape(more.group(1)), HTTP_HX_REQUEST="true").content.decode()
    assert rows.count("<tr>") == 20 and "P19 Rossi" in rows and "P20 Rossi" not in rows


def test_list_api_query_count_is_pinned(owner_a, make_person, api_for, django_assert_max_num_queries):
    _full_people(owner_a, make_person, 30)
    api = api_for(owner_a)
    api.get("/api/v1/people")
    with django_assert_max_num_queries(3):
        results = api.get("/api/v1/people?sort=-created&page_size=25").json()["results"]
    assert len(results) == 25 and results[0]["tags"] == ["<b>bold</b>", "VIP"]
    assert results[0]["company"]["name"] == "Acme <Impianti>" and results[0]["owner"]["id"] == owner_a.user.pk


def test_inline_cell_after_a_save_is_the_cell_of_the_list(owner_a, make_person, client_for):
    person = make_person(lifecycle_stage="lead")
    client = client_for(owner_a)
    saved = client.post(f"/people/{person.pk}/cell/lifecycle_stage/", {"value": "customer"}).content.decode()
    assert saved.startswith('<td class="editable-cell"') and ">Customer<" in saved
    assert saved in client.get("/people/").content.decode()


def test_timeline_shows_each_kind_with_its_icon_direction_actor_body_and_due_date(
    owner_a, make_person, client_for
):
    from django.utils import timezone

    person = make_person()
    due = timezone.now()
    Interaction.objects.create(
        workspace=owner_a.workspace,
        person=person,
        kind="call",
        direction="in",
        subject="Asked <about> prices",
        body="first line\nsecond line",
        actor=owner_a.user,
        occurred_at=due,
    )
    Interaction.objects.create(
        workspace=owner_a.workspace,
        person=person,
        kind="follow_up",
        subject="Call back",
        due_at=due,
        occurred_at=due,
    )
    html = client_for(owner_a).get(f"/people/{person.pk}/").content.decode()
    assert '<i class="bi bi-telephone"></i>' in html and '<i class="bi bi-alarm"></i>' in html
    assert ">Inbound</small> <strong>Asked &lt;about&gt; prices</strong>" in html
    assert "first line<br>second line" in html and f" · {owner_a.user}</small>" in html
    assert "Due " in html and '<i class="bi bi-dot"></i>' in html  # the "Created" entry of the service


def test_owner_filter_keeps_the_chosen_member_selected(owner_a, member_factory, client_for):
    seller = member_factory(owner_a.workspace, email="seller@example.it").user
    html = client_for(owner_a).get(f"/people/?owner={seller.pk}").content.decode()
    assert f'<option value="{seller.pk}" selected>{seller}</option>' in html  # the filter
    assert f'<option value="{owner_a.user.pk}">{owner_a.user}</option>' in html
    assert html.count(f'<option value="{seller.pk}"') == 1  # the bulk bar shows only on a non-empty list


def test_the_list_speaks_the_readers_language_headers_included(owner_a, make_person, client_for):
    make_person("Mario", "Rossi")
    client = client_for(owner_a)
    client.post("/language/", {"language": "it", "next": "/"})
    page = client.get("/people/?col=job_title&col=owner").content.decode()
    headers = re.findall(r"<th[^>]*>(.*?)</th>", page, re.S)
    assert any("Qualifica" in h for h in headers) and not any("Job title" in h for h in headers)


def test_a_date_survives_an_edit_in_every_language(owner_a, make_person, client_for):
    """A date picker shows only an ISO value: a localised one came back empty and erased the date."""
    person = make_person("Mario", "Rossi", birth_date="1980-02-29")
    client = client_for(owner_a)
    for language in ("it", "hu", "ro", "en"):
        client.post("/language/", {"language": language, "next": "/"})
        form = client.get(f"/people/{person.pk}/edit/").content.decode()
        assert re.search(r'<input type="date" name="birth_date" value="1980-02-29"', form), language


def test_the_edit_form_changes_the_tags(owner_a, make_person, client_for):
    person = make_person("Mario", "Rossi")
    client = client_for(owner_a)

    def save(tags):
        data = {k: v for k, v in PersonForm(workspace=owner_a.workspace, instance=person).initial.items()}
        response = client.post(f"/people/{person.pk}/edit/", {**data, "birth_date": "", "tags": tags})
        assert response.status_code == 302, response.content.decode()[-2000:]

    save("VIP, Fair")
    assert 'value="Fair, VIP"' in client.get(f"/people/{person.pk}/edit/").content.decode()
    save("Fair")
    assert [t.name for t in person.tags.all()] == ["Fair"]
    assert "tags" in AuditEvent.objects.filter(action="person.updated").latest("pk").data["changed"]


def test_consent_is_recorded_from_the_card(owner_a, make_person, client_for):
    person = make_person("Mario", "Rossi")
    client = client_for(owner_a)
    assert 'data-testid="consent-form"' in client.get(f"/people/{person.pk}/").content.decode()
    response = client.post(
        f"/people/{person.pk}/consent/", {"channel": "sms", "granted": "0", "source": "Letter of 3 May"}
    )
    assert response.status_code == 302
    card = client.get(f"/people/{person.pk}/").content.decode()
    assert "Letter of 3 May" in card and "Consent recorded." in card
    consent = person.consents.get()
    assert (consent.channel, consent.granted) == ("sms", False)
    assert AuditEvent.objects.filter(action="consent.withdrawn", target_id=str(person.pk)).exists()
    client.post(f"/people/{person.pk}/consent/", {"channel": "sms", "granted": "1", "source": ""})
    assert person.consents.count() == 1  # refused: no source


def test_bulk_owner_change_needs_a_choice_and_nobody_clears_it(owner_a, make_person, client_for):
    person = make_person("Mario", "Rossi", owner=owner_a.user.pk)
    client = client_for(owner_a)
    placeholder = {"action": "set_owner", "ids": [person.pk], "owner": ""}
    page = client.post("/people/bulk/", placeholder, follow=True).content.decode()
    assert "Choose the new owner, or Nobody." in page
    person.refresh_from_db()
    assert person.owner_id == owner_a.user.pk
    assert (
        "Select the records first."
        in client.post("/people/bulk/", {"action": "tag", "tags": "VIP"}, follow=True).content.decode()
    )
    client.post("/people/bulk/", {**placeholder, "owner": "none"})
    person.refresh_from_db()
    assert person.owner_id is None


def test_custom_field_filters_have_inputs_of_their_type(owner_a, client_for, in_workspace):
    from clientela.contacts import services

    with in_workspace(owner_a.workspace):
        for label, kind in (("Newsletter", "boolean"), ("Since", "date"), ("Score", "number")):
            services.custom_field_create(workspace=owner_a.workspace, entity="person", label=label, type=kind)
    page = client_for(owner_a).get("/people/?custom.newsletter=yes").content.decode()
    assert '<select id="f-c-newsletter"' in page and '<option value="yes" selected>' in page
    assert 'type="date" name="custom.since"' in page and 'inputmode="decimal" name="custom.score"' in page
    bad = client_for(owner_a).get("/people/?custom.since=May", follow=True).content.decode()
    assert "Enter a date as YYYY-MM-DD." in bad
