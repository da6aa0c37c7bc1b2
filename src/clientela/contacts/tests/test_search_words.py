"""PostgreSQL's word-prefix search: the name words tables kept by triggers (migration 0004), and search
through them."""

import pytest
from django.db import connection

from clientela.contacts import selectors, services
from clientela.contacts.models import Company, Person
from clientela.contacts.privacy import person_erase
from clientela.contacts.selectors import ListQuery

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the words tables are PostgreSQL's")


def words(record):
    table = f"{record._meta.db_table}_words"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT workspace_id, word FROM {table} WHERE record_id = %s", [record.pk])  # noqa: S608
        rows = cursor.fetchall()
    assert {workspace for workspace, _word in rows} <= {record.workspace_id}
    return sorted(word for _workspace, word in rows)


def search(owner, q, entity="person"):
    page = selectors.customer_list(
        workspace=owner.workspace, user=owner.user, query=ListQuery(entity=entity, q=q)
    )
    return [str(record) for record in page.items]


def test_every_write_keeps_the_name_words(owner_a, make_person):
    person = make_person(
        "Erzsébet", "Szabó-Ștefănescu", emails=["e.szabo@example.hu"], job_title="Chief buyer"
    )
    assert words(person) == ["erzsebet", "stefanescu", "szabo"]  # the name only: no title, no email

    services.person_update(person=person, actor=owner_a.user, attributes={"last_name": "D'Angelo"})
    assert words(person) == ["angelo", "d", "erzsebet"]

    Person.objects.filter(pk=person.pk).update(first_name="Éva", search_text="eva d angelo")  # a bulk update
    assert words(person) == ["angelo", "d", "eva"]

    erased = make_person("Anna", "Neri")
    person_erase(workspace=owner_a.workspace, actor=owner_a.user, person=erased)
    assert words(erased) == []

    Person.all_workspaces.filter(pk=person.pk).delete()
    assert words(person) == []


def test_company_words_are_its_name_and_legal_name(owner_a):
    company = services.company_create(
        workspace=owner_a.workspace,
        actor=None,
        attributes={"name": "Acme Impianti", "legal_name": "Acme S.p.A.", "vat_number": "IT00743110157"},
    )
    assert words(company) == ["a", "acme", "impianti", "p", "s"]
    assert search(owner_a, "impia", entity="company") == ["Acme Impianti"]
    Company.objects.filter(pk=company.pk).delete()
    assert words(company) == []


def test_search_goes_from_word_starts_to_fragments_to_typos(owner_a, make_person):
    make_person("Mario", "Rossi", job_title="Buyer")
    make_person("Anna", "Rossini")
    make_person("Ana", "Ștefănescu")
    assert sorted(search(owner_a, "ross")) == ["Anna Rossini", "Mario Rossi"]  # a word starts with it
    assert search(owner_a, "ross mar") == ["Mario Rossi"]  # and every other word occurs
    assert search(owner_a, "tefan") == ["Ana Ștefănescu"]  # inside a word: the trigram pass
    assert search(owner_a, "buye") == ["Mario Rossi"]  # the title is not a name word: the trigram pass
    assert search(owner_a, "Rosi")[0] == "Mario Rossi"  # a typo
    assert search(owner_a, "r_s%") == []  # LIKE's wildcards are plain characters


def test_words_of_another_workspace_are_never_candidates(owner_a, owner_b, make_person):
    make_person("Mario", "Rossi", workspace=owner_b.workspace)
    assert search(owner_a, "rossi") == []
