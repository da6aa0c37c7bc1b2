"""Exports: CSV and XLSX of the current list, streamed, formulas neutralised, readable by the importer."""

import asyncio
import csv
import datetime as dt
import io
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from clientela.contacts import exporting, importing, selectors, services
from clientela.contacts.models import Person
from clientela.contacts.services import AddressInput, ContactPoints
from clientela.core.errors import NotFound
from clientela.core.tenancy import workspace_scope

HYPERLINK = '=HYPERLINK("http://evil.example","Click me")'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (HYPERLINK, "'" + HYPERLINK),
        ("+SUM(A1:A9)", "'+SUM(A1:A9)"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("+39 02 3661 8300", "+39 02 3661 8300"),  # a phone number cannot call anything
        ("-12.5", "-12.5"),
        ("Maria", "Maria"),
        ("", ""),
    ],
)
def test_neutralise(value, expected):
    assert exporting.neutralise(value) == expected


@pytest.fixture
def maria(owner_a):
    with workspace_scope(owner_a.workspace):
        return _maria(owner_a)


def _maria(owner_a):
    company = services.company_create(
        workspace=owner_a.workspace, actor=None, attributes={"name": "Acme Srl"}
    )
    services.custom_field_create(
        workspace=owner_a.workspace, entity="person", label="Shoe size", type="number"
    )
    return services.person_create(
        workspace=owner_a.workspace,
        actor=owner_a.user,
        attributes={
            "first_name": "Maria",
            "last_name": "Rossi",
            "company": company.pk,
            "job_title": "+SUM(1)",
            "birth_date": dt.date(1985, 3, 12),
            "gender": "female",
            "lifecycle_stage": "customer",
            "owner": owner_a.user.pk,
            "notes": HYPERLINK,
        },
        contact=ContactPoints(
            emails=["maria@example.it", "m.rossi@acme.example"],
            phones=["+39 02 3661 8300"],
            addresses=[AddressInput(street="Via Roma 1", city="Milano", postal_code="20121", country="IT")],
        ),
        tags=["VIP"],
        custom={"shoe_size": "38"},
    )


def export(owner, fmt, entity="person", **params):
    query = selectors.ListQuery.parse(entity, params)
    queryset = selectors.customer_queryset(workspace=owner.workspace, user=owner.user, query=query)
    return exporting.export_response(queryset, fmt, entity)


