"""Lists, search and cards: what a manager sees, and that it stays cheap."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from clientela.contacts import selectors, services
from clientela.contacts.models import Address, Company, Email, Person, PersonTag, Phone, Tag
from clientela.contacts.selectors import ListQuery
from clientela.core.errors import ValidationFailed
from clientela.core.tenancy import workspace_scope
from clientela.timeline.models import Interaction


def names(page):
    return [str(r) for r in page.items]


@pytest.fixture
def people(owner_a, make_person, in_workspace):
    with in_workspace(owner_a.workspace):
        acme = services.company_create(
            workspace=owner_a.workspace,
            actor=None,
            attributes={"name": "Acme Impianti", "vat_number": "IT00743110157"},
        )
    return [
        make_person(
            "Mario", "Rossi", emails=["mario.rossi@example.it"], phones=["+39 02 3661 8300"], company=acme.pk
        ),
        make_person("Zoltán", "Szabó", emails=["zoli@example.hu"], phones=["+36 1 234 5678"]),
        make_person("Ana", "Ștefănescu", emails=["ana@example.ro"]),
        make_person("Anna", "Rossini", lifecycle_stage="customer"),
    ]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("szabo", ["Zoltán Szabó"]),
        ("SZABÓ zol", ["Zoltán Szabó"]),
        ("stefanescu", ["Ana Ștefănescu"]),
        ("ross", ["Mario Rossi", "Anna Rossini"]),
        ("+39 02 3661 8300", ["Mario Rossi"]),
        ("0236618300", ["Mario Rossi"]),
        ("02-36618300", ["Mario Rossi"]),
        ("mario.rossi@example.it", ["Mario Rossi"]),
        ("acme", ["Mario Rossi"]),
        ("nobody-like-this", []),
    ],
)
def test_search_finds_people_by_any_part_of_name_phone_email_and_company(owner_a, people, q, expected):
    page = selectors.customer_list(
        workspace=owner_a.workspace, user=owner_a.user, query=ListQuery(entity="person", q=q)
    )
    assert sorted(names(page)) == sorted(expected)


def test_search_finds_companies_by_vat_with_or_without_prefix(owner_a, people):
    for q in ("00743110157", "IT00743110157", "impianti"):
        page = selectors.customer_list(
            workspace=owner_a.workspace, user=owner_a.user, query=ListQuery(entity="company", q=q)
        )
        assert names(page) == ["Acme Impianti"], q


def test_search_never_crosses_workspaces(owner_a, owner_b, people, make_person):
    make_person("Mario", "Rossi", workspace=owner_b.workspace)
    with workspace_scope(owner_b.workspace):
        page = selectors.customer_list(
            workspace=owner_b.workspace, user=owner_b.user, query=ListQuery(entity="person", q="rossi")
        )
    assert len(page.items) == 1 and page.items[0].workspace_id == owner_b.workspace_id


def test_keyset_pages_walk_every_row_once_in_order(owner_a, make_person):
    for i in range(7):
        make_person(f"P{i}", "Same")  # equal last names: the id breaks ties
    seen, cursor = [], ""
    while True:
        page = selectors.customer_list(
            workspace=owner_a.workspace,
            user=owner_a.user,
            query=ListQuery(entity="person", sort="-name", page_size=3, cursor=cursor),
        )
        seen += names(page)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == [f"P{i} Same" for i in reversed(range(7))]


def test_filters_by_stage_tag_owner_and_custom_field(owner_a, people, in_workspace):
    ws = owner_a.workspace
    with in_workspace(ws):
        services.custom_field_create(
            workspace=ws, entity="person", label="Tier", type="choice", choices=["Gold"]
        )
        services.person_update(
            person=people[0], actor=None, attributes={"owner": owner_a.user.pk}, custom={"tier": "Gold"}
        )
        services.tag_assign(workspace=ws, records=[people[1]], names=["VIP"])

    def run(**params):
        query = ListQuery.parse("person", params)
        return names(selectors.customer_list(workspace=ws, user=owner_a.user, query=query))

    assert run(lifecycle_stage="customer") == ["Anna Rossini"]
    assert run(tag="vip") == ["Zoltán Szabó"]
    assert run(owner="me") == ["Mario Rossi"]
    assert run(**{"custom.tier": "Gold"}) == ["Mario Rossi"]


def test_custom_field_filters_follow_each_fields_type(owner_a, people, in_workspace):
    ws = owner_a.workspace
    mario, zoltan = people[0], people[1]
    fields = [
        ("Code", "text", []),
        ("Score", "number", []),
        ("Budget", "money", []),
        ("Since", "date", []),
        ("Interests", "multiple_choice", ["Wine", "Vinó", "Sport"]),
        ("Newsletter", "boolean", []),
    ]
    with in_workspace(ws):
        for label, kind, choices in fields:
            services.custom_field_create(
                workspace=ws, entity="person", label=label, type=kind, choices=choices
            )
        services.person_update(
            person=mario,
            actor=None,
            attributes={},
            custom={
                "code": "L-001",
                "score": "12.50",
                "budget": "1000",
                "since": "2024-05-01",
                "interests": ["Wine", "Vinó"],
                "newsletter": True,
            },
        )
        services.person_update(
            person=zoltan, actor=None, attributes={}, custom={"interests": ["Sport"], "newsletter": False}
        )

    def run(key, value):
        query = ListQuery.parse("person", {f"custom.{key}": value})
        return names(selectors.customer_list(workspace=ws, user=owner_a.user, query=query))

    assert run("code", "l-001") == run("code", "001") == ["Mario Rossi"]  # any letter case, any part
    assert run("score", "12.5") == run("score", "12,50") == ["Mario Rossi"]  # the number, however written
    assert run("score", "12") == []
    assert run("budget", "1000.00") == ["Mario Rossi"]
    assert run("since", "2024-05-01") == ["Mario Rossi"]
    assert run("interests", "Wine") == run("interests", "Vinó") == ["Mario Rossi"]
    assert run("interests", "Sport") == ["Zoltán Szabó"]
    assert run("newsletter", "yes") == run("newsletter", "true") == ["Mario Rossi"]
    assert run("newsletter", "no") == ["Zoltán Szabó"]
    for key, bad in (("score", "lots"), ("since", "May"), ("newsletter", "maybe"), ("bogus", "x")):
        with pytest.raises(ValidationFailed) as exc:
            run(key, bad)
        assert f"custom.{key}" in exc.value.fields


def test_bad_list_parameters_are_clear_errors():
    from clientela.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        ListQuery.parse("person", {"sort": "shoe", "created_from": "yesterday", "page_size": "x"})
    assert set(exc.value.fields) == {"sort", "created_from", "page_size"}


def test_card_and_timeline_cost_the_same_with_10_or_2000_interactions(owner_a, make_person, in_workspace):
    ws = owner_a.workspace

    def card_queries(person):
        with CaptureQueriesContext(connection) as ctx:
            card = selectors.person_get(workspace=ws, person_id=person.pk)
            list(card.emails.all()), list(card.tags.all())
            page = selectors.timeline(workspace=ws, record=card)
        return len(ctx.captured_queries), len(page.items), page.next_cursor

    small, big = make_person("Small", "Card"), make_person("Big", "Card")
    with in_workspace(ws):
        Interaction.objects.bulk_create(
            [
                Interaction(
                    workspace=ws, person=big, kind="note", subject=f"n{i}", occurred_at=big.created_at
                )
                for i in range(2000)
            ]
        )
    small_queries, small_rows, _ = card_queries(small)
    big_queries, big_rows, cursor = card_queries(big)
    assert small_queries == big_queries <= 8
    assert (small_rows, big_rows) == (1, 25) and cursor


def test_rows_are_the_api_shape_of_the_records(owner_a, people, make_person, in_workspace, member_factory):
    """``customer_rows`` (lists, API) gives what the schemas make of ``customer_list``'s records."""
    from clientela.contacts.schemas import CompanyOut, PersonOut

    ws = owner_a.workspace
    nameless_owner = member_factory(ws, email="no.name@example.it").user
    nameless_owner.full_name = ""
    nameless_owner.save()
    with in_workspace(ws):
        services.person_update(person=people[0], actor=None, attributes={"owner": owner_a.user.pk})
        services.person_update(person=people[1], actor=None, attributes={"owner": nameless_owner.pk})
        services.tag_assign(workspace=ws, records=[people[0]], names=["VIP", "Alpha"])
        services.tag_assign(workspace=ws, records=[people[0].company], names=["Key"])
        services.company_update(
            company=people[0].company,
            actor=None,
            attributes={},
            contact=services.ContactPoints(emails=["a@acme.it"]),
        )
    nameless = make_person(
        "No", "Name", emails=["b@x.it", "a@x.it"], phones=["+36 1 234 5678", "+39 02 3661 8300"]
    )
    Person.objects.filter(pk=nameless.pk).update(first_name="", last_name="")  # as an import may leave it
    for entity, schema in (("person", PersonOut), ("company", CompanyOut)):
        for params in ({"sort": "-created"}, {"q": "ross"}, {"q": "a@x.it"}):
            query = ListQuery.parse(entity, params)
            records = selectors.customer_list(workspace=ws, user=owner_a.user, query=query)
            rows = selectors.customer_rows(workspace=ws, user=owner_a.user, query=query)
            expected = [schema.model_validate(r).model_dump() for r in records.items]
            assert rows.items == expected, (entity, params)
            # Key for key, in order: the API sends the rows without validating them again.
            assert [list(row) for row in rows.items] == [list(dump) for dump in expected]
            assert [schema.model_validate(row).model_dump() for row in rows.items] == rows.items
            assert rows.next_cursor == records.next_cursor


