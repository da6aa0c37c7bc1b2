"""Importing people in a real Chromium, with a real worker process: upload a CSV with one bad row, see
the problem in the preview, import the valid rows, watch the progress turn into the report, download
the error file, undo."""

import os
import subprocess
import sys

import pytest
from django.db import connection
from playwright.sync_api import Page, expect

from clientela.contacts.models import Person

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CSV = (
    "Given Name,Family Name,E-mail 1 - Value,Phone 1 - Value,Organization 1 - Name\n"
    "Maria,Rossi,maria.rossi@example.it,+39 333 123 4567,Acme Srl\n"
    "Ion,Popescu,ion(at)example.ro,+40 721 123 456,\n"
    "Árpád,Szabó,arpad@example.hu,+36 30 123 4567,Győri Kft\n"
)


def run_worker() -> None:
    """One burst of a real task worker on the test database."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{s['NAME']}"
    else:
        url = f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    worker = subprocess.run(
        [sys.executable, "-m", "clientela.cli", "worker", "--burst"],
        env={**os.environ, "DATABASE_URL": url, "CLIENTELA_TASKS": "db"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert worker.returncode == 0, worker.stderr


def test_import_the_valid_rows_see_the_report_and_undo(
    page: Page, live_server, owner_a, signed_in_page, tmp_path, settings
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # a worker process runs it
    file = tmp_path / "google-contacts.csv"
    file.write_text(CSV, encoding="utf-8")
    signed_in_page(owner_a)

    page.get_by_role("link", name="Imports").click()
    page.get_by_test_id("new-import").click()
    page.get_by_label("File", exact=True).set_input_files(file)
    page.get_by_role("button", name="Upload and continue").click()

    expect(page.get_by_role("heading", name="Match the columns")).to_be_visible()
    expect(page.get_by_test_id("map-0")).to_have_value("first_name")
    expect(page.get_by_test_id("map-2")).to_have_value("email")
    problem = page.get_by_test_id("preview-problem")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text("“ion(at)example.ro” is not a valid email address.")
    page.get_by_label("Import the valid rows and skip the others").check()
    expect(page.get_by_test_id("valid-rows-only")).to_be_checked()  # the htmx round trip kept it
    page.screenshot(path=str(tmp_path / "import-mapping.png"), full_page=True)
    page.get_by_test_id("start-import").click()

    expect(page.get_by_test_id("import-progress")).to_contain_text("Waiting for a worker")
    run_worker()
    report = page.get_by_test_id("import-report")
    expect(report).to_be_visible(timeout=10_000)  # the polling partial turned into the report
    expect(page.get_by_test_id("count-created")).to_have_text("2")
    expect(page.get_by_test_id("count-failed")).to_have_text("1")
    expect(page.get_by_test_id("problems-table")).to_contain_text("E-mail 1 - Value")
    expect(page.get_by_test_id("retention-note")).to_contain_text("kept for 30 days")
    page.screenshot(path=str(tmp_path / "import-report.png"), full_page=True)
    assert sorted(Person.all_workspaces.values_list("last_name", flat=True)) == ["Rossi", "Szabó"]

    with page.expect_download() as download:
        page.get_by_test_id("download-errors").click()
    errors = download.value.path().read_text(encoding="utf-8-sig")
    assert "ion(at)example.ro" in errors and "Maria" not in errors

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_test_id("undo-import").click()
    expect(page.get_by_test_id("import-undone")).to_be_visible()
    expect(
        page.get_by_text("The import was undone. Records removed: 4. Records restored: 0.")
    ).to_be_visible()
    assert not Person.all_workspaces.exists()
