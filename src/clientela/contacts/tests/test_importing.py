"""Imports: detection, refusals, mapping suggestions, preview, the run, duplicates, all-or-nothing, undo."""

import csv
import datetime as dt
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from clientela.contacts import importing, services
from clientela.contacts.models import Company, Import, ImportStatus, Person
from clientela.core.errors import Conflict, ValidationFailed
from clientela.core.models import AuditEvent

HEADER = ["First Name", "Last Name", "E-mail Address", "Mobile Phone", "Company", "Birthday", "Gender"]


def csv_bytes(rows, delimiter=",", encoding="utf-8"):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def upload(owner, name, content, entity="person"):
    return importing.import_upload(
        workspace=owner.workspace,
        actor=owner.user,
        uploaded_file=SimpleUploadedFile(name, content),
        entity=entity,
    )


@pytest.fixture
def run(django_capture_on_commit_callbacks, owner_a):
    """Start an import and let the task run, as the worker would, when the transaction commits."""

    def start(imported, mapping=None, duplicates="skip", valid_rows_only=False):
        with django_capture_on_commit_callbacks(execute=True):
            importing.import_start(
                import_=imported,
                mapping=mapping,
                duplicates=duplicates,
                valid_rows_only=valid_rows_only,
                actor=owner_a.user,
            )
        imported.refresh_from_db()
        return imported

    return start


def people():
    return {p.full_name: p for p in Person.objects.prefetch_related("emails", "phones", "tags", "addresses")}


# --- reading the file -----------------------------------------------------------------------------


def test_utf8_with_bom_and_semicolons_is_read_and_imported(owner_a, run):
    content = "\ufeff" + "First Name;Last Name;E-mail Address\nŞtefan;Ţurcanu;stefan@example.ro\n"
    imported = upload(owner_a, "people.csv", content.encode())

    assert imported.options["encoding"] == "utf-8-sig"
    assert imported.options["delimiter"] == ";"
    assert imported.options["headers"] == ["First Name", "Last Name", "E-mail Address"]
    run(imported)
    assert imported.status == ImportStatus.DONE
    assert "Ştefan Ţurcanu" in people()


@pytest.mark.parametrize("encoding", ["cp1250", "iso8859-2"])
def test_central_european_single_byte_files_keep_their_accents(owner_a, run, encoding):
    rows = [
        ["Vezetéknév", "Keresztnév", "Város"],
        ["Szabó", "Árpád", "Győr"],
        ["Kovács", "Ödön", "Hódmezővásárhely"],
        ["Ştefănescu", "Ţugui", "Timişoara"],
    ]
    imported = upload(owner_a, "emberek.csv", csv_bytes(rows, encoding=encoding))

    assert imported.options["encoding"] in ("cp1250", "iso8859-2")
    assert imported.options["suggested"] == {
        "Vezetéknév": "last_name",
        "Keresztnév": "first_name",
        "Város": "city",
    }
    run(imported)
    assert {"Árpád Szabó", "Ödön Kovács", "Ţugui Ştefănescu"} <= set(people())
    assert people()["Ödön Kovács"].addresses.all()[0].city == "Hódmezővásárhely"


def test_western_windows_1252_file(owner_a, run):
    rows = [["Nome", "Cognome", "Città"], ["Niccolò", "Bianchi", "Forlì"], ["José", "Müller", "Cantù"]]
    imported = upload(owner_a, "persone.csv", csv_bytes(rows, encoding="cp1252"))

    assert imported.options["encoding"] == "cp1252"
    run(imported)
    assert people()["Niccolò Bianchi"].addresses.all()[0].city == "Forlì"


def test_tab_delimited_text_and_quoted_commas(owner_a):
    tsv = upload(
        owner_a, "people.txt", csv_bytes([["Name", "Email"], ["Rossi, Maria", "m@example.it"]], "\t")
    )
    assert tsv.options["delimiter"] == "\t"
    quoted = upload(owner_a, "people.csv", csv_bytes([["Name", "Notes"], ["Maria Rossi", "a, b, c; d"]]))
    assert quoted.options["delimiter"] == ","
    assert quoted.options["headers"] == ["Name", "Notes"]


