"""Cleaning up duplicates in a real Chromium: find the pair, compare, pick a value, merge, land on the card;
then answer a privacy request: download the person's data and erase them."""

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from clientela.contacts import services
from clientela.contacts.models import Person
from clientela.core.tenancy import workspace_scope
from clientela.timeline.services import interaction_record

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("CLIENTELA_SCREENSHOTS", "")


def shot(page: Page, tmp_path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def make_person(workspace, first, last, **attributes):
    emails, phones = attributes.pop("emails", []), attributes.pop("phones", [])
    with workspace_scope(workspace):
        return services.person_create(
            workspace=workspace,
            actor=None,
            attributes={"first_name": first, "last_name": last, **attributes},
            contact=services.ContactPoints(emails=emails, phones=phones),
        )


def test_find_compare_pick_and_merge_duplicates(page: Page, live_server, owner_a, signed_in_page, tmp_path):
    ws = owner_a.workspace
    survivor = make_person(ws, "Anna", "Neri", emails=["anna@example.it"], phones=["02 3661 8300"])
    other = make_person(
        ws, "Anna Maria", "Neri", emails=["ANNA@example.it", "anna@home.it"], job_title="Buyer"
    )
    with workspace_scope(ws):
        interaction_record(workspace=ws, kind="call", person=other, subject="Asked for a quote")
    signed_in_page(owner_a)

    page.goto(f"{live_server.url}/duplicates/")
    pair = page.get_by_test_id("duplicate-pair")
    expect(pair).to_have_count(1)
    expect(pair).to_contain_text("Same email anna@example.it")
    shot(page, tmp_path, "duplicates")

    pair.get_by_role("link", name="Compare & merge").click()
    expect(page.locator("h1")).to_have_text("Compare and merge")
    expect(page.get_by_label("Buyer")).to_be_checked()  # the survivor's job title is empty
    page.get_by_label("Anna Maria").check()
    shot(page, tmp_path, "merge")
    page.get_by_role("button", name="Review the merge").click()

    expect(page.get_by_test_id("merge-warning")).to_contain_text("will be merged into Anna Neri")
    expect(page.get_by_test_id("merge-result")).to_contain_text("Anna Maria")
    expect(page.get_by_test_id("merge-moving")).to_contain_text("interactions")
    shot(page, tmp_path, "merge-confirm")
    page.get_by_role("button", name="Merge").click()

    expect(page).to_have_url(f"{live_server.url}/people/{survivor.pk}/")
    expect(page.get_by_text("Anna Maria Neri was merged into Anna Neri.")).to_be_visible()
    expect(page.get_by_test_id("card-title")).to_have_text("Anna Maria Neri")
    shot(page, tmp_path, "card-after-merge")
    assert not Person.all_workspaces.filter(pk=other.pk).exists()


def test_download_and_erase_a_persons_data(page: Page, live_server, owner_a, signed_in_page, tmp_path):
    anna = make_person(owner_a.workspace, "Ágnes", "Szabó", emails=["agnes@example.hu"])
    signed_in_page(owner_a)

    page.goto(f"{live_server.url}/people/{anna.pk}/privacy/")
    with page.expect_download() as download:
        page.get_by_test_id("privacy-download").click()
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert data["emails"][0]["email"] == "agnes@example.hu"

    erase = page.get_by_test_id("erase")
    expect(erase).to_be_disabled()
    page.get_by_test_id("erase-confirm").fill("agnes szabo")  # accents and case do not matter
    expect(erase).to_be_enabled()
    shot(page, tmp_path, "privacy")
    erase.click()

    expect(page.get_by_text("The personal data of this person was erased.")).to_be_visible()
    expect(page.locator("h1")).to_contain_text(f"Erased person #{anna.pk}")


def test_the_new_person_form_warns_about_a_likely_duplicate(
    page: Page, live_server, owner_a, signed_in_page, tmp_path
):
    anna = make_person(owner_a.workspace, "Anna", "Neri", emails=["anna@example.it"])
    signed_in_page(owner_a)

    page.goto(f"{live_server.url}/people/new/")
    page.get_by_label("First name").fill("Anna")
    page.get_by_label("Emails").fill("Anna@Example.it")
    page.get_by_label("Emails").blur()

    warning = page.get_by_test_id("duplicate-warning")
    expect(warning).to_contain_text("Same email anna@example.it")
    expect(warning.get_by_role("link", name="Anna Neri")).to_have_attribute("href", f"/people/{anna.pk}/")
    shot(page, tmp_path, "create-warning")
