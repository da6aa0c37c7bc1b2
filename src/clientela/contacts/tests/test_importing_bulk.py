"""Imports in batches: duplicates within and across batches, workspaces, the read-ahead thread, bulk
inserts, and the shortcuts that must give what the slow path gives (search text, plain emails)."""

import csv
import datetime as dt
import io
import random
import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.validators import validate_email
from django.db import connection

from clientela.contacts import importing, importing_bulk, services
from clientela.contacts.models import (
    Address,
    Company,
    Email,
    Import,
    ImportStatus,
    Person,
    PersonTag,
    Phone,
    Tag,
)
from clientela.core.models import AuditEvent
from clientela.core.tenancy import workspace_scope
from clientela.core.text import fold

HEADER = ["First name", "Last name", "Email", "Phone", "Job title", "Company", "Tags", "City"]


def csv_bytes(rows):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


def upload(owner, rows, entity="person"):
    return importing.import_upload(
        workspace=owner.workspace,
        actor=owner.user,
        uploaded_file=SimpleUploadedFile("people.csv", csv_bytes(rows)),
        entity=entity,
    )


@pytest.fixture
def run(django_capture_on_commit_callbacks, owner_a):
    """Start an import and let the task run when the transaction commits, as the worker would."""

    def start(imported, duplicates="skip", valid_rows_only=True):
        with django_capture_on_commit_callbacks(execute=True):
            importing.import_start(
                import_=imported, duplicates=duplicates, valid_rows_only=valid_rows_only, actor=owner_a.user
            )
        imported.refresh_from_db()
        return imported

    return start


@pytest.fixture
def batches_of(monkeypatch):
    def size(rows):
        monkeypatch.setattr(importing, "BATCH_SIZE", rows)

    return size


def row(first, last="", email="", phone="", job="", company="", tags="", city=""):
    return [first, last, email, phone, job, company, tags, city]


def counts(imported):
    return imported.created_count, imported.updated_count, imported.skipped_count


# --- duplicates in and across batches -------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "expected", "job"),
    [("skip", (1, 0, 1), ""), ("update", (1, 1, 0), "Boss"), ("create", (2, 0, 0), "")],
)
def test_a_duplicate_in_the_same_batch(owner_a, run, policy, expected, job):
    rows = [
        HEADER,
        row("Ada", "Byron", "ada@example.it"),
        row("Ada", "Lovelace", "ADA@example.it", job="Boss"),
    ]
    imported = run(upload(owner_a, rows), duplicates=policy)

    assert counts(imported) == expected
    first = Person.objects.order_by("id").first()
    assert first.job_title == job
    assert Email.objects.filter(email="ada@example.it").count() == expected[0]
    # the search text is the merged row's (worked out again after the merge)
    assert first.search_text == services.search_text_for(first, ["ada@example.it"], "")


@pytest.mark.parametrize(
    ("policy", "expected", "people"),
    [("skip", (2, 0, 1), 2), ("update", (2, 1, 0), 2), ("create", (3, 0, 0), 3)],
)
def test_a_duplicate_in_a_later_batch(owner_a, run, batches_of, policy, expected, people):
    batches_of(2)
    rows = [
        HEADER,
        row("Ada", "Byron", "ada@example.it", "333 111 2222"),
        row("Carlo", "Neri", "carlo@example.it"),
        row("Ada", "Lovelace", "", "+39 333 111 2222", job="Countess", tags="VIP"),  # same phone, batch 2
    ]
    imported = run(upload(owner_a, rows), duplicates=policy)

    assert counts(imported) == expected
    assert Person.objects.count() == people
    ada = Person.objects.get(emails__email="ada@example.it")
    if policy == "update":
        assert (ada.last_name, ada.job_title) == ("Lovelace", "Countess")
        assert [t.name for t in ada.tags.all()] == ["VIP"]
        assert list(ada.phones.values_list("e164", flat=True)) == ["+393331112222"]
    else:
        assert (ada.last_name, ada.job_title) == ("Byron", "")