def test_blank_and_duplicate_column_names_get_names(owner_a):
    imported = upload(owner_a, "p.csv", b"Email,,Email\na@example.it,x,b@example.it\n")
    assert imported.options["headers"] == ["Email", "Column 2", "Email (2)"]
    assert imported.options["suggested"] == {"Email": "email", "Column 2": "", "Email (2)": "email"}


# --- refusals -------------------------------------------------------------------------------------


def refused(owner, name, content, code):
    with pytest.raises(ValidationFailed) as caught:
        upload(owner, name, content)
    assert caught.value.code == code, caught.value.message
    assert not Import.objects.exists()
    return caught.value.message


def test_a_file_named_xlsx_that_is_not_a_workbook_is_refused(owner_a):
    message = refused(owner_a, "contacts.xlsx", b"First name,Last name\nMaria,Rossi\n", "not_xlsx")
    assert "contacts.xlsx" in message and "not an Excel workbook" in message


def test_a_zip_that_is_not_a_workbook_is_refused(owner_a):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("notes.txt", "hello")
    refused(owner_a, "contacts.xlsx", archive.getvalue(), "not_xlsx")


def test_old_excel_binary_and_empty_files_are_refused(owner_a):
    assert ".xls" in refused(
        owner_a, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "unsupported_format"
    )
    refused(owner_a, "photo.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "unsupported_format")
    refused(owner_a, "empty.csv", b"", "file_empty")
    refused(owner_a, "blank.csv", b"\n\n  \n", "file_empty")
    assert "BEGIN:VCARD" in refused(owner_a, "cards.vcf", b"Name,Email\n", "not_vcard")


def test_an_oversized_upload_is_refused_before_it_is_read(owner_a):
    class HugeUpload(SimpleUploadedFile):
        def read(self, *args):
            raise AssertionError("a refused file must not be read")

    huge = HugeUpload("big.csv", b"Name\nx\n")
    huge.size = 200 * 1024 * 1024
    with pytest.raises(ValidationFailed) as caught:
        importing.import_upload(
            workspace=owner_a.workspace, actor=owner_a.user, uploaded_file=huge, entity="person"
        )
    assert caught.value.code == "file_too_large"
    assert "200 MB" in caught.value.message and "100 MB" in caught.value.message
    assert not Import.objects.exists()


def test_the_size_limit_is_a_setting(owner_a, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    refused(owner_a, "p.csv", b"Name\n" + b"Maria Rossi\n" * 200, "file_too_large")


def test_unknown_record_type_is_refused(owner_a):
    with pytest.raises(ValidationFailed) as caught:
        upload(owner_a, "p.csv", b"Name\nx\n", entity="deal")
    assert "entity" in caught.value.fields


# --- mapping suggestions --------------------------------------------------------------------------


def test_google_contacts_columns():
    headers = [
        "Name", "Given Name", "Additional Name", "Family Name", "Birthday", "Notes", "Group Membership",
        "E-mail 1 - Type", "E-mail 1 - Value", "E-mail 2 - Value", "Phone 1 - Type", "Phone 1 - Value",
        "Organization 1 - Name", "Organization 1 - Title", "Address 1 - Street", "Address 1 - City",
        "Address 1 - Postal Code", "Address 1 - Country",
    ]  # fmt: skip
    suggestion = importing.import_suggest_mapping(headers)
    assert suggestion == {
        "Name": "",  # first and last name columns are there
        "Given Name": "first_name",
        "Additional Name": "",
        "Family Name": "last_name",
        "Birthday": "birth_date",
        "Notes": "notes",
        "Group Membership": "tags",
        "E-mail 1 - Type": "",
        "E-mail 1 - Value": "email",
        "E-mail 2 - Value": "email",
        "Phone 1 - Type": "",
        "Phone 1 - Value": "phone",
        "Organization 1 - Name": "company",
        "Organization 1 - Title": "job_title",
        "Address 1 - Street": "street",
        "Address 1 - City": "city",
        "Address 1 - Postal Code": "postal_code",
        "Address 1 - Country": "country",
    }


def test_outlook_hubspot_and_salesforce_columns():
    outlook = importing.import_suggest_mapping(
        ["First Name", "Last Name", "E-mail Address", "E-mail 2 Address", "Mobile Phone", "Business Phone",
         "Company", "Job Title", "Business City", "Business Country/Region", "Home City", "Categories"]
    )  # fmt: skip
    assert outlook == {
        "First Name": "first_name",
        "Last Name": "last_name",
        "E-mail Address": "email",
        "E-mail 2 Address": "email",
        "Mobile Phone": "phone",
        "Business Phone": "phone",
        "Company": "company",
        "Job Title": "job_title",
        "Business City": "city",
        "Business Country/Region": "country",
        "Home City": "",  # one address: the first city column wins
        "Categories": "tags",
    }
    hubspot = importing.import_suggest_mapping(
        ["First Name", "Last Name", "Email", "Phone Number", "Company Name", "Lifecycle Stage",
         "Contact owner", "State/Region", "Original Source"]
    )  # fmt: skip
    assert list(hubspot.values()) == [
        "first_name", "last_name", "email", "phone", "company", "lifecycle_stage", "owner", "region",
        "source_channel",
    ]  # fmt: skip
    salesforce = importing.import_suggest_mapping(
        ["FirstName", "LastName", "Email", "Phone", "MobilePhone", "Account Name", "Title", "MailingStreet",
         "MailingCity", "MailingPostalCode", "MailingCountry", "LeadSource", "Birthdate", "Description"]
    )  # fmt: skip
    assert list(salesforce.values()) == [
        "first_name", "last_name", "email", "phone", "phone", "company", "job_title", "street", "city",
        "postal_code", "country", "source_channel", "birth_date", "notes",
    ]  # fmt: skip


def test_full_name_alone_custom_fields_and_local_names(owner_a):
    services.custom_field_create(
        workspace=owner_a.workspace, entity="person", label="Shoe size", type="number"
    )
    suggestion = importing.import_suggest_mapping(
        ["Nome e cognome", "Nominativo", "Cellulare", "Azienda", "Città", "CAP", "Shoe Size", "Mystery"],
        workspace=owner_a.workspace,
    )
    assert suggestion == {
        "Nome e cognome": "",
        "Nominativo": "full_name",
        "Cellulare": "phone",
        "Azienda": "company",
        "Città": "city",
        "CAP": "postal_code",
        "Shoe Size": "custom.shoe_size",
        "Mystery": "",
    }
    companies = importing.import_suggest_mapping(
        ["Company Name", "VAT number", "Website", "Email"], entity="company"
    )
    assert companies == {
        "Company Name": "name",
        "VAT number": "vat_number",
        "Website": "website",
        "Email": "email",
    }


# --- preview --------------------------------------------------------------------------------------

BAD_ROWS = [
    HEADER,
    ["Maria", "Rossi", "maria@example.it", "+39 333 123 4567", "Acme Srl", "12/03/1985", "F"],
    ["Ion", "Popescu", "not-an-email", "123", "", "31/02/1990", "maybe"],
    ["Too", "Many", "t@example.it", "", "", "", "", "surprise"],
    ["Too", "Few", "f@example.it"],
    ["", "", "", "", "", "", ""],
    ["Anna", "Nagy", "anna@example.hu", "06 30 123 4567", "", "1990-13-01", ""],
]


def test_preview_shows_every_problem_by_row_and_column(owner_a):
    imported = upload(owner_a, "people.csv", csv_bytes(BAD_ROWS))
    preview = importing.import_preview(import_=imported, mapping=imported.options["suggested"])

    by_row = {row.number: row for row in preview.rows}
    assert by_row[2].action == "create" and by_row[2].problems == {}
    assert by_row[3].action == "fail"
    assert by_row[3].problems == {
        "E-mail Address": ["“not-an-email” is not a valid email address."],
        "Mobile Phone": ["123 is not a possible phone number."],
        "Birthday": ["“31/02/1990” is not a real date."],
        "Gender": ["“maybe” is not one of: Female, Male, Non-binary, Prefer not to say."],
    }
    assert "has 8 values but the header has 7 columns" in by_row[4].problems[""][0]
    assert "ends before “Mobile Phone”" in by_row[5].problems["Mobile Phone"][0]
    assert 6 not in by_row  # an empty line is not a row
    assert "is not a real date" in by_row[7].problems["Birthday"][0]  # 13th month
    assert preview.problem_rows == 4
    assert not Person.objects.exists()


def test_preview_shows_what_duplicates_will_do(owner_a, make_person):
    make_person("Maria", "Rossi", emails=["maria@example.it"])
    imported = upload(owner_a, "people.csv", csv_bytes([*BAD_ROWS[:2], BAD_ROWS[1]]))

    skip = importing.import_preview(import_=imported, mapping=imported.options["suggested"])
    assert [(r.action, r.match) for r in skip.rows] == [("skip", "Maria Rossi"), ("skip", "Maria Rossi")]
    update = importing.import_preview(
        import_=imported, mapping=imported.options["suggested"], duplicates="update"
    )
    assert [r.action for r in update.rows] == ["update", "update"]
    create = importing.import_preview(
        import_=imported, mapping=imported.options["suggested"], duplicates="create"
    )
    assert [r.action for r in create.rows] == ["create", "create"]


def test_a_wrong_mapping_names_the_columns(owner_a):
    imported = upload(owner_a, "people.csv", csv_bytes(BAD_ROWS))
    with pytest.raises(ValidationFailed) as twice:
        importing.import_preview(
            import_=imported, mapping={"First Name": "first_name", "Last Name": "first_name"}
        )
    assert "already taken by the column “First Name”" in twice.value.fields["mapping.Last Name"][0]
    with pytest.raises(ValidationFailed) as nameless:
        importing.import_preview(import_=imported, mapping={"E-mail Address": "email"})
    assert "first name, the last name or the full name" in nameless.value.fields["mapping"][0]
    with pytest.raises(ValidationFailed) as unknown:
        importing.import_preview(import_=imported, mapping={"First Name": "first_name", "Nope": "email"})
    assert "mapping.Nope" in unknown.value.fields


# --- running --------------------------------------------------------------------------------------


def test_all_or_nothing_writes_nothing_when_a_row_fails_then_the_valid_rows_can_be_imported(owner_a, run):
    imported = upload(owner_a, "people.csv", csv_bytes(BAD_ROWS))
    run(imported)

    assert imported.status == ImportStatus.FAILED
    assert not Person.objects.exists() and not Company.objects.exists()
    assert imported.failed_count == 4 and imported.created_count == 0
    assert {(e["row"], e["column"]) for e in imported.errors} >= {
        (3, "E-mail Address"),
        (3, "Gender"),
        (4, ""),
    }

    run(imported, valid_rows_only=True)  # the same import, started again with the other choice
    assert imported.status == ImportStatus.DONE
    assert (imported.created_count, imported.skipped_count, imported.failed_count) == (1, 0, 4)
    assert imported.total_rows == imported.processed_rows == 5  # the empty line is not a row
    maria = people()["Maria Rossi"]
    assert maria.birth_date == dt.date(1985, 3, 12) and maria.gender == "female"
    assert maria.company.name == "Acme Srl" and maria.company.import_batch_id == imported.pk
    assert [p.e164 for p in maria.phones.all()] == ["+393331234567"]
    assert [e.email for e in maria.emails.all()] == ["maria@example.it"]
    assert maria.import_batch_id == imported.pk and "rossi" in maria.search_text


DUPLICATES = [
    ["First Name", "Last Name", "Email", "Phone", "Job Title", "Tags"],
    ["Maria", "Rossi", "MARIA@example.it", "+39 02 3661 8300", "Director", "VIP"],
    ["Luca", "Verdi", "", "+39 333 111 2222", "", "fair"],
    ["Luca", "Verdi", "luca@example.it", "0039 333 1112222", "Owner", "fair; Milan"],
]


@pytest.fixture
def existing_maria(make_person):
    return make_person("Maria", "Rossi", emails=["maria@example.it"], job_title="Buyer")


def test_duplicates_skip(owner_a, run, existing_maria):
    imported = run(upload(owner_a, "people.csv", csv_bytes(DUPLICATES)))
    assert (imported.created_count, imported.updated_count, imported.skipped_count) == (1, 0, 2)
    assert people()["Maria Rossi"].job_title == "Buyer"
    assert people()["Luca Verdi"].job_title == ""  # the later duplicate row was skipped


def test_duplicates_update_existing_records_and_earlier_rows(owner_a, run, existing_maria):
    imported = run(upload(owner_a, "people.csv", csv_bytes(DUPLICATES)), duplicates="update")

    assert (imported.created_count, imported.updated_count, imported.skipped_count) == (1, 2, 0)
    maria = people()["Maria Rossi"]
    assert maria.pk == existing_maria.pk and maria.job_title == "Director"
    assert [p.e164 for p in maria.phones.all()] == ["+390236618300"]
    assert [t.name for t in maria.tags.all()] == ["VIP"]
    luca = people()["Luca Verdi"]
    assert luca.job_title == "Owner" and [e.email for e in luca.emails.all()] == ["luca@example.it"]
    assert sorted(t.name for t in luca.tags.all()) == ["Milan", "fair"]
    event = AuditEvent.objects.get(action=importing.UPDATED_ACTION)
    assert event.target_id == str(imported.pk)
    assert event.data["before"] == {"job_title": "Buyer"}


def test_duplicates_create(owner_a, run, existing_maria):
    imported = run(upload(owner_a, "people.csv", csv_bytes(DUPLICATES)), duplicates="create")
    assert (imported.created_count, imported.updated_count, imported.skipped_count) == (3, 0, 0)
    assert Person.objects.filter(last_name="Rossi").count() == 2


def test_undo_removes_what_was_created_and_restores_what_was_changed(owner_a, run, existing_maria):
    services.custom_field_create(
        workspace=owner_a.workspace, entity="person", label="Shoe size", type="number"
    )
    rows = [
        [*DUPLICATES[0], "Company", "Shoe size"],
        [*DUPLICATES[1], "Nuova Spa", "38"],
        [*DUPLICATES[2], "", ""],
    ]
    imported = run(upload(owner_a, "people.csv", csv_bytes(rows)), duplicates="update")
    assert Company.objects.filter(name="Nuova Spa").exists()

    undone = importing.import_undo(import_=imported, actor=owner_a.user)

    assert undone.status == ImportStatus.UNDONE
    assert undone.options["undone"] == {
        **undone.options["undone"],
        "removed": 2,
        "restored": 1,
    }  # Luca, Nuova
    maria = people()["Maria Rossi"]
    assert maria.job_title == "Buyer" and maria.company is None and maria.custom == {}
    assert [e.email for e in maria.emails.all()] == ["maria@example.it"]
    assert not maria.phones.exists() and not maria.tags.exists()
    assert "director" not in maria.search_text
    assert set(people()) == {"Maria Rossi"}
    assert not Company.objects.exists()
    assert AuditEvent.objects.filter(action="import.undone", target_id=str(imported.pk)).exists()
    with pytest.raises(Conflict):
        importing.import_undo(import_=undone, actor=owner_a.user)


def test_a_task_delivered_twice_does_nothing_the_second_time(owner_a, run):
    imported = run(upload(owner_a, "people.csv", csv_bytes(BAD_ROWS[:2])))
    importing.import_run(import_=imported)
    assert imported.created_count == 1 and Person.objects.count() == 1
    with pytest.raises(Conflict):
        importing.import_start(import_=imported, mapping=imported.options["mapping"])


def test_a_killed_run_resumes_from_the_last_committed_batch(owner_a, run, monkeypatch):
    rows = [["Name", "Email"], *[[f"Person {i}", f"p{i}@example.it"] for i in range(7)]]
    imported = upload(owner_a, "people.csv", csv_bytes(rows))
    monkeypatch.setattr(importing, "BATCH_SIZE", 3)
    real_execute = importing._Writer.execute
    calls = []

    def dies_on_the_second_batch(self, plan):
        calls.append(len(plan.rows))
        if len(calls) == 2:
            raise KeyboardInterrupt  # the worker is killed: no handler runs
        return real_execute(self, plan)

    monkeypatch.setattr(importing._Writer, "execute", dies_on_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        run(imported, valid_rows_only=True)
    imported.refresh_from_db()
    assert imported.status == ImportStatus.RUNNING and imported.processed_rows == 3
    assert Person.objects.count() == 3

    importing.import_run(import_=imported)  # the task runs again

    assert imported.status == ImportStatus.DONE and imported.created_count == 7
    assert Person.objects.count() == 7


def test_all_or_nothing_removes_earlier_batches_when_a_write_fails(owner_a, run, monkeypatch):
    rows = [["Name", "Email"], *[[f"Person {i}", f"p{i}@example.it"] for i in range(5)]]
    imported = upload(owner_a, "people.csv", csv_bytes(rows))
    monkeypatch.setattr(importing, "BATCH_SIZE", 2)
    real_execute = importing._Writer.execute
    calls = []

    def fails_on_the_second_batch(self, plan):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_execute(self, plan)

    monkeypatch.setattr(importing._Writer, "execute", fails_on_the_second_batch)
    run(imported)  # the task fails (its result says so) after recording why on the import
    assert imported.status == ImportStatus.FAILED
    assert "disk full" in imported.errors[-1]["message"]
    assert imported.created_count == 0 and not Person.objects.exists()


def test_a_second_copy_of_the_task_stops_when_another_one_moved_on(owner_a, run, monkeypatch):
    imported = upload(owner_a, "people.csv", csv_bytes(BAD_ROWS[:2]))
    real_parse = importing._RowParser.parse

    def another_worker_commits_meanwhile(self, source):
        Import.objects.filter(pk=imported.pk).update(processed_rows=99)
        return real_parse(self, source)

    monkeypatch.setattr(importing._RowParser, "parse", another_worker_commits_meanwhile)
    run(imported)
    assert imported.processed_rows == 99 and imported.status == ImportStatus.RUNNING
    assert not Person.objects.exists()


def test_rows_in_many_batches_dedupe_across_batches(owner_a, run, monkeypatch):
    monkeypatch.setattr(importing, "BATCH_SIZE", 50)
    rows = [["First name", "Last name", "Email"]]
    rows += [[f"N{i}", "Test", f"n{i}@example.it"] for i in range(180)]
    rows.append(["N5", "Again", "n5@example.it"])  # same email as row 7, three batches later
    imported = run(upload(owner_a, "people.csv", csv_bytes(rows)), duplicates="update")

    assert (imported.created_count, imported.updated_count, imported.total_rows) == (180, 1, 181)
    assert Person.objects.get(emails__email="n5@example.it").last_name == "Again"


def test_xlsx_with_dates_numbers_and_a_short_row(owner_a, run):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["First name", "Last name", "Birth date", "Phone", "Employees"])
    sheet.append(["Maria", "Rossi", dt.datetime(1985, 3, 12), "+39 333 123 4567", 12.0])
    sheet.append(["Anna", "Nagy"])
    sheet.append([])
    sheet.append(["Luca", "Verdi", "1970-01-02", None])
    data = io.BytesIO()
    workbook.save(data)
    imported = upload(owner_a, "people.xlsx", data.getvalue())

    assert imported.options["format"] == "xlsx"
    assert imported.options["suggested"]["Employees"] == ""
    preview = importing.import_preview(import_=imported, mapping=imported.options["suggested"])
    assert [r.number for r in preview.rows] == [2, 3, 5]
    assert preview.rows[0].cells[:3] == ["Maria", "Rossi", "1985-03-12"]
    run(imported)
    assert people()["Maria Rossi"].birth_date == dt.date(1985, 3, 12)
    assert people()["Luca Verdi"].birth_date == dt.date(1970, 1, 2)
    assert imported.created_count == 3


def test_companies_are_imported_and_matched_by_vat_number(owner_a, run):
    existing = services.company_create(
        workspace=owner_a.workspace,
        actor=owner_a.user,
        attributes={"name": "Old Name", "vat_number": "IT00743110157"},
    )
    rows = [
        ["Company Name", "VAT number", "Website", "Number of employees", "Email"],
        ["Acme Srl", "00743110157", "acme.example", "35", "info@acme.example"],
        ["Beta Kft", "HU12892312", "https://beta.example", "1500", ""],
        ["Gamma", "IT123", "", "", ""],
    ]
    imported = run(
        upload(owner_a, "companies.csv", csv_bytes(rows), entity="company"),
        duplicates="update",
        valid_rows_only=True,
    )

    assert (imported.created_count, imported.updated_count, imported.failed_count) == (1, 1, 1)
    existing.refresh_from_db()
    assert (
        existing.name == "Acme Srl"
        and existing.website == "https://acme.example"
        and existing.size == "10-49"
    )
    beta = Company.objects.get(name="Beta Kft")
    assert beta.vat_number == "HU12892312" and beta.size == "1000+"
    assert imported.errors[0]["column"] == "VAT number" and imported.errors[0]["row"] == 4


def test_people_link_to_companies_by_name_whatever_the_case(owner_a, run):
    acme = services.company_create(workspace=owner_a.workspace, actor=None, attributes={"name": "Acme Srl"})
    rows = [
        ["Name", "Company"],
        ["Maria Rossi", "ACME SRL"],
        ["Luca Verdi", "Nuova Spa"],
        ["Anna Bo", "nuova spa"],
    ]
    imported = run(upload(owner_a, "people.csv", csv_bytes(rows)))

    assert people()["Maria Rossi"].company_id == acme.pk
    nuova = Company.objects.get(name="Nuova Spa")
    assert people()["Anna Bo"].company_id == nuova.pk and nuova.import_batch_id == imported.pk
    importing.import_undo(import_=imported, actor=owner_a.user)
    assert list(Company.objects.values_list("name", flat=True)) == ["Acme Srl"]


def test_owner_language_country_custom_fields_and_choices_by_label(owner_a, run, member_factory):
    colleague = member_factory(owner_a.workspace, email="anna@alpha.test")
    services.custom_field_create(
        workspace=owner_a.workspace, entity="person", label="Tier", type="choice", choices=["Gold", "Silver"]
    )
    services.custom_field_create(workspace=owner_a.workspace, entity="person", label="Since", type="date")
    rows = [
        ["Name", "Owner", "Language", "Country", "Tier", "Since", "Lifecycle stage", "Marital status"],
        [
            "Maria Rossi",
            "ANNA@alpha.test",
            "Italiano",
            "Olaszország",
            "Gold",
            "01/02/2020",
            "Customer",
            "Married",
        ],
        ["Luca Verdi", "nobody@x.test", "xx-XX", "Narnia", "Bronze", "soon", "MQL", "single"],
    ]
    imported = run(upload(owner_a, "people.csv", csv_bytes(rows)), valid_rows_only=True)

    maria = people()["Maria Rossi"]
    assert maria.owner_id == colleague.user_id and maria.language == "it"
    assert maria.addresses.all()[0].country == "IT"
    assert maria.custom == {"tier": "Gold", "since": "2020-02-01"}
    assert maria.lifecycle_stage == "customer" and maria.marital_status == "married"
    problems = {e["column"]: e["message"] for e in imported.errors}
    assert set(problems) == {"Owner", "Language", "Country", "Tier", "Since"}
    assert "not one of the choices" in problems["Tier"]


def test_a_quote_that_never_closes_stops_the_file_with_a_row_number(owner_a, run):
    content = b'Name,Email\nMaria Rossi,m@example.it\n"Broken,b@example.it\n' + b"x" * 200_000 + b"\n"
    imported = run(upload(owner_a, "people.csv", content), valid_rows_only=True)
    assert imported.created_count == 1
    assert (
        imported.errors[0]["row"] == 3 and "cannot be read from this row on" in imported.errors[0]["message"]
    )


def test_the_error_file_has_the_failed_rows_as_they_were_with_their_problems(owner_a, run):
    rows = [*BAD_ROWS[:3], ['=HYPERLINK("http://evil","x")', "Bad", "nope", "", "", "", ""]]
    imported = run(upload(owner_a, "people.csv", csv_bytes(rows)), valid_rows_only=True)

    text = b"".join(importing.import_errors_csv(import_=imported)).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["Row", "Problems", *HEADER]
    assert lines[1][0] == "3" and lines[1][2:4] == ["Ion", "Popescu"]
    assert "E-mail Address: “not-an-email” is not a valid email address." in lines[1][1]
    assert lines[2][2] == '\'=HYPERLINK("http://evil","x")'  # neutralised for spreadsheets
    assert len(lines) == 3


@pytest.mark.parametrize(
    ("text", "month_first", "expected"),
    [
        ("1985-03-12", False, dt.date(1985, 3, 12)),
        ("1985-03-12T00:00:00Z", False, dt.date(1985, 3, 12)),
        ("1985. 03. 12.", False, dt.date(1985, 3, 12)),
        ("19850312", False, dt.date(1985, 3, 12)),
        ("12/03/1985", False, dt.date(1985, 3, 12)),
        ("12.03.1985", False, dt.date(1985, 3, 12)),
        ("03/12/1985", True, dt.date(1985, 3, 12)),
        ("25/12/1985", True, dt.date(1985, 12, 25)),
        ("12/03/85", False, dt.date(1985, 3, 12)),
    ],
)
def test_dates_as_people_write_them(text, month_first, expected):
    assert importing.parse_date_text(text, month_first=month_first) == expected


@pytest.mark.parametrize("text", ["31/02/1990", "tomorrow", "--03-12", "1990-13-01"])
def test_impossible_dates_are_problems(text):
    with pytest.raises(importing._Invalid):
        importing.parse_date_text(text)


# --- retention ------------------------------------------------------------------------------------


def test_after_the_retention_period_the_file_and_quoted_problems_go_and_the_counts_stay(
    owner_a, run, settings, django_capture_on_commit_callbacks, api_for
):
    settings.IMPORT_RETENTION_DAYS = 30
    rows = [["Name", "Email"], ["Ada Byron", "ada@example.it"], ["Bad Row", "not an email"]]
    finished = run(upload(owner_a, "people.csv", csv_bytes(rows)), valid_rows_only=True)
    never_started = upload(owner_a, "later.csv", csv_bytes(rows))
    stored = finished.file.name
    storage = finished.file.storage
    assert finished.errors and storage.exists(stored)

    with django_capture_on_commit_callbacks(execute=True):
        assert importing.imports_purge(now=timezone.now() + dt.timedelta(days=29)) == {
            "files_removed": 0,
            "errors_removed": 0,
            "uploads_deleted": 0,
        }
        later = timezone.now() + dt.timedelta(days=31)
        assert importing.imports_purge(now=later) == {
            "files_removed": 1,
            "errors_removed": 1,
            "uploads_deleted": 1,
        }

    finished.refresh_from_db()
    assert not finished.file and not storage.exists(stored)
    assert finished.errors == [] and (finished.created_count, finished.failed_count) == (1, 1)
    assert finished.options["file_removed"]["reason"] == "retention"
    shown = api_for(owner_a).get(f"/api/v1/imports/{finished.pk}").json()
    assert shown["file_removed_at"] and shown["errors"] == [] and shown["created"] == 1
    assert not Import.objects.filter(pk=never_started.pk).exists()
    # the report still opens, its error file has no rows left to quote, and it cannot be run again
    assert b"".join(importing.import_errors_csv(import_=finished)).decode("utf-8-sig").count("\n") == 1
    Import.objects.filter(pk=finished.pk).update(status=ImportStatus.FAILED, created_count=0)
    finished.refresh_from_db()
    with pytest.raises(Conflict, match="removed"):
        importing.import_start(import_=finished, actor=owner_a.user)
