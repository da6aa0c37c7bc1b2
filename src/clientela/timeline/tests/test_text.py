"""The system's own words on a timeline are shown in the reader's language; the columns keep English."""

from decimal import Decimal

import pytest
from django.utils import translation
from django.utils.translation import gettext_noop

from clientela.contacts.services import person_create
from clientela.core.tenancy import workspace_scope
from clientela.timeline.services import interaction_record
from clientela.timeline.text import Money, SystemText


@pytest.fixture
def anna(owner_a):
    with workspace_scope(owner_a.workspace):  # its timeline starts with the system's "Created"
        return person_create(
            workspace=owner_a.workspace, actor=None, attributes={"first_name": "Anna", "last_name": "Neri"}
        )


def test_a_system_text_is_stored_in_english_and_shown_in_the_readers_language(owner_a, anna):
    person = anna
    with workspace_scope(owner_a.workspace), translation.override("it"):  # written by an Italian user
        invoice = interaction_record(
            workspace=owner_a.workspace,
            kind="order",
            person=person,
            subject=SystemText(
                gettext_noop("Invoice %(number)s: %(total)s"),
                {"number": "INV-00012", "total": Money(Decimal("1234.5"), "EUR")},
            ),
            body=[
                SystemText(
                    gettext_noop("%(name)s became %(stage)s."),
                    {"name": "Anna Neri", "stage": SystemText("Customer", lower=True)},
                )
            ],
        )
    invoice.refresh_from_db()
    assert invoice.subject == "Invoice INV-00012: €1,234.50"
    assert invoice.body == "Anna Neri became customer."
    with translation.override("it"):
        assert invoice.shown_subject == "Fattura INV-00012: 1.234,50\xa0€"
        assert invoice.shown_body == "Anna Neri ora è nella fase cliente."
    with translation.override("hu"):
        assert invoice.shown_subject.startswith("INV-00012 számla: 1\xa0234,50")
        assert str(invoice).endswith(invoice.shown_subject)


def test_what_a_person_typed_is_shown_as_typed(owner_a, anna):
    person = anna
    with workspace_scope(owner_a.workspace):
        note = interaction_record(workspace=owner_a.workspace, kind="note", person=person, subject="Created")
    with translation.override("hu"):
        assert note.shown_subject == "Created"  # a person's words are never translated


def test_the_card_and_the_api_show_the_timeline_in_the_readers_language(owner_a, client_for, api_for, anna):
    person = anna
    page = client_for(owner_a).get(f"/people/{person.pk}/", HTTP_ACCEPT_LANGUAGE="hu")
    assert "Létrehozva" in page.content.decode()
    timeline = api_for(owner_a).get(f"/api/v1/people/{person.pk}/timeline", HTTP_ACCEPT_LANGUAGE="ro").json()
    assert timeline["results"][-1]["subject"] == "Creat"