def test_an_existing_record_updated_in_two_batches_is_undone_to_what_it_was(
    owner_a, run, batches_of, make_person
):
    batches_of(1)
    maria = make_person("Maria", "Rossi", emails=["maria@example.it"], job_title="Buyer")
    rows = [
        HEADER,
        row("Maria", "Rossi", "maria@example.it", "+39 02 3661 8300", job="Director"),
        row("Maria", "Rossi", "maria@example.it", job="CEO", tags="VIP", city="Milano"),
    ]
    imported = run(upload(owner_a, rows), duplicates="update")

    assert counts(imported) == (0, 2, 0)
    maria.refresh_from_db()
    assert maria.job_title == "CEO" and "ceo" in maria.search_text
    assert list(maria.phones.values_list("e164", flat=True)) == ["+390236618300"]
    assert [t.name for t in maria.tags.all()] == ["VIP"]
    assert AuditEvent.objects.filter(action=importing.UPDATED_ACTION, target_id=str(imported.pk)).count() == 2

    importing.import_undo(import_=imported, actor=owner_a.user)

    maria.refresh_from_db()
    assert maria.job_title == "Buyer" and "buyer" in maria.search_text
    assert not maria.phones.exists() and not maria.tags.exists() and not maria.addresses.exists()


def test_companies_are_created_once_across_batches_in_the_first_spelling(owner_a, run, batches_of):
    batches_of(1)
    rows = [
        HEADER,
        row("Ada", company="Nuova  Spa"),  # spaces are squeezed: "Nuova Spa"
        row("Bea", company="NUOVA SPA"),
        row("Cleo", company="nuova spa"),
    ]
    imported = run(upload(owner_a, rows))

    assert list(Company.objects.values_list("name", flat=True)) == ["Nuova Spa"]
    assert Person.objects.filter(company__name="Nuova Spa").count() == 3
    assert Company.objects.get().import_batch_id == imported.pk


def test_a_company_name_matches_the_same_spelling_first_then_the_oldest_in_another_case(owner_a, run):
    older = services.company_create(workspace=owner_a.workspace, actor=None, attributes={"name": "ACME SRL"})
    exact = services.company_create(workspace=owner_a.workspace, actor=None, attributes={"name": "Acme Srl"})
    run(upload(owner_a, [HEADER, row("Ada", company="Acme Srl")]))
    run(upload(owner_a, [HEADER, row("Bea", company="acme srl")]))

    assert Person.objects.get(first_name="Ada").company_id == exact.pk
    assert Person.objects.get(first_name="Bea").company_id == older.pk
    assert Company.objects.count() == 2


def test_everything_is_written_in_the_imports_workspace_and_other_workspaces_are_not_matched(
    owner_a, owner_b, run, make_person
):
    other = make_person("Maria", "Rossi", emails=["maria@example.it"], workspace=owner_b.workspace)
    with workspace_scope(owner_b.workspace):
        services.company_create(workspace=owner_b.workspace, actor=None, attributes={"name": "Acme Srl"})
    rows = [
        HEADER,
        row("Maria", "Bianchi", "maria@example.it", "+39 333 111 2222", "", "Acme Srl", "VIP", "Roma"),
    ]
    imported = run(upload(owner_a, rows), duplicates="update")

    assert counts(imported) == (1, 0, 0)
    workspace = owner_a.workspace
    for model in (Person, Company, Email, Phone, Address, PersonTag, Tag):
        mine = model.all_workspaces.filter(workspace=workspace)
        assert mine.count() == 1, model
    assert Email.all_workspaces.filter(email="maria@example.it").count() == 2
    other.refresh_from_db()
    assert other.last_name == "Rossi" and other.workspace_id == owner_b.workspace.pk
    assert Person.objects.get().company.workspace_id == workspace.pk


