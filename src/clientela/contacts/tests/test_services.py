"""Rules for people and companies: normalisation, validation, custom fields, trash (given/when/then)."""

import pytest

from clientela.contacts import services
from clientela.contacts.models import Company, Email, Person, Phone
from clientela.core.errors import ValidationFailed
from clientela.timeline.models import Interaction


def test_person_is_stored_normalised_and_appears_on_its_timeline(owner_a, make_person, in_workspace):
    person = make_person(emails=[" Mario.Rossi@Example.IT "], phones=["02 3661 8300", "+40 21 311 1111"])
    with in_workspace(owner_a.workspace):
        assert list(Email.objects.filter(person=person).values_list("email", flat=True)) == [
            "mario.rossi@example.it"
        ]
        assert list(Phone.objects.filter(person=person).order_by("id").values_list("e164", "raw")) == [
            ("+390236618300", "02 3661 8300"),
            ("+40213111111", "+40 21 311 1111"),
        ]
        assert Interaction.objects.get(person=person).subject == "Created"
    assert "mario.rossi@example.it" in person.search_text


def test_bad_values_are_all_reported_and_nothing_is_saved(owner_a, in_workspace):
    with in_workspace(owner_a.workspace), pytest.raises(ValidationFailed) as exc:
        services.person_create(
            workspace=owner_a.workspace,
            actor=None,
            attributes={"first_name": "X", "gender": "alien", "birth_date": "31-02-2000", "company": 999},
            contact=services.ContactPoints(emails=["not-an-email"], phones=["12"]),
        )
    assert set(exc.value.fields) == {"gender", "birth_date", "company", "emails", "phones"}
    with in_workspace(owner_a.workspace):
        assert not Person.objects.exists()


def test_company_vat_is_validated_with_or_without_prefix(owner_a, in_workspace):
    with in_workspace(owner_a.workspace):
        company = services.company_create(
            workspace=owner_a.workspace, actor=None, attributes={"name": "Acme", "vat_number": "00743110157"}
        )
        assert company.vat_number == "IT00743110157"  # the workspace's region prefixes a bare number
        hu = services.company_create(
            workspace=owner_a.workspace, actor=None, attributes={"name": "Kft", "vat_number": "HU 12892312"}
        )
        assert hu.vat_number == "HU12892312"
        with pytest.raises(ValidationFailed) as exc:
            services.company_create(
                workspace=owner_a.workspace,
                actor=None,
                attributes={"name": "Bad", "vat_number": "IT12345678901"},
            )
        assert "vat_number" in exc.value.fields


def test_custom_fields_validate_by_type_and_survive_a_rename(owner_a, make_person, in_workspace):
    ws = owner_a.workspace
    with in_workspace(ws):
        size = services.custom_field_create(workspace=ws, entity="person", label="Shoe size", type="number")
        tier = services.custom_field_create(
            workspace=ws, entity="person", label="Tier", type="choice", choices=["Gold", "Silver"]
        )
        person = make_person()
        services.person_update(
            person=person, actor=None, attributes={}, custom={"shoe_size": "42,5", "tier": "Gold"}
        )
        with pytest.raises(ValidationFailed) as exc:
            services.person_update(
                person=person,
                actor=None,
                attributes={},
                custom={"tier": "Bronze", "shoe_size": "big", "nope": 1},
            )
        assert set(exc.value.fields) == {"custom.tier", "custom.shoe_size", "custom.nope"}
        services.custom_field_update(custom_field=size, label="Shoe size (EU)")
        services.custom_field_archive(custom_field=tier)
        person.refresh_from_db()
    assert person.custom == {"shoe_size": "42.5", "tier": "Gold"}


def test_trash_hides_records_until_restored_and_purges_after_30_days(owner_a, make_person, in_workspace):
    import datetime as dt

    from django.utils import timezone

    person = make_person()
    with in_workspace(owner_a.workspace):
        services.customers_trash(workspace=owner_a.workspace, actor=None, records=[person])
        assert not Person.objects.filter(pk=person.pk).exists()
        services.customers_restore(workspace=owner_a.workspace, actor=None, records=[person])
        assert Person.objects.filter(pk=person.pk).exists()
        services.customers_trash(workspace=owner_a.workspace, actor=None, records=[person])
        assert (
            services.trash_purge(workspace=owner_a.workspace, now=timezone.now() + dt.timedelta(days=29)) == 0
        )
        assert (
            services.trash_purge(workspace=owner_a.workspace, now=timezone.now() + dt.timedelta(days=31)) >= 1
        )
        assert not Person.with_trash.filter(pk=person.pk).exists()


def test_bulk_actions_ignore_ids_of_other_workspaces(owner_a, owner_b, make_person, in_workspace):
    mine, theirs = make_person(), make_person(workspace=owner_b.workspace)
    with in_workspace(owner_a.workspace):
        count = services.customers_bulk(
            workspace=owner_a.workspace,
            actor=None,
            model=Person,
            action="tag",
            ids=[mine.pk, theirs.pk],
            tags=["VIP"],
        )
    assert count == 1
    with in_workspace(owner_b.workspace):
        assert not theirs.tags.exists()
    with in_workspace(owner_a.workspace):
        assert [t.name for t in mine.tags.all()] == ["VIP"]
        assert Company.objects.count() == 0
