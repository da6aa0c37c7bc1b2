"""Merging duplicates: picked values survive, all history moves, the other record goes (given/when/then)."""

import pytest
from django.utils import timezone

from clientela.contacts import services
from clientela.contacts.merge import company_merge, merge_rows, person_merge, related_counts
from clientela.contacts.models import Address, Company, Consent, Email, Person, PersonTag, Phone
from clientela.core.errors import NotFound, ValidationFailed
from clientela.core.models import AuditEvent
from clientela.core.tenancy import workspace_scope
from clientela.timeline.models import Interaction
from clientela.timeline.services import interaction_record


@pytest.fixture
def make_company(owner_a):
    def make(name="Acme Srl", workspace=None, emails=(), **attributes):
        ws = workspace or owner_a.workspace
        with workspace_scope(ws):
            return services.company_create(
                workspace=ws,
                actor=None,
                attributes={"name": name, **attributes},
                contact=services.ContactPoints(emails=list(emails)),
            )

    return make


@pytest.fixture
def pair(owner_a, make_person, make_company):
    """Two records of Anna Neri, each with their own history, one shared email and one shared tag."""
    ws = owner_a.workspace
    acme = make_company("Acme Srl")
    survivor = make_person(
        "Anna",
        "Neri",
        emails=["anna@example.it", "anna.neri@acme.it"],
        phones=["02 3661 8300"],
        company=acme.pk,
        job_title="",
        notes="Met at the fair",
    )
    other = make_person(
        "Anna Maria",
        "Neri",
        emails=["ANNA@example.it", "anna@home.it"],
        phones=["+40 21 311 1111"],
        job_title="Buyer",
        gender="female",
        notes="Prefers mornings",
    )
    with workspace_scope(ws):
        services.person_update(
            person=other,
            actor=None,
            attributes={},
            contact=services.ContactPoints(addresses=[services.AddressInput(city="Milano", country="it")]),
        )
        services.tag_assign(workspace=ws, records=[survivor, other], names=["VIP"])
        services.tag_assign(workspace=ws, records=[other], names=["Newsletter"])
        services.consent_record(person=other, channel="email", granted=True, source="web form")
        interaction_record(workspace=ws, kind="call", person=other, subject="Asked for a quote")
        interaction_record(workspace=ws, kind="note", person=survivor, subject="Called back")
    return survivor, other


def test_merge_keeps_picked_values_and_moves_all_history(owner_a, pair):
    survivor, other = pair
    other_id = other.pk

    merged = person_merge(
        workspace=owner_a.workspace,
        actor=owner_a.user,
        survivor=survivor,
        other=other,
        choices={"first_name": "other", "notes": "survivor", "gender": "survivor"},
    )

    # picked values, and the defaults: the survivor's value unless it is empty
    merged.refresh_from_db()
    assert (merged.first_name, merged.last_name, merged.notes) == ("Anna Maria", "Neri", "Met at the fair")
    assert merged.job_title == "Buyer"  # survivor's was empty
    assert merged.gender == ""  # explicitly kept the survivor's (empty) value
    assert merged.company.name == "Acme Srl"
    # contact points: the union, without repeating the shared email; the survivor's primary stays primary
    emails = Email.objects.filter(person=merged).order_by("-is_primary", "email")
    assert [(e.email, e.is_primary) for e in emails] == [
        ("anna@example.it", True),
        ("anna.neri@acme.it", False),
        ("anna@home.it", False),
    ]
    assert set(Phone.objects.filter(person=merged).values_list("e164", flat=True)) == {
        "+390236618300",
        "+40213111111",
    }
    assert Address.objects.get(person=merged).city == "Milano"
    # tags (the shared one once), consents and the whole timeline
    assert sorted(PersonTag.objects.filter(person=merged).values_list("tag__name", flat=True)) == [
        "Newsletter",
        "VIP",
    ]
    assert Consent.objects.get(person=merged).source == "web form"
    subjects = set(Interaction.objects.filter(person=merged).values_list("subject", flat=True))
    assert {"Asked for a quote", "Called back", "Merged with Anna Maria Neri"} <= subjects
    # the other record is gone for good, and the merge is in the audit trail
    assert not Person.with_trash.filter(pk=other_id).exists()
    event = AuditEvent.objects.get(action="person.merged")
    assert (event.actor, event.target_id) == (owner_a.user, str(merged.pk))
    assert event.data["other_id"] == other_id
    assert event.data["changed"]["first_name"] == ["Anna", "Anna Maria"]
    assert event.data["moved"]["timeline.interaction"] == 2
    assert event.data["moved"]["contacts.email"] == {"moved": 1, "dropped": 1}
    assert "anna maria" in merged.search_text
    assert "anna@home.it" in merged.search_text