# --- the read-ahead thread --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_rows_are_parsed_in_a_thread_with_the_same_result(
    owner_a, batches_of, monkeypatch
):
    batches_of(4)
    monkeypatch.setattr(importing, "enqueue_on_commit", lambda *args, **kwargs: None)
    threads = set()
    real_parse = importing._RowParser.parse

    def parse(self, source):
        threads.add(threading.current_thread().name)
        return real_parse(self, source)

    monkeypatch.setattr(importing._RowParser, "parse", parse)
    rows = [HEADER, *[row(f"P{i}", "Test", f"p{i}@example.it", tags="A; B") for i in range(10)]]
    rows += [row("P3", "Again", "p3@example.it"), row("Bad", "Row", "not-an-email")]
    imported = importing.import_start(import_=upload(owner_a, rows), valid_rows_only=True, actor=owner_a.user)

    assert not connection.in_atomic_block
    importing.import_run(import_=imported)

    imported.refresh_from_db()
    assert threads == {"import-read-ahead"}
    assert imported.status == ImportStatus.DONE
    assert (imported.created_count, imported.skipped_count, imported.failed_count) == (10, 1, 1)
    assert imported.errors[0]["row"] == 13 and imported.errors[0]["column"] == "Email"
    assert PersonTag.objects.count() == 20
    assert "import-read-ahead" not in {t.name for t in threading.enumerate()}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("duplicates", ["skip", "update"])
def test_a_batch_looked_up_before_the_one_ahead_committed_still_finds_its_rows(
    owner_a, batches_of, make_person, monkeypatch, duplicates
):
    """The thread looks up the second batch on its own connection while the first is still uncommitted
    (forced here): what the first batch wrote must still count as there."""
    batches_of(2)
    monkeypatch.setattr(importing, "enqueue_on_commit", lambda *args, **kwargs: None)
    make_person("Old", "", emails=["old@example.it"])
    second_looked_up = threading.Event()
    real_look_up, real_execute = importing._Writer.look_up, importing._Writer.execute
    seen = []

    def look_up(self, rows):
        looked = real_look_up(self, rows)
        seen.append(looked.seen_batches)
        if len(seen) == 2:
            second_looked_up.set()
        return looked

    def execute(self, plan):
        counts = real_execute(self, plan)
        if self.batches_committed == 0:  # written, not committed: let the thread look the next batch up
            assert second_looked_up.wait(10)
        return counts

    monkeypatch.setattr(importing._Writer, "look_up", look_up)
    monkeypatch.setattr(importing._Writer, "execute", execute)
    rows = [
        HEADER,
        row("Anna", "New", "anna@example.it", company="Acme"),  # a new company, made by this batch
        row("Old", "", "old@example.it;old2@example.it"),  # updating, old2 is added to the existing Old
        row("Anna", "Again", "ANNA@example.it", company="ACME"),  # the second batch: all the first's
        row("Old", "", "old2@example.it", phone="+39 333 1234567"),
    ]
    imported = importing.import_start(
        import_=upload(owner_a, rows), duplicates=duplicates, valid_rows_only=True, actor=owner_a.user
    )
    importing.import_run(import_=imported)

    imported.refresh_from_db()
    assert seen[1] == 0  # the second batch was looked up before the first one was committed
    assert imported.status == ImportStatus.DONE
    assert list(Company.objects.values_list("name", flat=True)) == ["Acme"]
    assert Email.objects.filter(email="anna@example.it").count() == 1
    if duplicates == "skip":  # nothing was added to Old: old2 is somebody new
        assert counts(imported) == (2, 0, 2) and Person.objects.count() == 3
    else:
        assert Person.objects.count() == 2
        assert counts(imported) == (1, 3, 0)
        assert Person.objects.get(emails__email="old2@example.it").phones.get().e164 == "+393331234567"


@pytest.mark.django_db(transaction=True)
def test_a_failure_in_the_read_ahead_thread_fails_the_import(owner_a, batches_of, monkeypatch):
    batches_of(2)
    monkeypatch.setattr(importing, "enqueue_on_commit", lambda *args, **kwargs: None)
    real_parse = importing._RowParser.parse

    def parse(self, source):
        if source.number == 5:
            raise RuntimeError("the disk went away")
        return real_parse(self, source)

    monkeypatch.setattr(importing._RowParser, "parse", parse)
    rows = [HEADER, *[row(f"P{i}", "Test", f"p{i}@example.it") for i in range(6)]]
    imported = importing.import_start(import_=upload(owner_a, rows), valid_rows_only=True, actor=owner_a.user)

    with pytest.raises(RuntimeError, match="disk went away"):
        importing.import_run(import_=imported)

    imported.refresh_from_db()
    assert imported.status == ImportStatus.FAILED
    assert "disk went away" in imported.errors[-1]["message"]
    assert imported.processed_rows == 2 and Person.objects.count() == 2  # the first batch was committed
    assert "import-read-ahead" not in {t.name for t in threading.enumerate()}