def csv_rows(response):
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_export_has_every_column_and_neutralises_formulas(owner_a, owner_b, maria):
    with workspace_scope(owner_b.workspace):
        services.person_create(workspace=owner_b.workspace, actor=None, attributes={"last_name": "Elsewhere"})
    response = export(owner_a, "csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="people-')
    header, row = csv_rows(response)  # only workspace A's person
    record = dict(zip(header, row, strict=True))
    assert record["First name"] == "Maria" and record["Company"] == "Acme Srl"
    assert record["Emails"] == "maria@example.it; m.rossi@acme.example"
    assert record["Phones"] == "+39 02 3661 8300"
    assert record["City"] == "Milano" and record["Country"] == "IT"
    assert record["Birth date"] == "1985-03-12" and record["Gender"] == "Female"
    assert record["Owner"] == "owner@alpha.test" and record["Tags"] == "VIP" and record["Shoe size"] == "38"
    assert record["Notes"] == "'" + HYPERLINK and record["Job title"] == "'+SUM(1)"


def test_csv_export_follows_the_list_filters(owner_a, maria, make_person):
    make_person("Luca", "Verdi", lifecycle_stage="lead")
    assert [r[2] for r in csv_rows(export(owner_a, "csv", lifecycle_stage="customer"))[1:]] == ["Rossi"]
    assert [r[2] for r in csv_rows(export(owner_a, "csv", sort="-name"))[1:]] == ["Verdi", "Rossi"]


def test_xlsx_export_keeps_formulas_as_text_and_dates_as_dates(owner_a, maria):
    response = export(owner_a, "xlsx")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")

    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    cells = dict(zip(header, sheet[2], strict=True))
    assert sheet.title == "People" and sheet[1][0].font.bold
    assert (
        cells["Notes"].value == HYPERLINK and cells["Notes"].data_type == "s" and cells["Notes"].quotePrefix
    )
    assert cells["Birth date"].value == dt.datetime(1985, 3, 12)
    assert cells["Last name"].value == "Rossi" and not cells["Last name"].quotePrefix


def test_an_export_imports_back_into_another_workspace(
    owner_a, owner_b, maria, django_capture_on_commit_callbacks
):
    content = b"".join(export(owner_a, "csv").streaming_content)
    with workspace_scope(owner_b.workspace):
        services.custom_field_create(
            workspace=owner_b.workspace, entity="person", label="Shoe size", type="number"
        )
        imported = importing.import_upload(
            workspace=owner_b.workspace,
            actor=owner_b.user,
            uploaded_file=SimpleUploadedFile("people.csv", content),
            entity="person",
        )
        mapping = imported.options["suggested"]
        assert [h for h, target in mapping.items() if not target] == ["ID", "Created"]
        mapping["Owner"] = ""  # the owner is not a member of this workspace
        with django_capture_on_commit_callbacks(execute=True):
            importing.import_start(import_=imported, mapping=mapping, valid_rows_only=True)
        imported.refresh_from_db()
        assert imported.errors == [] and imported.created_count == 1
        copy = Person.objects.prefetch_related("emails", "tags").get()
        assert (copy.first_name, copy.company.name, copy.birth_date) == (
            "Maria",
            "Acme Srl",
            dt.date(1985, 3, 12),
        )
        assert copy.notes == "'" + HYPERLINK  # what a spreadsheet would keep
        assert [e.email for e in copy.emails.all()] == ["maria@example.it", "m.rossi@acme.example"]
        assert copy.custom == {"shoe_size": "38"} and copy.lifecycle_stage == "customer"


def test_export_queries_do_not_grow_with_the_rows(owner_a, make_person, django_assert_max_num_queries):
    for i in range(30):
        make_person(f"P{i}", "Many", emails=[f"p{i}@example.it"], phones=["+39 02 3661 8300"])
    with django_assert_max_num_queries(12):
        assert len(csv_rows(export(owner_a, "csv"))) == 31


def test_companies_export(owner_a):
    services.company_create(
        workspace=owner_a.workspace,
        actor=None,
        attributes={"name": "Acme Srl", "vat_number": "IT00743110157"},
    )
    header, row = csv_rows(export(owner_a, "csv", entity="company"))
    assert dict(zip(header, row, strict=True))["VAT number"] == "IT00743110157"
    workbook = load_workbook(
        io.BytesIO(b"".join(export(owner_a, "xlsx", entity="company").streaming_content))
    )
    assert workbook.active.title == "Companies"


def test_vcard_export_and_unknown_formats(owner_a, maria):
    response = export(owner_a, "vcf")
    text = b"".join(response.streaming_content).decode()
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    assert text.startswith("BEGIN:VCARD\r\nVERSION:3.0\r\n") and "FN:Maria Rossi" in text
    with pytest.raises(NotFound):
        export(owner_a, "pdf")
    with pytest.raises(NotFound):
        export(owner_a, "vcf", entity="company")


def test_the_streaming_response_streams_under_asgi_too():
    response = exporting.DualStreamingResponse(iter([b"a" * 10, b"b" * 10]))

    async def consume():
        return [chunk async for chunk in response]

    with warnings.catch_warnings(), ThreadPoolExecutor(1) as thread:  # a thread of its own: no event loop
        warnings.simplefilter("error")  # Django warns when it has to buffer the whole body
        assert thread.submit(asyncio.run, consume()).result() == [b"a" * 10, b"b" * 10]


def test_the_people_page_export_uses_the_list_filters(owner_a, maria, make_person, client_for):
    make_person("Luca", "Verdi")
    response = client_for(owner_a).get("/people/export.csv?q=rossi")
    assert response.status_code == 200
    assert [r[2] for r in csv_rows(response)[1:]] == ["Rossi"]
    assert client_for(owner_a).get("/people/export.pdf").status_code == 404