def test_custom_values_are_picked_per_field(owner_a, make_person):
    ws = owner_a.workspace
    services.custom_field_create(workspace=ws, entity="person", label="Shoe size", type="number")
    services.custom_field_create(workspace=ws, entity="person", label="Club", type="text")
    survivor = make_person("Anna", "Neri")
    services.person_update(person=survivor, actor=None, attributes={}, custom={"shoe_size": "38"})
    other = make_person("Anna", "Neri")
    services.person_update(
        person=other, actor=None, attributes={}, custom={"shoe_size": "39", "club": "Chess"}
    )

    rows = {r.key: r for r in merge_rows(workspace=ws, survivor=survivor, other=other)}
    assert (rows["custom.shoe_size"].default, rows["custom.club"].default) == ("survivor", "other")
    assert rows["custom.shoe_size"].label == "Shoe size"
    assert not rows["first_name"].differs

    merged = person_merge(
        workspace=ws, actor=None, survivor=survivor, other=other, choices={"custom.shoe_size": "other"}
    )

    assert Person.objects.get(pk=merged.pk).custom == {"shoe_size": "39", "club": "Chess"}


def test_a_record_cannot_be_merged_with_itself(owner_a, make_person):
    anna = make_person("Anna", "Neri")
    with pytest.raises(ValidationFailed) as exc:
        person_merge(workspace=owner_a.workspace, actor=None, survivor=anna, other=anna)
    assert "other_id" in exc.value.fields


def test_records_of_another_workspace_or_in_the_trash_are_not_found(owner_a, owner_b, make_person):
    anna = make_person("Anna", "Neri")
    stranger = make_person("Anna", "Neri", workspace=owner_b.workspace)
    trashed = make_person("Anna", "Neri")
    Person.objects.filter(pk=trashed.pk).update(deleted_at=timezone.now())

    for other in (stranger, trashed):
        with pytest.raises(NotFound):
            person_merge(workspace=owner_a.workspace, actor=None, survivor=anna, other=other)
    with workspace_scope(owner_b.workspace):
        assert Person.objects.filter(pk=stranger.pk).exists()


def test_invalid_choices_are_refused_and_nothing_changes(owner_a, pair):
    survivor, other = pair
    with pytest.raises(ValidationFailed) as exc:
        person_merge(
            workspace=owner_a.workspace,
            actor=None,
            survivor=survivor,
            other=other,
            choices={"password": "other", "first_name": "both", "custom.": "other"},
        )
    assert set(exc.value.fields) == {"choices.password", "choices.first_name", "choices.custom."}
    assert Person.objects.filter(pk=other.pk).exists()
    assert Interaction.objects.filter(person=other).count() == 2


def test_merge_runs_in_a_constant_number_of_queries(owner_a, make_person, django_assert_max_num_queries):
    ws = owner_a.workspace
    counts = []
    for history in (1, 30):
        survivor, other = make_person("Anna", "Neri"), make_person("Anna", "Neri", emails=["a@b.it"])
        for i in range(history):
            interaction_record(workspace=ws, kind="note", person=other, subject=f"note {i}")
        with django_assert_max_num_queries(40) as captured:
            person_merge(workspace=ws, actor=None, survivor=survivor, other=other)
        counts.append(len(captured))
    assert counts[0] == counts[1], counts