def test_rows_cost_one_query_whatever_they_hold(owner_a, make_person, in_workspace):
    ws = owner_a.workspace
    for i in range(30):
        person = make_person(
            f"P{i}", "Rossi", emails=[f"p{i}@x.it", f"q{i}@x.it"], phones=["+39 02 3661 8300"]
        )
        with in_workspace(ws):
            services.tag_assign(workspace=ws, records=[person], names=["VIP", f"T{i}"])
    with CaptureQueriesContext(connection) as ctx:
        page = selectors.customer_rows(
            workspace=ws, user=owner_a.user, query=ListQuery(entity="person", page_size=25)
        )
    assert len(page.items) == 25 and page.next_cursor
    assert page.items[0]["tags"] == ["T0", "VIP"] and len(page.items[0]["emails"]) == 2
    assert len(ctx.captured_queries) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("queryset", "index"),
    [
        (lambda: Email.all_workspaces.filter(person_id=1), "email_person"),
        (lambda: Phone.all_workspaces.filter(company_id__in=[1, 2]), "phone_company"),
        (lambda: Address.all_workspaces.filter(person_id__in=[1, 2]), "address_person"),
        (lambda: Person.all_workspaces.filter(company_id=1), "person_company"),
        (lambda: Person.all_workspaces.filter(owner_id=1), "person_owner"),
        (lambda: Company.all_workspaces.filter(import_batch_id=1), "company_import"),
    ],
)
def test_keys_most_rows_leave_empty_are_found_through_their_partial_indexes(queryset, index):
    """The index of such a key holds only the rows that have it; a lookup by the key still uses it."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # empty tables: a scan would cost nothing
        assert index in queryset().explain()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the two-column keys are PostgreSQL's")
@pytest.mark.parametrize("model", [Email, Phone, Address, PersonTag])
def test_the_database_refuses_a_row_of_one_workspace_on_a_person_of_another(
    owner_a, owner_b, make_person, model
):
    """Contact points and tag links check their owner with their workspace, by a key of two columns."""
    theirs = make_person("Bea", "Other", workspace=owner_b.workspace)
    mine = make_person("Anna", "Mine")
    values = {
        Email: {"email": "bea@example.it"},
        Phone: {"e164": "+393331234567", "raw": "333 123 4567"},
        Address: {"city": "Roma"},
        PersonTag: {"tag": Tag.objects.create(workspace=owner_a.workspace, name="VIP")},
    }[model]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # checked now, not at the commit
        model.all_workspaces.create(workspace=owner_a.workspace, person=mine, **values)  # the same: fine
        with pytest.raises(IntegrityError, match="in_workspace"), transaction.atomic():
            model.all_workspaces.create(workspace=owner_a.workspace, person=theirs, **values)