# --- the writers (PostgreSQL) -----------------------------------------------------------------------

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="batches are written on two connections on PostgreSQL only"
)


def processed_rows(imported):
    return Import.objects.values_list("processed_rows", flat=True).get(pk=imported.pk)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_batches_are_written_at_once_on_two_connections_and_committed_in_file_order(
    owner_a, batches_of, monkeypatch
):
    """The second batch is written while the first is still being written, but commits after it."""
    batches_of(3)
    monkeypatch.setattr(importing, "enqueue_on_commit", lambda *args, **kwargs: None)
    second_written = threading.Event()
    writers, progress_when_second_written = set(), []
    real_execute = importing._Writer.execute

    def execute(self, plan):
        writers.add(threading.current_thread().name)
        counts = real_execute(self, plan)
        if plan.number == 0:  # the first batch waits for the second to be written before it commits
            assert second_written.wait(10)
        elif plan.number == 1:
            progress_when_second_written.append(processed_rows(imported))
            second_written.set()
        return counts

    monkeypatch.setattr(importing._Writer, "execute", execute)
    rows = [HEADER, *[row(f"P{i}", "Test", f"p{i}@example.it", company=f"Firm {i % 4}") for i in range(8)]]
    rows.append(row("P1", "Again", "P1@example.it"))  # a duplicate of a row of the first batch
    imported = importing.import_start(import_=upload(owner_a, rows), valid_rows_only=True, actor=owner_a.user)
    importing.import_run(import_=imported)

    imported.refresh_from_db()
    assert len(writers) == 2 and all(name.startswith("import-writer") for name in writers)
    assert progress_when_second_written == [0]  # written, and waiting for the first batch to commit
    assert imported.status == ImportStatus.DONE and counts(imported) == (8, 0, 1)
    assert imported.processed_rows == 9 and Person.objects.count() == 8
    assert Company.objects.count() == 4 and Email.objects.count() == 8
    assert "import-writer" not in " ".join(t.name for t in threading.enumerate())


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_batch_written_after_one_that_fails_is_rolled_back_too(owner_a, batches_of, monkeypatch):
    """The second batch is fully written when the first fails: it must not commit, so that the progress
    still covers a prefix of the file and a new run goes on from there."""
    batches_of(2)
    monkeypatch.setattr(importing, "enqueue_on_commit", lambda *args, **kwargs: None)
    second_written = threading.Event()
    real_execute = importing._Writer.execute

    def execute(self, plan):
        counts = real_execute(self, plan)
        if plan.number == 0:
            assert second_written.wait(10)
            raise RuntimeError("the connection was lost")
        second_written.set()
        return counts

    monkeypatch.setattr(importing._Writer, "execute", execute)
    rows = [HEADER, *[row(f"P{i}", "Test", f"p{i}@example.it") for i in range(4)]]
    imported = importing.import_start(import_=upload(owner_a, rows), valid_rows_only=True, actor=owner_a.user)

    with pytest.raises(RuntimeError, match="connection was lost"):
        importing.import_run(import_=imported)

    imported.refresh_from_db()
    assert imported.status == ImportStatus.FAILED and imported.processed_rows == 0
    assert not Person.objects.exists() and not Email.objects.exists()
    assert "connection was lost" in imported.errors[-1]["message"]


# --- bulk inserts ---------------------------------------------------------------------------------


