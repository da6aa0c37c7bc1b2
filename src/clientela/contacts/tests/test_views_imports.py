"""Import pages: upload, mapping with its htmx preview, start, progress polling, report, undo, roles."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clientela.contacts import importing
from clientela.contacts.models import Import, ImportStatus, Person
from clientela.workspaces.roles import Role

CSV = b"Given Name,Family Name,E-mail 1 - Value\nMaria,Rossi,maria@example.it\nIon,Popescu,not-an-email\n"


def upload(client, content=CSV, name="google.csv"):
    return client.post(
        reverse("contacts:import_upload"), {"file": SimpleUploadedFile(name, content), "entity": "person"}
    )


def test_upload_then_mapping_page_with_suggestions_and_problems(owner_a, client_for):
    client = client_for(owner_a)
    assert client.get(reverse("contacts:import_list")).status_code == 200
    response = upload(client)
    imported = Import.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:import_mapping", args=[imported.pk])

    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert '<option value="first_name" selected>' in html and '<option value="email" selected>' in html
    assert "“not-an-email” is not a valid email address." in html
    assert 'data-testid="preview-table"' in html


def test_a_bad_file_is_explained_on_the_upload_page(owner_a, client_for):
    response = upload(client_for(owner_a), b"not a workbook", "people.xlsx")
    assert response.status_code == 422
    assert "people.xlsx" in response.content.decode() and "not an Excel workbook" in response.content.decode()
    missing = client_for(owner_a).post(reverse("contacts:import_upload"), {"entity": "person"})
    assert "Choose a file to upload." in missing.content.decode()


def test_htmx_change_returns_only_the_mapping_body(owner_a, client_for):
    client = client_for(owner_a)
    upload(client)
    imported = Import.objects.get()
    response = client.post(
        reverse("contacts:import_mapping", args=[imported.pk]),
        {"column_0": "first_name", "column_1": "first_name", "column_2": "email", "duplicates": "skip"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and html.lstrip().startswith('<div id="mapping-body"')
    assert "already taken by the column “Given Name”" in html
    assert 'data-testid="start-import" disabled' in html


def test_start_shows_progress_that_polls_then_the_report(
    owner_a, client_for, django_capture_on_commit_callbacks
):
    client = client_for(owner_a)
    upload(client)
    imported = Import.objects.get()
    data = {"column_0": "first_name", "column_1": "last_name", "column_2": "email", "duplicates": "skip"}
    response = client.post(reverse("contacts:import_start", args=[imported.pk]), data)  # the task waits
    detail = reverse("contacts:import_detail", args=[imported.pk])
    assert response["Location"] == detail

    polling = client.get(detail, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in polling and "Waiting for a worker" in polling

    importing.import_run(import_=imported)  # the worker runs it: one row has a problem, so nothing is written
    report = client.get(detail, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in report and "Nothing was imported." in report
    assert "Import only the valid rows" in report

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("contacts:import_start", args=[imported.pk]), {"valid_rows_only": "1"})
    page = client.get(detail).content.decode()
    assert 'data-testid="count-created">1<' in page and "Download the error file" in page
    assert Person.objects.get().last_name == "Rossi"

    errors = client.get(reverse("contacts:import_errors", args=[imported.pk]))
    assert b"not-an-email" in b"".join(errors.streaming_content)

    undone = client.post(reverse("contacts:import_undo", args=[imported.pk]), follow=True)
    assert "The import was undone. Records removed: 1. Records restored: 0." in undone.content.decode()
    assert not Person.objects.exists()
    assert Import.objects.get().status == ImportStatus.UNDONE


def test_a_wrong_mapping_on_start_shows_the_mapping_page_again(owner_a, client_for):
    client = client_for(owner_a)
    upload(client)
    imported = Import.objects.get()
    response = client.post(reverse("contacts:import_start", args=[imported.pk]), {"column_2": "email"})
    assert response.status_code == 422
    assert "Map a column to the first name, the last name or the full name." in response.content.decode()
    assert Import.objects.get().status == ImportStatus.UPLOADED


def test_configure_changes_the_delimiter(owner_a, client_for):
    client = client_for(owner_a)
    upload(client, b"a;b\n1;2\n", "semi.csv")
    imported = Import.objects.get()
    url = reverse("contacts:import_mapping", args=[imported.pk])
    client.post(url, {"action": "configure", "encoding": "cp1252", "delimiter": ","})
    imported.refresh_from_db()
    assert imported.options["delimiter"] == "," and imported.options["headers"] == ["a;b"]


def test_read_only_members_see_imports_but_cannot_import(owner_a, member_factory, client_for):
    reader = client_for(member_factory(owner_a.workspace, Role.READ_ONLY))
    page = reader.get(reverse("contacts:import_list"))
    assert page.status_code == 200 and "Import a file" not in page.content.decode()
    assert reader.get(reverse("contacts:import_upload")).status_code == 403
