"""vCard: 2.1, 3.0 and 4.0 cards in one file, folding, quoted-printable, broken cards, export."""

import datetime as dt
import io

import pytest
import vobject
from django.core.files.uploadedfile import SimpleUploadedFile

from clientela.contacts import importing, services, vcard
from clientela.contacts.models import ImportStatus, Person, PersonTag
from clientela.contacts.services import AddressInput, ContactPoints

THREE_VERSIONS = (
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Szab=C3=B3;=C3=81rp=C3=A1d;;;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=81rp=C3=A1d Szab=C3=B3\r\n"
    "TEL;CELL;PREF:+36 30 123 4567\r\n"
    "TEL;WORK:+36 1 234 5678\r\n"
    "EMAIL;INTERNET:arpad@example.hu\r\n"
    "ADR;WORK;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:;;F=C5=91 utca 1.;Budapest;;1011;Magyarorsz=\r\n"
    "=C3=A1g\r\n"
    "NOTE;CHARSET=ISO-8859-2;ENCODING=QUOTED-PRINTABLE:Els=F5 sor=0D=0AM=E1sodik sor\r\n"
    "PHOTO;ENCODING=BASE64;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD\r\n"
    " /2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAx\r\n"
    "\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "N:Rossi;Maria;;;\r\n"
    "FN:Maria Rossi\r\n"
    "ORG:Acme\\, Srl;Sales\r\n"
    "TITLE:Buyer\r\n"
    "item1.EMAIL;TYPE=INTERNET,WORK:maria.rossi@example.it\r\n"
    "EMAIL;TYPE=INTERNET,HOME:maria@home.example\r\n"
    "TEL;TYPE=CELL:+39 333 123 4567\r\n"
    "NOTE:A long note that is folded across lines because it is longer than seventy-fi\r\n"
    " ve characters\\, really.\\nSecond line.\r\n"
    "BDAY:1985-03-12\r\n"
    "CATEGORIES:VIP,Milan\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:4.0\r\n"
    "FN:Ion Popescu\r\n"
    "N:Popescu;Ion;;;\r\n"
    "EMAIL;TYPE=work:ion@example.ro\r\n"
    'TEL;VALUE=uri;TYPE="voice,cell":tel:+40-721-123-456\r\n'
    "BDAY:19900101\r\n"
    "END:VCARD\r\n"
)


def cards(text):
    return list(vcard.iter_cards(io.StringIO(text)))


def test_three_versions_folded_lines_and_quoted_printable():
    arpad, maria, ion = cards(THREE_VERSIONS)

    assert arpad.problems == [] and maria.problems == [] and ion.problems == []
    assert arpad.values["First name"] == "Árpád" and arpad.values["Last name"] == "Szabó"
    assert arpad.values["Full name"] == "Árpád Szabó"
    assert arpad.values["Phones"] == "+36 30 123 4567; +36 1 234 5678"
    assert arpad.values["Street"] == "Fő utca 1." and arpad.values["City"] == "Budapest"
    assert arpad.values["Country"] == "Magyarország"  # the soft line break was joined
    assert arpad.values["Notes"] == "Első sor\r\nMásodik sor"  # ISO-8859-2 quoted-printable
    assert "Photo" not in arpad.values  # photos are ignored
    assert maria.values["Company"] == "Acme, Srl" and maria.values["Job title"] == "Buyer"
    assert maria.values["Emails"] == "maria.rossi@example.it; maria@home.example"
    assert maria.values["Notes"].startswith(
        "A long note that is folded across lines because it is longer than seventy-five"
    )
    assert maria.values["Notes"].endswith("really.\nSecond line.")
    assert maria.values["Birthday"] == "1985-03-12" and maria.values["Categories"] == "VIP; Milan"
    assert ion.values["Phones"] == "+40-721-123-456" and ion.values["Birthday"] == "1990-01-01"
    assert [c.number for c in (arpad, maria, ion)] == [1, 2, 3]


def test_a_broken_card_names_its_lines_and_the_others_are_still_read():
    text = (
        "BEGIN:VCARD\nVERSION:3.0\nFN:Good One\nN:One;Good;;;\nEND:VCARD\n"
        "this is not a property\n"
        "BEGIN:VCARD\nVERSION:5.0\nFN:Odd Version\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:Cut Short\nN:Short;Cut;;;\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:Last One\nN:One;Last;;;\n"
        "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=klingon:x\n"
    )
    good, odd, cut, last = cards(text)

    assert good.problems == []
    assert odd.problems[0] == ("", "Line 6 is not a vCard property: this is not a property")
    assert "version 5.0" in odd.problems[1][1]
    assert cut.values["Full name"] == "Cut Short"
    assert cut.problems == [("", "Line 15 starts a new card before END:VCARD.")]
    assert "no END:VCARD" in last.problems[0][1]
    assert last.problems[1] == ("Notes", "Line 19: unknown character set klingon")