def test_bulk_insert_gives_ids_in_order_and_defaults_to_what_a_row_leaves_out(owner_a, make_person):
    gone = make_person("Gone", "Soon")
    gone_id = gone.pk
    Person.with_trash.filter(pk=gone_id).delete()  # a deleted newest id is never given again
    workspace_id = owner_a.workspace.pk
    rows = [
        {"workspace_id": workspace_id, "first_name": "Ada", "birth_date": dt.date(1815, 12, 10)},
        {"workspace_id": workspace_id, "first_name": "Bea", "custom": {"tier": "gold"}},
        {"workspace_id": workspace_id, "first_name": "Cleo", "lifecycle_stage": "customer"},
    ]
    importing_bulk.bulk_insert(Person, rows, ids=True)

    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows) and rows[0]["id"] > gone_id
    saved = {p.pk: p for p in Person.objects.all()}
    assert [saved[r["id"]].first_name for r in rows] == ["Ada", "Bea", "Cleo"]
    ada, bea, cleo = (saved[r["id"]] for r in rows)
    assert ada.birth_date == dt.date(1815, 12, 10) and ada.custom == {} and ada.lifecycle_stage == "lead"
    assert bea.custom == {"tier": "gold"} and cleo.lifecycle_stage == "customer"
    assert ada.created_at is not None and ada.created_at == ada.updated_at and ada.deleted_at is None


def test_bulk_insert_leaves_out_conflicting_rows_and_refuses_unknown_columns(owner_a, make_person):
    person = make_person()
    tag = services.tag_get_or_create(workspace=owner_a.workspace, name="VIP")
    link = {"workspace_id": owner_a.workspace.pk, "person_id": person.pk, "tag_id": tag.pk}
    importing_bulk.bulk_insert(PersonTag, [link, dict(link)], ignore_conflicts=True)
    importing_bulk.bulk_insert(PersonTag, [dict(link)], ignore_conflicts=True)
    assert PersonTag.objects.count() == 1

    with pytest.raises(ValueError, match="no column for nickname"):
        importing_bulk.bulk_insert(Person, [{"workspace_id": owner_a.workspace.pk, "nickname": "x"}])
    with pytest.raises(ValueError):
        importing_bulk.bulk_insert(PersonTag, [dict(link)], ids=True, ignore_conflicts=True)