def test_company_merge_brings_its_people_even_trashed_ones(owner_a, make_person, make_company):
    ws = owner_a.workspace
    survivor = make_company("Acme Srl", vat_number="IT00743110157", emails=["info@acme.it"])
    other = make_company("ACME S.r.l.", industry="Food", emails=["info@acme.it", "sales@acme.it"])
    anna = make_person("Anna", "Neri", company=other.pk)
    gone = make_person("Bruno", "Blu", company=other.pk)
    Person.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    interaction_record(workspace=ws, kind="meeting", company=other, subject="Kick-off")
    assert dict(related_counts(other))["people"] == 2

    merged = company_merge(workspace=ws, actor=owner_a.user, survivor=survivor, other=other, choices={})

    merged.refresh_from_db()
    assert (merged.name, merged.vat_number, merged.industry) == ("Acme Srl", "IT00743110157", "Food")
    assert set(Person.with_trash.filter(company=merged).values_list("pk", flat=True)) == {anna.pk, gone.pk}
    assert Interaction.objects.filter(company=merged, subject="Kick-off").exists()
    assert sorted(Email.objects.filter(company=merged).values_list("email", flat=True)) == [
        "info@acme.it",
        "sales@acme.it",
    ]
    assert not Company.with_trash.filter(pk=other.pk).exists()
    assert "acme srl" in Person.objects.get(pk=anna.pk).search_text
    assert AuditEvent.objects.filter(action="company.merged", target_id=str(merged.pk)).exists()


# --- pages ----------------------------------------------------------------------------------------


def test_compare_confirm_and_merge_in_the_browser_flow(owner_a, client_for, pair):
    survivor, other = pair
    client = client_for(owner_a)
    url = f"/people/{survivor.pk}/merge/{other.pk}/"

    compare = client.get(url).content.decode()
    assert 'name="pick_first_name" id="pick-first_name-survivor" value="survivor" checked' in compare
    assert 'name="pick_job_title" id="pick-job_title-other" value="other" checked' in compare
    assert f'href="/people/{other.pk}/merge/{survivor.pk}/"' in compare  # keep the other one instead

    confirm = client.post(url, {"pick_first_name": "other"}).content.decode()
    assert "will be merged into" in confirm
    assert '<input type="hidden" name="pick_first_name" value="other">' in confirm
    assert "Interactions" in confirm or "interactions" in confirm
    assert Person.objects.filter(pk=other.pk).exists()  # nothing happened yet

    back = client.post(url, {"pick_first_name": "other", "back": "yes"}).content.decode()
    assert 'id="pick-first_name-other" value="other" checked' in back

    response = client.post(url, {"pick_first_name": "other", "confirm": "yes"})
    assert response.status_code == 302
    assert response["Location"] == f"/people/{survivor.pk}/"
    assert Person.objects.get(pk=survivor.pk).first_name == "Anna Maria"
    assert not Person.objects.filter(pk=other.pk).exists()


def test_merge_page_of_a_record_with_itself_goes_back_to_the_duplicates(owner_a, client_for, make_person):
    anna = make_person("Anna", "Neri")
    response = client_for(owner_a).get(f"/people/{anna.pk}/merge/{anna.pk}/")
    assert response["Location"] == "/duplicates/?entity=person"


def test_company_merge_page_lands_on_the_survivors_card(owner_a, client_for, make_company):
    a, b = make_company("Acme Srl"), make_company("ACME srl", industry="Food")
    response = client_for(owner_a).post(f"/companies/{a.pk}/merge/{b.pk}/", {"confirm": "yes"})
    assert response["Location"] == f"/companies/{a.pk}/"
    assert Company.objects.get(pk=a.pk).industry == "Food"


def test_the_merge_finds_every_reference_by_itself():
    """Rows of any app pointing at a person move (deals, tickets... later), colliding rows are dropped."""
    from clientela.contacts.merge import _reverse_relations, _same_value_sets

    assert {r.related_model for r in _reverse_relations(Person)} >= {
        Interaction,
        PersonTag,
        Email,
        Phone,
        Address,
        Consent,
    }
    assert _same_value_sets(PersonTag, "person") == [(("tag",), None)]
    assert _same_value_sets(Email, "person") == [(("email",), None)]
    assert _same_value_sets(Interaction, "person") == []
