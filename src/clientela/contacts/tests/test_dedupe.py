"""Finding likely duplicates: the warning while creating, and the pairs of the duplicates page."""

import pytest
from django.utils import timezone

from clientela.contacts import services
from clientela.contacts.dedupe import company_name_key, duplicate_pairs, duplicates_for_input, names_similar
from clientela.contacts.models import Company, Person
from clientela.core.tenancy import workspace_scope


@pytest.fixture
def make_company(owner_a):
    def make(name="Acme Srl", vat="", emails=(), phones=(), workspace=None):
        ws = workspace or owner_a.workspace
        with workspace_scope(ws):
            return services.company_create(
                workspace=ws,
                actor=None,
                attributes={"name": name, "vat_number": vat},
                contact=services.ContactPoints(emails=list(emails), phones=list(phones)),
            )

    return make


def reasons(candidate):
    return {(r.code, r.value) for r in candidate.reasons}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("Mario", "Rossi"), ("mario", "ROSSI")),
        (("Ágnes", "Szabó"), ("Agnes", "Szabo")),
        (("M.", "Rossi"), ("Mario", "Rossi")),
        (("Giu", "Verdi"), ("Giuseppe", "Verdi")),
        (("", "Rossi"), ("Mario", "Rossi")),
        (("Rossi", "Mario"), ("Mario", "Rossi")),
        (("Mario", "Rossi"), ("Mario", "Rosi")),
        (("Katalin", "Kovács"), ("Katalyn", "Kovacs")),
    ],
)
def test_similar_names(first, second):
    assert names_similar(first, second)
    assert names_similar(second, first)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("Mario", "Rossi"), ("Luigi", "Rossi")),
        (("Mario", "Rossi"), ("Mario", "Bianchi")),
        (("", ""), ("", "")),
        (("Ana", "Pop"), ("Ion", "Pop")),
    ],
)
def test_different_names(first, second):
    assert not names_similar(first, second)


def test_company_name_key_ignores_case_accents_punctuation_and_legal_form():
    assert company_name_key("ACME S.r.l.") == company_name_key("Acme srl") == "acme"
    assert company_name_key("Pékség Kft.") == "pekseg"
    assert company_name_key("SRL") == "srl"  # a name is never reduced to nothing


# --- the warning while creating -------------------------------------------------------------------


def test_a_new_person_matches_by_email_phone_and_similar_name_at_the_same_company(
    owner_a, make_person, make_company
):
    acme = make_company("Acme Srl")
    by_email = make_person("Anna", "Neri", emails=["anna@example.it"])
    by_phone = make_person("Bruno", "Blu", phones=["+39 02 3661 8300"])
    colleague = make_person("Mario", "Rossi", company=acme.pk)
    make_person("Mario", "Rossi")  # same name, no company: not enough on its own
    make_person("Luigi", "Rossi", company=acme.pk)  # same company and surname, another person

    found = duplicates_for_input(
        workspace=owner_a.workspace,
        entity="person",
        attributes={"first_name": "M.", "last_name": "Rossi", "company": acme.pk},
        emails=[" ANNA@example.it ", "not an email"],
        phones=["02 36618300", "12"],
    )

    assert {c.record.pk: reasons(c) for c in found} == {
        by_email.pk: {("email", "anna@example.it")},
        by_phone.pk: {("phone", "+390236618300")},
        colleague.pk: {("name", "Acme Srl")},
    }
    assert [c.record for c in found][:1] == [by_email]  # strongest evidence first
    labels = {r.label for c in found for r in c.reasons}
    assert labels == {"Same email anna@example.it", "Same phone +39 02 3661 8300", "Similar name at Acme Srl"}


def test_trashed_records_the_record_itself_and_other_workspaces_never_match(owner_a, owner_b, make_person):
    kept = make_person("Anna", "Neri", emails=["anna@example.it"])
    trashed = make_person("Anna", "Trash", emails=["anna@example.it"])
    Person.objects.filter(pk=trashed.pk).update(deleted_at=timezone.now())
    make_person("Anna", "Beta", emails=["anna@example.it"], workspace=owner_b.workspace)

    def check(**extra):
        return [
            c.record
            for c in duplicates_for_input(
                workspace=owner_a.workspace,
                entity="person",
                attributes={},
                emails=["anna@example.it"],
                **extra,
            )
        ]

    assert check() == [kept]
    assert check(exclude_id=kept.pk) == []


def test_a_new_company_matches_by_vat_with_or_without_prefix_and_by_name(owner_a, make_company):
    by_vat = make_company("Alpha Spa", vat="IT00743110157")
    by_name = make_company("ACME S.r.l.")
    make_company("Acme Foods Srl")

    found = duplicates_for_input(
        workspace=owner_a.workspace,
        entity="company",
        attributes={"name": "Acme srl"},
        vat="00743110157",
    )

    assert {c.record.pk: reasons(c) for c in found} == {
        by_vat.pk: {("vat", "IT00743110157")},
        by_name.pk: {("name", "")},
    }
    assert {r.label for c in found for r in c.reasons} == {"Same VAT number IT00743110157", "Same name"}


