"""The pages: board with its htmx partials and drops, list, deal page, forms, qualify, forecast,
pipeline settings, and the panel on the customer's card."""

from clientela.contacts.models import Person
from clientela.sales.models import Deal, Stage
from clientela.workspaces.roles import Role

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_board_shows_columns_with_totals_and_cards(owner_a, client_for, make_deal, make_person, stage):
    make_deal("Solar roof", person=make_person("Ana", "Pop"), amount="1200")
    page = client_for(owner_a).get("/deals/").content.decode()
    for name in ("Qualified", "Contact made", "Proposal sent", "Negotiation", "Won", "Lost"):
        assert f'aria-label="{name}"' in page
    assert "Solar roof" in page and "Ana Pop" in page and "€1,200.00" in page and "€120.00" in page
    assert "vendor/Sortable.min.js" in page and "sales/board.js" in page


def test_the_board_page_query_count_is_pinned(
    owner_a, client_for, make_deal, make_person, stage, django_assert_max_num_queries
):
    """Session, user with their workspaces; pipeline, stages, open and closed totals, one query per
    column with cards; the pipelines, owners and tags of the filters. Cards escape what people typed."""
    person = make_person("Ana", "<Pop>")
    for i in range(30):
        make_deal(f"Deal <{i}>", person=person, stage=stage["Negotiation" if i % 2 else "Qualified"])
    client = client_for(owner_a)
    client.get("/deals/")
    with django_assert_max_num_queries(11):
        page = client.get("/deals/").content.decode()
    assert page.count('data-testid="deal-card"') == 30 and "Deal &lt;7&gt;" in page and "<Pop>" not in page
    assert "Ana &lt;Pop&gt;" in page


def test_an_empty_pipeline_invites_to_add_the_first_deal(owner_a, client_for):
    page = client_for(owner_a).get("/deals/").content.decode()
    assert 'data-testid="empty-board"' in page and "Add the first one" in page


def test_board_filters_answer_with_the_board_only(owner_a, client_for, make_deal, make_person):
    make_deal("Vip deal", person=make_person("Vera", "Vip", tags=["VIP"]))
    make_deal("Plain deal")
    partial = client_for(owner_a).get("/deals/?tag=VIP", HTTP_HX_TARGET="board", **HTMX).content.decode()
    assert "Vip deal" in partial and "Plain deal" not in partial and "<html" not in partial


def test_more_loads_the_next_cards_of_a_column(owner_a, client_for, make_deal, stage):
    for i in range(25):
        make_deal(f"Deal {i:02}")
    client = client_for(owner_a)
    page = client.get("/deals/").content.decode()
    assert page.count('data-testid="deal-card"') == 20 and 'data-testid="column-more"' in page
    more_url = page.split('data-testid="column-more"')[0].rsplit('hx-get="', 1)[1].split('"')[0]
    more = client.get(more_url.replace("&amp;", "&"), **HTMX).content.decode()
    assert more.count('data-testid="deal-card"') == 5 and 'hx-swap-oob="true"' in more
    assert "Deal 00" in more and 'data-testid="column-more"' not in more