def test_bulk_update_writes_the_fields_of_each_record_and_nothing_else(owner_a, make_person):
    ada = make_person("Ada", "Byron", job_title="Countess")
    bea = make_person("Bea", "Neri", job_title="Clerk")
    acme = services.company_create(workspace=owner_a.workspace, actor=None, attributes={"name": "Acme"})
    ada.birth_date, ada.custom, ada.company_id, ada.job_title = (
        dt.date(1815, 12, 10),
        {"tier": "gold"},
        acme.pk,
        "X",
    )
    bea.birth_date, bea.last_name, bea.job_title = None, "Rossi", "Y"
    importing_bulk.bulk_update(Person, [ada, bea], ["birth_date", "custom", "company_id", "last_name"])

    ada.refresh_from_db()
    bea.refresh_from_db()
    assert (ada.birth_date, ada.custom, ada.company_id, ada.last_name) == (
        dt.date(1815, 12, 10),
        {"tier": "gold"},
        acme.pk,
        "Byron",
    )
    assert (bea.birth_date, bea.custom, bea.company_id, bea.last_name) == (None, {}, None, "Rossi")
    assert (ada.job_title, bea.job_title) == ("Countess", "Clerk")  # not among the fields


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_sqlite_statistics_are_taken_for_a_table_without_them(owner_a, make_person):
    make_person(emails=["a@example.it"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone():
            cursor.execute("DELETE FROM sqlite_stat1 WHERE tbl = 'contacts_email'")
        importing_bulk.refresh_statistics([Email])
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'contacts_email'")
        assert cursor.fetchone()[0] > 0
        cursor.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM contacts_email "
            "WHERE workspace_id = %s AND email IN (%s, %s, %s)",
            [owner_a.workspace.pk, "a@example.it", "b@example.it", "c@example.it"],
        )
        assert "email_ws_email" in " ".join(str(step) for step in cursor.fetchall())


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_an_import_leaves_no_pending_entries_in_the_search_indexes(owner_a, run):
    rows = [HEADER, *(row(f"Name{n}", "Rossi", f"n{n}@example.it", company=f"Firm {n}") for n in range(50))]
    imported = run(upload(owner_a, rows))
    assert imported.created_count == 50

    def pending_pages(index):  # what cleaning the list now finds in it
        with connection.cursor() as cursor:
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
            return cursor.fetchone()[0]

    assert pending_pages("contacts_person_search_trgm") == 0
    assert pending_pages("contacts_company_search_trgm") == 0
    # A bulk write without the import's last step does leave some.
    importing_bulk.bulk_insert(
        Person, [{"workspace_id": owner_a.workspace.pk, "first_name": "Ugo", "search_text": "ugo"}]
    )
    assert pending_pages("contacts_person_search_trgm") > 0


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_sqlite_memory_map_is_off_while_an_import_writes_and_back_after(db):
    def mmap_size():
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA mmap_size")
            return cursor.fetchone()[0]

    before = mmap_size()
    with importing_bulk.without_memory_map():
        assert mmap_size() == 0
    assert mmap_size() == before


# --- shortcuts that must agree with the slow path -------------------------------------------------

_TRICKY = list("aZ ßøđłæœıİΣσς\u0301\u0308éÉ-.@+_,;:!?'\"()\t\n\u00a0\u2003ﬁ①²Ǆ한中ŞşȚț")


def test_search_text_folded_part_by_part_is_the_whole_text_folded():
    rng = random.Random(7)
    for _ in range(20_000):
        parts = ["".join(rng.choices(_TRICKY, k=rng.randint(0, 6))) for _ in range(4)]
        emails = ["".join(rng.choices(_TRICKY, k=rng.randint(0, 6))) for _ in range(rng.randint(0, 2))]
        expected = fold(" ".join([*parts, *emails]))
        assert services.person_search_text(*parts, emails) == expected
        assert services.person_search_text(*parts, emails, fold_part=lambda text: fold(text)) == expected


def test_an_email_the_quick_check_accepts_is_one_django_accepts():
    rng = random.Random(11)
    accepted = 0
    for _ in range(50_000):
        local = "".join(rng.choices("az09._+-é'", k=rng.randint(1, 8)))
        domain = "".join(rng.choices("az09.-é", k=rng.randint(1, 10)))
        email = f"{local}@{domain}{rng.choice(['', '.it', '.c0', '.i', '-'])}"
        if importing._PLAIN_EMAIL.fullmatch(email):
            accepted += 1
            try:
                validate_email(email)
            except ValidationError:
                pytest.fail(f"{email!r} passes the quick check but not Django's")
    assert accepted > 100
    assert importing._PLAIN_EMAIL.fullmatch("maria.rossi+news@mail.example.co.uk")
    for email in ("a@b", "a@-b.it", "a@b-.it", "a..b@c.it", "a@b.i", "a@b.c0m", "ä@b.it"):
        assert not importing._PLAIN_EMAIL.fullmatch(email)


def test_an_import_row_keeps_every_problem_and_its_place(owner_a, run):
    rows = [HEADER, row("Ada", "", "ada(at)example.it", "12"), row("", "", "", "", "Clerk")]
    imported = run(upload(owner_a, rows))

    assert (imported.created_count, imported.failed_count) == (0, 2)
    assert {(e["row"], e["column"]) for e in imported.errors} == {
        (2, "Email"),
        (2, "Phone"),
        (3, "First name"),
    }
    assert Import.objects.get().errors == imported.errors


def test_a_national_phone_is_read_in_the_rows_country(owner_a, run):
    rows = [
        ["First name", "Phone", "Country"],  # the phone column comes before the country
        ["Anna", "06 1 234 5678", "Magyarország"],
        ["Mario", "02 3661 8300", ""],  # no country: the workspace's (Italy)
    ]
    imported = run(upload(owner_a, rows))
    assert imported.created_count == 2, imported.errors
    phones = dict(Phone.objects.values_list("person__first_name", "e164"))
    assert phones == {"Anna": "+3612345678", "Mario": "+390236618300"}


def test_two_imports_writing_at_once_put_the_cycle_collector_back_as_it_was():
    import gc

    before = gc.get_threshold()
    first, second = importing._fewer_collections(), importing._fewer_collections()
    first.__enter__()
    assert gc.get_threshold()[0] == importing.YOUNG_OBJECTS != before[0]
    second.__enter__()
    first.__exit__(None, None, None)  # the first to start ends first: the second still writes
    assert gc.get_threshold()[0] == importing.YOUNG_OBJECTS != before[0]
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
