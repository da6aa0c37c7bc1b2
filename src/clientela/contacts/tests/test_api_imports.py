"""Imports and exports over the API: upload, preview, start, poll, error file, undo; exports with filters."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from clientela.contacts.models import Person
from clientela.workspaces.roles import Role

CSV = (
    b"First Name;Last Name;E-mail Address;Mobile Phone;Birthday\n"
    b"Maria;Rossi;maria@example.it;+39 333 123 4567;1985-03-12\n"
    b"Ion;Popescu;not-an-email;123;31/02/1990\n"
    b"Anna;Nagy;anna@example.hu;;\n"
)


def post_file(api, name, content, entity="person"):
    return api.client.post(
        "/api/v1/imports",
        {"file": SimpleUploadedFile(name, content), "entity": entity},
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )


def test_upload_preview_start_poll_errors_and_undo(owner_a, api_for, django_capture_on_commit_callbacks):
    api = api_for(owner_a)
    created = post_file(api, "people.csv", CSV)
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["format"], body["encoding"], body["delimiter"]) == (
        "uploaded",
        "csv",
        "utf-8",
        ";",
    )
    assert body["suggested_mapping"] == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "E-mail Address": "email",
        "Mobile Phone": "phone",
        "Birthday": "birth_date",
    }
    url = f"/api/v1/imports/{body['id']}"

    preview = api.post(f"{url}/preview", {"mapping": body["suggested_mapping"], "rows": 5})
    assert preview.status_code == 200
    rows = preview.json()["rows"]
    assert [r["action"] for r in rows] == ["create", "fail", "create"]
    assert {(p["column"], p["message"]) for p in rows[1]["problems"]} == {
        ("E-mail Address", "“not-an-email” is not a valid email address."),
        ("Mobile Phone", "123 is not a possible phone number."),
        ("Birthday", "“31/02/1990” is not a real date."),
    }
    assert not Person.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"{url}/start", {"valid_rows_only": True, "duplicates": "skip"})
    assert started.status_code == 202 and started.json()["status"] == "queued"

    done = api.get(url).json()
    assert (done["status"], done["progress"], done["total_rows"]) == ("done", 100, 3)
    assert (done["created"], done["updated"], done["skipped"], done["failed"]) == (2, 0, 0, 1)
    assert {(e["row"], e["column"]) for e in done["errors"]} == {
        (3, "E-mail Address"),
        (3, "Mobile Phone"),
        (3, "Birthday"),
    }
    assert api.get("/api/v1/imports").json()["results"][0]["id"] == body["id"]

    errors = api.get(f"{url}/errors.csv")
    assert errors.status_code == 200 and errors["Content-Type"] == "text/csv; charset=utf-8"
    lines = list(csv.reader(io.StringIO(b"".join(errors.streaming_content).decode("utf-8-sig"))))
    assert lines[0][:3] == ["Row", "Problems", "First Name"] and lines[1][2:4] == ["Ion", "Popescu"]

    undone = api.post(f"{url}/undo")
    assert undone.status_code == 200 and undone.json()["status"] == "undone"
    assert not Person.objects.exists()
    again = api.post(f"{url}/start", {})
    assert again.status_code == 409 and again.json()["code"] == "import_started"


def test_bad_uploads_get_problem_details_naming_the_file(owner_a, api_for, settings):
    api = api_for(owner_a)
    missing = api.client.post("/api/v1/imports", {}, HTTP_AUTHORIZATION=f"Bearer {api.token}")
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "file"

    not_xlsx = post_file(api, "book.xlsx", b"a,b\n1,2\n")
    assert not_xlsx.status_code == 422
    assert not_xlsx["Content-Type"] == "application/problem+json"
    assert not_xlsx.json()["code"] == "not_xlsx" and "book.xlsx" in not_xlsx.json()["title"]

    settings.IMPORT_MAX_UPLOAD_BYTES = 10
    too_big = post_file(api, "people.csv", CSV)
    assert too_big.status_code == 422 and too_big.json()["code"] == "file_too_large"


def test_a_wrong_mapping_and_a_wrong_policy_are_422(owner_a, api_for):
    api = api_for(owner_a)
    url = f"/api/v1/imports/{post_file(api, 'people.csv', CSV).json()['id']}"

    wrong = api.post(f"{url}/preview", {"mapping": {"First Name": "first_name", "Last Name": "first_name"}})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "mapping.Last Name"
    policy = api.post(f"{url}/start", {"duplicates": "merge"})
    assert policy.status_code == 422 and policy.json()["errors"][0]["field"] == "duplicates"


def test_configure_reads_the_csv_again(owner_a, api_for):
    api = api_for(owner_a)
    url = f"/api/v1/imports/{post_file(api, 'people.csv', CSV).json()['id']}"
    comma = api.patch(url, {"delimiter": ","})
    assert comma.status_code == 200 and comma.json()["headers"] == [
        "First Name;Last Name;E-mail Address;Mobile Phone;Birthday"
    ]
    assert api.patch(url, {"encoding": "klingon"}).status_code == 422
    assert api.get("/api/v1/import-fields?entity=company").json()[0]["key"] == "name"


def test_roles(owner_a, member_factory, api_for):
    reader = api_for(member_factory(owner_a.workspace, Role.READ_ONLY))
    assert reader.get("/api/v1/imports").status_code == 200
    assert post_file(reader, "people.csv", CSV).status_code == 403
    assert reader.get("/api/v1/exports/people.csv").status_code == 200


@pytest.fixture
def two_people(make_person):
    make_person("Maria", "Rossi", emails=["maria@example.it"], lifecycle_stage="customer")
    make_person("Luca", "Verdi", lifecycle_stage="lead")


def test_exports_take_the_list_filters(owner_a, api_for, two_people):
    api = api_for(owner_a)
    response = api.get("/api/v1/exports/people.csv?lifecycle_stage=customer")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [r[2] for r in rows[1:]] == ["Rossi"]
    assert api.get("/api/v1/exports/people.xlsx").status_code == 200
    vcf = b"".join(api.get("/api/v1/exports/people.vcf?q=verdi").streaming_content).decode()
    assert vcf.count("BEGIN:VCARD") == 1 and "FN:Luca Verdi" in vcf
    assert api.get("/api/v1/exports/companies.csv").status_code == 200
    bad = api.get("/api/v1/exports/people.csv?sort=shoe")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "sort"