# --- the duplicates page's pairs ------------------------------------------------------------------


def test_pairs_combine_reasons_and_list_the_strongest_first(
    owner_a, make_person, make_company, django_assert_max_num_queries
):
    acme = make_company("Acme Srl")
    a = make_person("Anna", "Neri", emails=["anna@example.it"], phones=["02 3661 8300"])
    b = make_person("Anna", "Neri", emails=["ANNA@example.it"], phones=["+39 02 3661 8300"])
    c = make_person("Carla", "Gialli", phones=["+40 21 311 1111"])
    d = make_person("Carla", "Verdi", phones=["+40213111111"])
    e = make_person("Ágnes", "Szabó", company=acme.pk)
    f = make_person("Agnes", "Szabo", company=acme.pk)
    make_person("Zoltán", "Szabó", company=acme.pk)
    make_person("Ágnes", "Szabó")  # no company: names alone are not compared across the workspace

    with django_assert_max_num_queries(12):
        pairs = duplicate_pairs(workspace=owner_a.workspace, entity="person")

    assert [(p.first.pk, p.second.pk, {r.code for r in p.reasons}) for p in pairs] == [
        (a.pk, b.pk, {"email", "phone"}),
        (c.pk, d.pk, {"phone"}),
        (e.pk, f.pk, {"name"}),
    ]
    assert pairs[2].reasons[0].label == "Similar name at Acme Srl"


def test_pairs_ignore_trash_and_other_workspaces(owner_a, owner_b, make_person):
    a = make_person("Anna", "Neri", emails=["anna@example.it"])
    trashed = make_person("Anna", "Neri", emails=["anna@example.it"])
    make_person("Anna", "Neri", emails=["anna@example.it"], workspace=owner_b.workspace)
    Person.objects.filter(pk=trashed.pk).update(deleted_at=timezone.now())
    assert duplicate_pairs(workspace=owner_a.workspace, entity="person") == []

    b = make_person("Anna", "Nera", emails=["anna@example.it"])
    [pair] = duplicate_pairs(workspace=owner_a.workspace, entity="person")
    assert (pair.first, pair.second) == (a, b)


def test_company_pairs_by_vat_email_and_name(owner_a, make_company):
    a = make_company("Alpha Spa", vat="IT00743110157")
    b = make_company("Alpha Holding", vat="00743110157", emails=["info@alpha.it"])
    c = make_company("Beta Kft", emails=["info@alpha.it"])
    d = make_company("BETA KFT")

    pairs = duplicate_pairs(workspace=owner_a.workspace, entity="company")

    assert {(p.first.pk, p.second.pk): {r.code for r in p.reasons} for p in pairs} == {
        (a.pk, b.pk): {"vat"},
        (b.pk, c.pk): {"email"},
        (c.pk, d.pk): {"name"},
    }
    assert pairs[0].first == a  # VAT is the strongest evidence
    assert Company.objects.count() == 4


# --- pages ----------------------------------------------------------------------------------------


def test_duplicates_page_lists_pairs_with_reasons_and_a_merge_link(owner_a, client_for, make_person):
    a = make_person("Anna", "Neri", emails=["anna@example.it"])
    b = make_person("Anna", "Nera", emails=["anna@example.it"])

    response = client_for(owner_a).get("/duplicates/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Same email anna@example.it" in html
    assert f'href="/people/{a.pk}/merge/{b.pk}/"' in html
    assert "Compare & merge" in html

    empty = client_for(owner_a).get("/duplicates/?entity=company").content.decode()
    assert "No likely duplicate companies" in empty


def test_duplicates_check_renders_the_warning_partial_or_nothing(owner_a, client_for, make_person):
    anna = make_person("Anna", "Neri", emails=["anna@example.it"])
    client = client_for(owner_a)

    response = client.get(
        "/duplicates/check/",
        {"first_name": "Anna", "emails": "x@y.it, ANNA@example.it"},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert 'data-testid="duplicate-warning"' in html
    assert f'href="/people/{anna.pk}/"' in html
    assert "Same email anna@example.it" in html
    assert "<html" not in html
    assert client.get("/duplicates/check/", {"emails": "nobody@example.it"}).content.decode().strip() == ""


def test_duplicates_pages_need_edit_rights(owner_a, member_factory, client_for):
    read_only = member_factory(owner_a.workspace, "read_only")
    assert client_for(read_only).get("/duplicates/").status_code == 403
    assert client_for(member_factory(owner_a.workspace, "sales")).get("/duplicates/").status_code == 200
