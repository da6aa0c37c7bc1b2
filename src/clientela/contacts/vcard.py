"""vCard in and out.

Reading accepts versions 2.1, 3.0 and 4.0: several cards per file, folded lines, QUOTED-PRINTABLE values
(with their soft line breaks) in any CHARSET, bare 2.1 parameters (``TEL;CELL``) and ``tel:`` URIs.
Each card becomes one row with the columns in ``HEADERS``, so a vCard goes through the same mapping,
preview, duplicate handling and report as a spreadsheet. Photos (and other embedded binaries) are
ignored: a person has no picture in Clientela.

Writing produces vCard 3.0, the version Outlook, Google Contacts and Apple Contacts all import
(Outlook does not read 4.0).
"""

from __future__ import annotations

import quopri
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from clientela.contacts.models import Person

HEADERS = [
    "Full name",
    "First name",
    "Last name",
    "Company",
    "Job title",
    "Emails",
    "Phones",
    "Street",
    "City",
    "Region",
    "Postal code",
    "Country",
    "Birthday",
    "Notes",
    "Categories",
]
VERSIONS = {"2.1", "3.0", "4.0"}
IGNORED = {"PHOTO", "LOGO", "SOUND", "KEY", "AGENT"}
MAX_LINE = 75  # octets, before folding


@dataclass
class Card:
    """One parsed card: its position in the file, its values by ``HEADERS`` column, and its problems."""

    number: int
    line: int
    values: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, message)

    @property
    def cells(self) -> list[str]:
        return [self.values.get(header, "") for header in HEADERS]


@dataclass
class _Property:
    name: str
    params: dict[str, list[str]]
    value: str
    line: int