def test_a_drop_moves_the_deal_and_refreshes_the_totals(owner_a, client_for, make_deal, make_person, stage):
    deal = make_deal("Boiler", person=make_person(), amount="1000")
    response = client_for(owner_a).post(
        f"/deals/{deal.pk}/move/", {"stage": stage["Negotiation"].pk, "version": 1, "after": ""}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="column-head-{stage["Negotiation"].pk}"' in html and "€750.00" in html
    assert f'id="deal-{deal.pk}"' in html and 'data-version="2"' in html
    assert Deal.objects.get(pk=deal.pk).stage == stage["Negotiation"]


def test_a_refused_drop_answers_with_the_reason(owner_a, client_for, make_deal, stage):
    deal = make_deal("No customer", amount="0")
    client = client_for(owner_a)
    refused = client.post(f"/deals/{deal.pk}/move/", {"stage": stage["Won"].pk, "version": 1}, **HTMX)
    assert refused.status_code == 422
    assert (
        "cannot move to Won" in refused.content.decode() and "amount above zero" in refused.content.decode()
    )
    stale = client.post(f"/deals/{deal.pk}/move/", {"stage": stage["Negotiation"].pk, "version": 9}, **HTMX)
    assert stale.status_code == 409 and "changed by someone else" in stale.content.decode()
    assert Deal.objects.get(pk=deal.pk).version == 1


def test_the_move_form_on_the_deal_page_redirects_with_a_message(owner_a, client_for, make_deal, stage):
    deal = make_deal("Windows")
    client = client_for(owner_a)
    response = client.post(f"/deals/{deal.pk}/move/", {"stage": stage["Lost"].pk, "version": 1})
    assert response["Location"] == f"/deals/{deal.pk}/"
    assert "Give the reason" in client.get(response["Location"]).content.decode()
    client.post(f"/deals/{deal.pk}/move/", {"stage": stage["Lost"].pk, "version": 1, "lost_reason": "Price"})
    assert Deal.objects.get(pk=deal.pk).lost_reason == "Price"


def test_the_deal_page_shows_details_history_and_timeline(owner_a, client_for, make_deal, make_person, stage):
    deal = make_deal("Heat pump", person=make_person("Mario", "Rossi"), amount="8000")
    client = client_for(owner_a)
    client.post(f"/deals/{deal.pk}/move/", {"stage": stage["Proposal sent"].pk, "version": 1})
    page = client.get(f"/deals/{deal.pk}/").content.decode()
    assert 'data-testid="stage-history"' in page and "Mario Rossi" in page and "€8,000.00" in page
    assert "Deal “Heat pump” moved to Proposal sent" in page and "weighted €4,000.00" in page
    assert page.count("<tr") >= 3  # header + two stays


def test_create_a_deal_with_the_form(owner_a, client_for, make_person, stage):
    person = make_person("Ana", "Pop")
    client = client_for(owner_a)
    form = client.get(f"/deals/new/?person={person.pk}").content.decode()
    assert f'<option value="{person.pk}" selected>Ana Pop</option>' in form
    assert f'<option value="{owner_a.user.pk}" selected>' in form  # the creator owns it unless changed
    bad = client.post("/deals/new/", {"title": "", "stage": stage["Qualified"].pk, "currency": "EUR"})
    assert bad.status_code == 422 and "This field is required" in bad.content.decode()
    refused = client.post(
        "/deals/new/",
        {
            "title": "Direct win",
            "stage": stage["Won"].pk,
            "currency": "EUR",
            "person": person.pk,
            "amount": "",
        },
    )
    assert refused.status_code == 422 and "A won deal needs an amount above zero." in refused.content.decode()
    response = client.post(
        "/deals/new/",
        {
            "title": "Solar roof",
            "stage": stage["Proposal sent"].pk,
            "person": person.pk,
            "amount": "12000",
            "currency": "EUR",
            "expected_close": "2027-05-01",
            "owner": owner_a.user.pk,
        },
    )
    deal = Deal.objects.get(title="Solar roof")
    assert response["Location"] == f"/deals/{deal.pk}/" and deal.stage == stage["Proposal sent"]
    assert deal.owner == owner_a.user


def test_editing_uses_the_version_it_was_opened_with(owner_a, client_for, make_deal):
    deal = make_deal("Fence", amount="100")
    client = client_for(owner_a)
    assert 'name="version" value="1"' in client.get(f"/deals/{deal.pk}/edit/").content.decode()
    data = {"title": "Fence and gate", "currency": "EUR", "amount": "150", "version": 1}
    assert client.post(f"/deals/{deal.pk}/edit/", data).status_code == 302
    stale = client.post(f"/deals/{deal.pk}/edit/", {**data, "title": "Lost update"})
    assert stale.status_code == 422 and "changed by someone else" in stale.content.decode()
    assert Deal.objects.get(pk=deal.pk).title == "Fence and gate"


def test_the_person_card_offers_to_qualify_a_lead(owner_a, client_for, make_person):
    lead = make_person("Lena", "Lead", source_channel="web form")
    client = client_for(owner_a)
    card = client.get(f"/people/{lead.pk}/").content.decode()
    assert 'data-testid="deals-panel"' in card and f"/deals/qualify/person/{lead.pk}/" in card
    form = client.get(f"/deals/qualify/person/{lead.pk}/").content.decode()
    assert 'value="Lena Lead"' in form
    response = client.post(
        f"/deals/qualify/person/{lead.pk}/", {"title": "Lena's kitchen", "currency": "EUR", "amount": "3000"}
    )
    deal = Deal.objects.get(title="Lena's kitchen")
    assert response["Location"] == f"/deals/{deal.pk}/" and deal.source == "web form"
    assert Person.objects.get(pk=lead.pk).lifecycle_stage == "opportunity"
    card = client.get(f"/people/{lead.pk}/").content.decode()
    assert "Lena&#x27;s kitchen" in card and 'data-testid="new-deal"' in card


def test_roles_without_sales_see_no_panel(owner_a, member_factory, client_for, make_person):
    person = make_person()
    support = client_for(member_factory(owner_a.workspace, Role.SUPPORT))
    assert 'data-testid="deals-panel"' in support.get(f"/people/{person.pk}/").content.decode()
    reader = client_for(member_factory(owner_a.workspace, Role.READ_ONLY))
    card = reader.get(f"/people/{person.pk}/").content.decode()
    assert 'data-testid="qualify"' not in card


def test_a_salesperson_cannot_open_someone_elses_deal(owner_a, member_factory, client_for, make_deal):
    theirs = make_deal("Not yours")
    seller = client_for(member_factory(owner_a.workspace, Role.SALES))
    assert seller.get(f"/deals/{theirs.pk}/").status_code == 404
    assert (
        seller.post(f"/deals/{theirs.pk}/move/", {"stage": theirs.stage_id, "version": 1}).status_code == 404
    )
    assert "Not yours" not in seller.get("/deals/").content.decode()


def test_the_list_view_filters_and_pages(owner_a, client_for, make_deal, stage):
    for i in range(55):
        make_deal(f"Deal {i:02}", stage=stage["Negotiation"] if i == 0 else None)
    client = client_for(owner_a)
    page = client.get("/deals/list/").content.decode()
    assert page.count("<tr>") == 50 + 1 and 'data-testid="load-more"' in page
    partial = client.get(
        f"/deals/list/?stage={stage['Negotiation'].pk}", HTTP_HX_TARGET="deal-results", **HTMX
    ).content.decode()
    assert "Deal 00" in partial and "Deal 01" not in partial and "<html" not in partial
    assert "Enter a date" in client.get("/deals/list/?close_from=soon", follow=True).content.decode()


def test_the_forecast_page_has_tables_and_chart_data(owner_a, client_for, make_deal, stage):
    import datetime as dt

    from django.utils import timezone

    close = (timezone.localdate().replace(day=1) + dt.timedelta(days=40)).isoformat()
    make_deal("Big one", amount="10000", stage=stage["Negotiation"], expected_close=close)
    page = client_for(owner_a).get("/forecast/").content.decode()
    assert 'data-testid="forecast-months"' in page and "€7,500.00" in page
    assert 'id="forecast-data"' in page and "vendor/chart.umd.min.js" in page
    empty = client_for(owner_a).get("/forecast/?months=3&owner=none").content.decode()
    assert 'data-testid="empty-forecast"' in empty


def test_admins_manage_stages_on_the_settings_page(
    owner_a, member_factory, client_for, pipeline, stage, make_deal
):
    client = client_for(owner_a)
    page = client.get("/settings/pipelines/").content.decode()
    assert "New business" in page and 'data-testid="stages-table"' in page
    client.post(
        f"/settings/pipelines/{pipeline.pk}/stages/", {"name": "Demo", "probability": "30", "kind": "open"}
    )
    assert Stage.objects.filter(pipeline=pipeline, name="Demo").exists()
    make_deal("Stuck")
    response = client.post(f"/settings/stages/{stage['Qualified'].pk}/retire/", follow=True)
    assert "choose a stage to move them to" in response.content.decode()
    client.post(f"/settings/stages/{stage['Qualified'].pk}/retire/", {"move_to": stage["Contact made"].pk})
    assert Stage.objects.get(pk=stage["Qualified"].pk).retired_at is not None
    assert Deal.objects.get(title="Stuck").stage == stage["Contact made"]
    manager = client_for(member_factory(owner_a.workspace, Role.MANAGER))
    assert manager.get("/settings/pipelines/").status_code == 200
    assert manager.post("/settings/pipelines/new/", {"name": "Mine"}).status_code == 403


def test_a_drop_within_a_column_puts_the_card_under_its_new_neighbour(owner_a, client_for, make_deal, stage):
    a, b, c = (make_deal(t) for t in "ABC")  # column order: C, B, A
    client_for(owner_a).post(
        f"/deals/{c.pk}/move/", {"stage": stage["Qualified"].pk, "version": 1, "after": a.pk}, **HTMX
    )
    client_for(owner_a).post(
        f"/deals/{a.pk}/move/", {"stage": stage["Qualified"].pk, "version": 1, "after": ""}, **HTMX
    )
    order = Deal.objects.filter(stage=stage["Qualified"]).order_by("position", "id")
    assert [d.title for d in order] == ["A", "B", "C"] and b.pk


def test_the_customer_pickers_search_people_and_companies(owner_a, client_for, make_person, make_company):
    make_person("Ana", "Pop")
    make_company("Acme Impianti")
    client = client_for(owner_a)
    people = client.get("/deals/customers/?entity=person&q=pop", **HTMX).content.decode()
    assert "Ana Pop" in people and "selected" in people
    companies = client.get("/deals/customers/?entity=company&q=acme", **HTMX).content.decode()
    assert "Acme Impianti" in companies
    assert "Nobody found" in client.get("/deals/customers/?entity=person&q=zzzz", **HTMX).content.decode()


def test_a_salesperson_owns_what_they_create_and_sees_no_owner_filter(
    owner_a, member_factory, client_for, stage
):
    seller = member_factory(owner_a.workspace, Role.SALES)
    client = client_for(seller)
    form = client.get("/deals/new/").content.decode()
    assert 'name="owner"' not in form
    client.post("/deals/new/", {"title": "My lead", "stage": stage["Qualified"].pk, "currency": "EUR"})
    assert Deal.objects.get(title="My lead").owner == seller.user
    assert 'id="f-owner"' not in client.get("/deals/").content.decode()