@pytest.fixture
def run(django_capture_on_commit_callbacks, owner_a):
    def start(imported, **options):
        with django_capture_on_commit_callbacks(execute=True):
            importing.import_start(import_=imported, actor=owner_a.user, **options)
        imported.refresh_from_db()
        return imported

    return start


def upload(owner, name, content):
    return importing.import_upload(
        workspace=owner.workspace,
        actor=owner.user,
        uploaded_file=SimpleUploadedFile(name, content),
        entity="person",
    )


def test_a_vcard_file_goes_through_the_import_pipeline(owner_a, run):
    imported = upload(owner_a, "contacts.vcf", THREE_VERSIONS.encode())

    assert imported.options["format"] == "vcard"
    mapping = imported.options["suggested"]
    assert mapping["Full name"] == "" and mapping["First name"] == "first_name"
    assert {mapping[h] for h in ("Emails", "Phones", "Birthday", "Categories", "Company")} == {
        "email", "phone", "birth_date", "tags", "company",
    }  # fmt: skip
    run(imported)

    assert imported.status == ImportStatus.DONE and imported.created_count == 3
    arpad = Person.objects.get(last_name="Szabó")
    assert sorted(p.e164 for p in arpad.phones.all()) == ["+3612345678", "+36301234567"]
    assert arpad.addresses.get().country == "HU"
    maria = Person.objects.get(last_name="Rossi")
    assert maria.company.name == "Acme, Srl" and maria.birth_date == dt.date(1985, 3, 12)
    assert sorted(PersonTag.objects.filter(person=maria).values_list("tag__name", flat=True)) == [
        "Milan",
        "VIP",
    ]


def test_a_broken_card_fails_as_its_card_number(owner_a, run):
    text = (
        "BEGIN:VCARD\nVERSION:3.0\nN:Ok;Anna;;;\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nN:Bad;Bea;;;\nEMAIL:nope\n"  # no END:VCARD, a bad email
    )
    imported = run(upload(owner_a, "cards.vcf", text.encode()), valid_rows_only=True)

    assert (imported.created_count, imported.failed_count) == (1, 1)
    assert {(e["row"], e["column"]) for e in imported.errors} == {(2, ""), (2, "Emails")}


def test_a_cp1252_vcard_file_is_decoded(owner_a):
    imported = upload(
        owner_a, "card.vcf", "BEGIN:VCARD\nVERSION:2.1\nN:Müller;José\nEND:VCARD\n".encode("cp1252")
    )
    preview = importing.import_preview(import_=imported, mapping=imported.options["suggested"])
    assert preview.rows[0].cells[1:3] == ["José", "Müller"]


def test_export_is_vcard_3_that_other_software_and_our_importer_read_back(owner_a):
    person = services.person_create(
        workspace=owner_a.workspace,
        actor=owner_a.user,
        attributes={
            "first_name": "Ştefan",
            "last_name": "O'Brien; Jr",
            "job_title": "Head of sales, EMEA",
            "birth_date": dt.date(1980, 5, 17),
            "notes": "Line one\nLine two, a very long text that must be folded at seventy-five octets ő ű",
        },
        contact=ContactPoints(
            emails=["stefan@example.ro"],
            phones=["+40 721 123 456"],
            addresses=[AddressInput(street="Str. Lungă 5", city="Braşov", country="RO")],
        ),
        tags=["VIP", "Trade fair"],
    )
    person = Person.objects.prefetch_related("emails", "phones", "addresses", "tags").get(pk=person.pk)
    text = vcard.card_text(person)

    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    parsed = vobject.readOne(text)
    assert parsed.version.value == "3.0"
    assert parsed.n.value.family == "O'Brien; Jr" and parsed.n.value.given == "Ştefan"
    assert parsed.title.value == "Head of sales, EMEA"
    assert parsed.note.value.endswith("octets ő ű")
    (ours,) = cards(text)
    assert ours.problems == []
    assert ours.values["Last name"] == "O'Brien; Jr" and ours.values["City"] == "Braşov"
    assert ours.values["Phones"] == "+40721123456" and ours.values["Categories"] in (
        "VIP; Trade fair",
        "Trade fair; VIP",
    )