def looks_like_vcard(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n")[:11].upper() == "BEGIN:VCARD"


def iter_cards(lines: Iterable[str]) -> Iterator[Card]:
    """Cards of a decoded vCard text, one at a time (a file of any size is read as a stream).

    A broken card is still yielded, with its problems naming the line; the cards around it are read.
    """
    card: Card | None = None
    properties: list[_Property] = []
    number = 0
    stray: list[tuple[str, str]] = []
    for prop in _properties(lines, stray):
        if prop.name == "BEGIN" and prop.value.strip().upper() == "VCARD":
            if card is not None:
                card.problems.append(
                    ("", _("Line %(line)s starts a new card before END:VCARD.") % {"line": prop.line})
                )
                yield _finish(card, properties)
            number += 1
            card, properties = Card(number=number, line=prop.line), []
            card.problems.extend(stray)
            stray.clear()
        elif prop.name == "END" and prop.value.strip().upper() == "VCARD":
            if card is None:
                stray.append(("", _("Line %(line)s: END:VCARD without BEGIN:VCARD.") % {"line": prop.line}))
                continue
            yield _finish(card, properties)
            card = None
        elif card is None:
            stray.append(
                (
                    "",
                    _("Line %(line)s is outside any card (BEGIN:VCARD ... END:VCARD).") % {"line": prop.line},
                )
            )
        else:
            properties.append(prop)
    if card is not None:
        card.problems.append(
            (
                "",
                _("The card starting on line %(line)s has no END:VCARD: the file may be cut short.")
                % {"line": card.line},
            )
        )
        yield _finish(card, properties)
    elif stray:
        yield Card(number=number + 1, line=0, problems=list(stray))


def _properties(lines: Iterable[str], problems: list[tuple[str, str]]) -> Iterator[_Property]:
    """Unfold lines (RFC folding and quoted-printable soft breaks) and parse each content line."""
    pending: str | None = None
    pending_line = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if pending is not None and line[:1] in (" ", "\t") and not _is_qp_soft(pending):
            pending += line[1:]
            continue
        if pending is not None and _is_qp_soft(pending):
            pending = pending[:-1] + line
            continue
        if pending is not None and line.strip() and ":" not in line and _is_base64(pending):
            pending += line.strip()  # vCard 2.1 base64 (a photo) may continue without indentation
            continue
        if pending is not None:
            prop = _parse(pending, pending_line, problems)
            if prop is not None:
                yield prop
        pending, pending_line = (line, number) if line.strip() else (None, 0)
    if pending is not None:
        prop = _parse(pending, pending_line, problems)
        if prop is not None:
            yield prop


def _is_qp_soft(line: str) -> bool:
    return line.endswith("=") and "QUOTED-PRINTABLE" in line.split(":", 1)[0].upper()


def _is_base64(line: str) -> bool:
    head = line.split(":", 1)[0].upper()
    return "BASE64" in head or "ENCODING=B" in head


def _parse(line: str, number: int, problems: list[tuple[str, str]]) -> _Property | None:
    head, sep, value = _split_unquoted(line, ":")
    if not sep or not head.strip():
        problems.append(
            ("", _("Line %(line)s is not a vCard property: %(text)s") % {"line": number, "text": line[:60]})
        )
        return None
    parts = _split_all_unquoted(head, ";")
    name = parts[0].rsplit(".", 1)[-1].strip().upper()  # drop the group ("item1.EMAIL")
    params: dict[str, list[str]] = {}
    for part in parts[1:]:
        key, has_value, raw = part.partition("=")
        if has_value:
            values = [v.strip().strip('"') for v in _split_all_unquoted(raw, ",")]
            params.setdefault(key.strip().upper(), []).extend(values)
        elif key.strip().upper() in ("QUOTED-PRINTABLE", "BASE64", "8BIT"):
            params.setdefault("ENCODING", []).append(key.strip())
        else:  # vCard 2.1 bare type: TEL;CELL;WORK
            params.setdefault("TYPE", []).append(key.strip())
    return _Property(name=name, params=params, value=value, line=number)


def _split_unquoted(text: str, separator: str) -> tuple[str, str, str]:
    quoted = False
    for index, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            return text[:index], separator, text[index + 1 :]
    return text, "", ""


def _split_all_unquoted(text: str, separator: str) -> list[str]:
    parts = []
    while True:
        head, sep, text = _split_unquoted(text, separator)
        parts.append(head)
        if not sep:
            return parts


def _finish(card: Card, properties: list[_Property]) -> Card:
    version = next((p.value.strip() for p in properties if p.name == "VERSION"), "")
    if version and version not in VERSIONS:
        card.problems.append(
            (
                "",
                _("Card %(card)s has vCard version %(version)s; versions 2.1, 3.0 and 4.0 are supported.")
                % {"card": card.number, "version": version[:10]},
            )
        )
    emails: list[str] = []
    phones: list[str] = []
    notes: list[str] = []
    categories: list[str] = []
    values = card.values
    for prop in properties:
        if prop.name in IGNORED or prop.name == "VERSION":
            continue
        try:
            text = _decode(prop)
        except ValueError as exc:
            card.problems.append(
                (_column_of(prop.name), _("Line %(line)s: %(problem)s") % {"line": prop.line, "problem": exc})
            )
            continue
        if prop.name == "FN":
            values.setdefault("Full name", _unescape(text))
        elif prop.name == "N":
            parts = [_unescape(p) for p in _split_structured(text)] + [""] * 5
            values.setdefault("Last name", parts[0])
            values.setdefault("First name", " ".join(p for p in (parts[1], parts[2]) if p))
        elif prop.name == "ORG":
            values.setdefault("Company", _unescape(_split_structured(text)[0]))
        elif prop.name == "TITLE":
            values.setdefault("Job title", _unescape(text))
        elif prop.name == "EMAIL":
            emails.append(_unescape(text).removeprefix("mailto:"))
        elif prop.name == "TEL":
            phones.append(_tel(_unescape(text)))
        elif prop.name == "ADR" and "Street" not in values and "City" not in values:
            parts = [_unescape(p) for p in _split_structured(text)] + [""] * 7
            values["Street"] = ", ".join(p for p in (parts[2], parts[1]) if p)
            values["City"], values["Region"] = parts[3], parts[4]
            values["Postal code"], values["Country"] = parts[5], parts[6]
        elif prop.name == "BDAY":
            values.setdefault("Birthday", _birthday(_unescape(text)))
        elif prop.name == "NOTE":
            notes.append(_unescape(text))
        elif prop.name == "CATEGORIES":
            categories.extend(_unescape(c) for c in _split_list(text) if c.strip())
    values["Emails"] = "; ".join(e.strip() for e in emails if e.strip())
    values["Phones"] = "; ".join(p.strip() for p in phones if p.strip())
    values["Notes"] = "\n".join(n for n in notes if n)
    values["Categories"] = "; ".join(c.strip() for c in categories)
    for key, value in list(values.items()):
        values[key] = value.strip()
    return card


def _column_of(name: str) -> str:
    return {
        "FN": "Full name",
        "N": "Last name",
        "ORG": "Company",
        "TITLE": "Job title",
        "EMAIL": "Emails",
        "TEL": "Phones",
        "ADR": "Street",
        "BDAY": "Birthday",
        "NOTE": "Notes",
        "CATEGORIES": "Categories",
    }.get(name, "")


def _decode(prop: _Property) -> str:
    encodings = {e.upper() for e in prop.params.get("ENCODING", [])}
    if "QUOTED-PRINTABLE" not in encodings:
        return prop.value
    charset = (prop.params.get("CHARSET") or ["utf-8"])[0]
    data = quopri.decodestring(prop.value.encode("latin-1", errors="replace"))
    try:
        return data.decode(charset)
    except LookupError:
        raise ValueError(_("unknown character set %(charset)s") % {"charset": charset[:30]}) from None
    except UnicodeDecodeError:
        raise ValueError(
            _("the quoted-printable text is not valid %(charset)s") % {"charset": charset[:30]}
        ) from None


_ESCAPES = re.compile(r"\\(.)", re.DOTALL)


def _unescape(text: str) -> str:
    return _ESCAPES.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def _split_structured(text: str) -> list[str]:
    return re.split(r"(?<!\\);", text)


def _split_list(text: str) -> list[str]:
    return re.split(r"(?<!\\),", text)


def _tel(text: str) -> str:
    text = text.strip()
    if text.lower().startswith("tel:"):
        text = text[4:].split(";", 1)[0]
    return text


def _birthday(text: str) -> str:
    compact = text.strip().split("T", 1)[0]
    if re.fullmatch(r"\d{8}", compact):
        return f"{compact[:4]}-{compact[4:6]}-{compact[6:]}"
    return compact


# --- writing --------------------------------------------------------------------------------------


def export_cards(people: Iterable[Person]) -> Iterator[str]:
    """vCard 3.0 text, one card per person (emails, phones, addresses and tags prefetched)."""
    for person in people:
        yield card_text(person)


def card_text(person: Person) -> str:
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"UID:clientela-person-{person.pk}",
        f"FN:{_escape(person.full_name)}",
        f"N:{_escape(person.last_name)};{_escape(person.first_name)};;;",
    ]
    if person.company_id and person.company is not None:
        lines.append(f"ORG:{_escape(person.company.name)}")
    if person.job_title:
        lines.append(f"TITLE:{_escape(person.job_title)}")
    for index, email in enumerate(person.emails.all()):
        lines.append(f"EMAIL;TYPE=INTERNET{',PREF' if index == 0 else ''}:{_escape(email.email)}")
    for phone in person.phones.all():
        kind = phone.label.upper() if phone.label.upper() in ("CELL", "WORK", "HOME", "FAX") else "VOICE"
        lines.append(f"TEL;TYPE={kind}:{_escape(phone.e164)}")
    for address in person.addresses.all():
        parts = ["", "", address.street, address.city, address.region, address.postal_code, address.country]
        lines.append("ADR:" + ";".join(_escape(p) for p in parts))
    if person.birth_date:
        lines.append(f"BDAY:{person.birth_date.isoformat()}")
    if person.notes:
        lines.append(f"NOTE:{_escape(person.notes)}")
    tags = [t.name for t in person.tags.all()]
    if tags:
        lines.append("CATEGORIES:" + ",".join(_escape(t) for t in tags))
    lines.append(f"REV:{timezone.now():%Y-%m-%dT%H:%M:%SZ}")
    lines.append("END:VCARD")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace("\r\n", "\n")
        .replace("\n", "\\n")
        .replace(";", "\\;")
        .replace(",", "\\,")
    )


def _fold(line: str) -> str:
    """Fold at 75 octets without splitting a UTF-8 character (RFC 6350 section 3.2)."""
    if len(line.encode()) <= MAX_LINE:
        return line
    pieces: list[str] = []
    current, size, limit = "", 0, MAX_LINE
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, MAX_LINE - 1  # continuation lines start with a space
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)
