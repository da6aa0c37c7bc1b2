"""A person's data-protection requests: a complete export, and an erasure that keeps the aggregates."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from clientela.contacts import importing, services
from clientela.contacts.models import Address, Consent, Email, Import, Person, PersonTag, Phone
from clientela.contacts.privacy import person_erase, person_export_json
from clientela.core import search
from clientela.core.errors import NotFound
from clientela.core.models import AuditEvent
from clientela.core.tenancy import workspace_scope
from clientela.timeline.models import Interaction
from clientela.timeline.services import interaction_record


@pytest.fixture
def anna(owner_a, make_person):
    """Anna Neri with something of everything: contact points, consent, tags, custom values, history."""
    ws = owner_a.workspace
    with workspace_scope(ws):
        services.custom_field_create(workspace=ws, entity="person", label="Shoe size", type="number")
        person = make_person(
            "Anna",
            "Neri",
            emails=["anna@example.it"],
            phones=["02 3661 8300"],
            job_title="Buyer",
            birth_date="1985-04-12",
            notes="Allergic to nuts",
            lifecycle_stage="customer",
            source_channel="fair",
        )
        services.person_update(
            person=person,
            actor=owner_a.user,
            attributes={"job_title": "Head buyer"},
            contact=services.ContactPoints(
                addresses=[services.AddressInput(street="Via Roma 1", city="Milano")]
            ),
            custom={"shoe_size": "38"},
        )
        services.tag_assign(workspace=ws, records=[person], names=["VIP"])
        services.consent_record(person=person, channel="email", granted=True, source="web form 1.2.3.4")
        interaction_record(
            workspace=ws, kind="call", person=person, subject="Complained about delivery", body="Very upset"
        )
    return person


def test_export_holds_everything_and_is_recorded(owner_a, anna):
    data = person_export_json(workspace=owner_a.workspace, person=anna, actor=owner_a.user)

    assert json.loads(json.dumps(data)) == data  # plain JSON
    assert data["format"] == "clientela.person-export/1"
    assert data["person"]["first_name"] == "Anna"
    assert data["person"]["birth_date"] == "1985-04-12"
    assert data["person"]["notes"] == "Allergic to nuts"
    assert data["emails"] == [{"email": "anna@example.it", "label": "", "primary": True}]
    assert data["phones"][0]["number"] == "+390236618300"
    assert data["addresses"][0]["street"] == "Via Roma 1"
    assert data["consents"][0]["source"] == "web form 1.2.3.4"
    assert data["tags"] == ["VIP"]
    assert data["custom"] == {"shoe_size": {"label": "Shoe size", "value": "38"}}
    assert {"Created", "Complained about delivery"} <= {i["subject"] for i in data["interactions"]}
    assert sorted(e["action"] for e in data["audit_events"]) == ["consent.granted", "person.updated"]
    assert data["other_records"] == {}
    exported = AuditEvent.objects.get(action="person.exported")
    assert (exported.actor, exported.target_id, exported.summary) == (
        owner_a.user,
        str(anna.pk),
        f"#{anna.pk}",
    )


def test_erase_removes_personal_data_and_keeps_aggregates(owner_a, anna):
    before = Interaction.objects.filter(person=anna).order_by("occurred_at", "id")
    interactions_before = list(before.values_list("kind", "occurred_at"))

    erased = person_erase(workspace=owner_a.workspace, actor=owner_a.user, person=anna)

    erased.refresh_from_db()
    assert erased.full_name == f"Erased person #{anna.pk}"
    assert (erased.job_title, erased.notes, erased.birth_date, erased.custom) == ("", "", None, {})
    assert (erased.lifecycle_stage, erased.source_channel) == ("customer", "fair")  # aggregates stay
    assert erased.search_text == ""
    for model in (Email, Phone, Address, Consent, PersonTag):
        assert not model.objects.filter(person=anna).exists(), model
    # the history keeps its kinds and dates, not its words
    history = Interaction.objects.filter(person=anna).order_by("occurred_at", "id")
    assert list(history.values_list("kind", "occurred_at"))[: len(interactions_before)] == interactions_before
    assert not history.exclude(subject="").exclude(subject="Personal data erased").exists()
    assert not history.exclude(body="").exists()
    # the audit trail: who did what and when, nothing about the person
    events = AuditEvent.objects.filter(target_id=str(anna.pk))
    assert set(events.values_list("action", flat=True)) == {
        "consent.granted",
        "person.updated",
        "person.erased",
    }
    trail = json.dumps(list(events.values("summary", "data")))
    for personal in ("Anna", "Neri", "anna@example.it", "buyer", "Buyer", "Milano"):
        assert personal not in trail
    assert AuditEvent.objects.get(action="person.erased").data["removed"]["emails"] == 1
    # and nobody finds her any more
    assert search.search_ids(Person.objects.all(), "Anna Neri") == []


def test_erase_works_in_the_trash_twice_and_only_in_its_workspace(owner_a, owner_b, anna, make_person):
    Person.objects.filter(pk=anna.pk).update(deleted_at=timezone.now())
    person_erase(workspace=owner_a.workspace, actor=None, person=anna)
    person_erase(workspace=owner_a.workspace, actor=None, person=anna)
    assert Person.with_trash.get(pk=anna.pk).last_name == f"Erased person #{anna.pk}"

    with pytest.raises(NotFound):
        person_erase(workspace=owner_b.workspace, actor=None, person=anna)
    with pytest.raises(NotFound):
        person_export_json(workspace=owner_b.workspace, person=anna)


# --- pages ----------------------------------------------------------------------------------------


def test_privacy_page_downloads_the_json(owner_a, client_for, anna):
    client = client_for(owner_a)
    page = client.get(f"/people/{anna.pk}/privacy/").content.decode()
    assert "Download JSON" in page
    assert f'href="/people/{anna.pk}/privacy/export.json"' in page

    response = client.get(f"/people/{anna.pk}/privacy/export.json")

    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="person-{anna.pk}.json"'
    assert json.loads(response.content)["person"]["id"] == anna.pk


def test_erase_needs_the_typed_name(owner_a, client_for, anna):
    client = client_for(owner_a)
    url = f"/people/{anna.pk}/privacy/erase/"

    wrong = client.post(url, {"confirm": "Anna"}, follow=True)
    assert "Type the person&#x27;s name exactly" in wrong.content.decode()
    assert Person.objects.get(pk=anna.pk).first_name == "Anna"

    response = client.post(url, {"confirm": "  anna NERI "})
    assert response["Location"] == f"/people/{anna.pk}/privacy/"
    assert Person.objects.get(pk=anna.pk).full_name == f"Erased person #{anna.pk}"


def test_privacy_is_for_owners_and_admins(owner_a, member_factory, client_for, anna):
    for role, status in (("admin", 200), ("manager", 403), ("sales", 403)):
        client = client_for(member_factory(owner_a.workspace, role))
        assert client.get(f"/people/{anna.pk}/privacy/").status_code == status, role
    assert not AuditEvent.objects.filter(action="person.exported").exists()


def test_erase_removes_the_files_of_the_imports_that_created_or_changed_the_person(
    owner_a, make_person, django_capture_on_commit_callbacks
):
    ws, user = owner_a.workspace, owner_a.user
    existing = make_person("Bea", "Verdi", emails=["bea@example.it"], job_title="Buyer")
    rows = (
        "Name,Email,Job title\r\nCarla Bianchi,carla@example.it,CEO\r\nBea Verdi,bea@example.it,Director\r\n"
    )
    other = "Name,Email\r\nDario Gialli,dario@example.it\r\n"
    skipped = "Name,Email\r\nB. Verdi,BEA@example.it\r\nB. V.,bea@example.it; b at example\r\n"
    imports = []
    with workspace_scope(ws), django_capture_on_commit_callbacks(execute=True):
        for name, content in (("people.csv", rows), ("other.csv", other)):
            upload = SimpleUploadedFile(name, content.encode())
            imported = importing.import_upload(
                workspace=ws, actor=user, uploaded_file=upload, entity="person"
            )
            importing.import_start(import_=imported, duplicates="update", actor=user)
            imports.append(imported)
        upload = SimpleUploadedFile("skipped.csv", skipped.encode())
        skipping = importing.import_upload(workspace=ws, actor=user, uploaded_file=upload, entity="person")
        importing.import_start(import_=skipping, duplicates="skip", valid_rows_only=True, actor=user)
        upload = SimpleUploadedFile("later.csv", b"Name,Email\r\nBea Verdi,bea@example.it\r\n")
        never_started = importing.import_upload(
            workspace=ws, actor=user, uploaded_file=upload, entity="person"
        )
    for imported in imports:
        imported.refresh_from_db()
    people_csv, other_csv = imports
    skipping.refresh_from_db()
    assert (skipping.status, skipping.skipped_count, skipping.failed_count) == ("done", 1, 1), skipping.errors
    assert (people_csv.created_count, people_csv.updated_count) == (1, 1)
    storage, stored = people_csv.file.storage, people_csv.file.name
    changes = AuditEvent.objects.filter(action=importing.UPDATED_ACTION, target_id=str(people_csv.pk))
    assert changes.get().data["before"] == {"job_title": "Buyer"}

    with django_capture_on_commit_callbacks(execute=True):
        person_erase(workspace=ws, actor=user, person=existing)  # changed by people.csv

    people_csv.refresh_from_db()
    other_csv.refresh_from_db()
    assert not people_csv.file and not storage.exists(stored)
    assert people_csv.options["file_removed"]["reason"] == "erasure"
    assert other_csv.file  # holds nobody erased
    skipping.refresh_from_db()
    assert not skipping.file  # her row was skipped as a duplicate, but the file held it
    assert skipping.errors == [] and skipping.failed_count == 1  # the problem quoted her email
    assert not Import.objects.filter(pk=never_started.pk).exists()
    change = changes.get()
    assert change.summary == "" and "before" not in change.data and change.data["record"] == existing.pk
    erased = AuditEvent.objects.get(action="person.erased")
    assert erased.data["removed"]["import_files"] == 3 and erased.data["removed"]["import_changes"] == 1
