"""Demo customers: realistic Italian, Hungarian, Romanian and English people and companies with history.

Rows are written in bulk (the search text is computed here, the SQLite FTS index follows by trigger),
so a few thousand customers load in seconds.
"""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from faker import Faker

from clientela.contacts.models import (
    Address,
    Channel,
    Company,
    CompanySize,
    Consent,
    Email,
    Gender,
    IncomeBand,
    LifecycleStage,
    Person,
    PersonTag,
    Phone,
    Tag,
)
from clientela.contacts.services import search_text_for
from clientela.core.text import fold
from clientela.timeline.models import Interaction
from clientela.workspaces.models import User, Workspace

LOCALES = {"it_IT": "IT", "hu_HU": "HU", "ro_RO": "RO", "en_US": "US"}
TAGS = ["VIP", "Newsletter", "Partner", "Trade fair 2026", "Key account", "Late payer"]
INDUSTRIES = ["Manufacturing", "Retail", "Construction", "Software", "Logistics", "Hospitality", "Healthcare"]
NOTES = {
    "call": ["Asked for a quote", "Follow-up on the offer", "Complained about delivery time", "Renewal talk"],
    "email": ["Sent the price list", "Question about the invoice", "Newsletter reply", "Meeting request"],
    "meeting": ["Demo at their office", "Quarterly review", "Kick-off meeting"],
    "note": ["Prefers calls in the morning", "Decision maker is the CFO", "Budget approved for Q1"],
    "complaint": ["Damaged goods on arrival", "Wrong invoice amount"],
    "order": ["Order of office supplies", "Annual maintenance contract"],
}


@transaction.atomic
def demo_customers(*, workspace: Workspace, owners: list[User], people: int = 2000, seed: int = 7) -> int:
    """Fill ``workspace`` with about ``people`` people, a company for every six, and their history."""
    if Person.objects.filter(workspace=workspace).exists():
        return 0
    rng = random.Random(seed)
    fakers = {locale: Faker(locale) for locale in LOCALES}
    for i, faker in enumerate(fakers.values()):
        faker.seed_instance(seed + i)
    now = timezone.now()
    tags = [Tag(workspace=workspace, name=name) for name in TAGS]
    Tag.objects.bulk_create(tags)

    companies = []
    for _ in range(people // 6):
        locale = rng.choice(list(LOCALES))
        name = fakers[locale].company()
        company = Company(
            workspace=workspace,
            name=name,
            industry=rng.choice(INDUSTRIES),
            size=rng.choice(CompanySize.values),
            owner=rng.choice(owners),
            lifecycle_stage=rng.choice(LifecycleStage.values),
            website=_website(name),
        )
        company.search_text = search_text_for(company, [])
        companies.append(company)
    Company.objects.bulk_create(companies, batch_size=500)

    persons, emails, phones, addresses, consents, person_tags = [], [], [], [], [], []
    for _ in range(people):
        locale = rng.choice(list(LOCALES))
        faker, region = fakers[locale], LOCALES[locale]
        employer: Company | None = rng.choice(companies) if rng.random() < 0.7 else None
        gender = rng.choice([Gender.FEMALE, Gender.MALE])
        first = faker.first_name_female() if gender == Gender.FEMALE else faker.first_name_male()
        person = Person(
            workspace=workspace,
            first_name=first,
            last_name=faker.last_name(),
            company=employer,
            job_title=faker.job()[:120] if employer else "",
            gender=gender,
            language=locale[:2],
            birth_date=faker.date_of_birth(minimum_age=20, maximum_age=75),
            income_band=rng.choice(IncomeBand.values),
            preferred_channel=rng.choice(Channel.values),
            lifecycle_stage=rng.choice(LifecycleStage.values),
            owner=rng.choice(owners),
            source_channel=rng.choice(["web form", "trade fair", "google ads", "referral", "cold call"]),
            source_campaign=rng.choice(["", "spring-promo", "black-friday", "newsletter-q3"]),
        )
        local_part = f"{fold(first).replace(' ', '.')}.{fold(person.last_name).replace(' ', '')}"
        email = f"{local_part}{rng.randint(1, 999)}@example.com"
        person.search_text = search_text_for(person, [email], employer.name if employer else "")
        persons.append((person, email, region, faker))
    Person.objects.bulk_create([p for p, *_ in persons], batch_size=500)

    for person, email, region, faker in persons:
        emails.append(Email(workspace=workspace, person=person, email=email, is_primary=True))
        phones.append(
            Phone(workspace=workspace, person=person, e164=_phone(rng, region), raw="", is_primary=True)
        )
        addresses.append(
            Address(
                workspace=workspace,
                person=person,
                street=faker.street_address()[:200],
                city=faker.city()[:100],
                postal_code=faker.postcode()[:20],
                country=region,
                is_primary=True,
            )
        )
        consents.append(
            Consent(
                workspace=workspace,
                person=person,
                channel=Channel.EMAIL,
                granted=rng.random() < 0.8,
                source="demo sign-up form",
                recorded_at=now - timedelta(days=rng.randint(1, 700)),
            )
        )
        for tag in rng.sample(tags, rng.choice([0, 0, 1, 1, 2])):
            person_tags.append(PersonTag(workspace=workspace, person=person, tag=tag))
    for phone in phones:
        phone.raw = phone.e164
    Email.objects.bulk_create(emails, batch_size=1000)
    Phone.objects.bulk_create(phones, batch_size=1000)
    Address.objects.bulk_create(addresses, batch_size=1000)
    Consent.objects.bulk_create(consents, batch_size=1000)
    PersonTag.objects.bulk_create(person_tags, batch_size=1000)
    Interaction.objects.bulk_create(
        _history(workspace, [p for p, *_ in persons], owners, rng, now), batch_size=1000
    )
    return len(persons)


def _phone(rng: random.Random, region: str) -> str:
    """A valid mobile number of the region (US numbers from the fictional 555-01xx range)."""
    prefix, digits = {"IT": ("+3934", 8), "HU": ("+3620", 7), "RO": ("+4072", 7), "US": ("+120255501", 2)}[
        region
    ]
    return prefix + "".join(str(rng.randint(0, 9)) for _ in range(digits))


def _history(
    workspace: Workspace,
    people: list[Person],
    owners: list[User],
    rng: random.Random,
    now: datetime,
) -> list[Interaction]:
    rows = []
    for person in people:
        for _ in range(rng.choice([0, 1, 2, 3, 5, 8])):
            kind = rng.choice(list(NOTES))
            rows.append(
                Interaction(
                    workspace=workspace,
                    person=person,
                    company_id=person.company_id,
                    kind=kind,
                    subject=rng.choice(NOTES[kind]),
                    actor=rng.choice(owners),
                    direction=rng.choice(["in", "out"]) if kind in ("call", "email") else "",
                    occurred_at=now - timedelta(days=rng.randint(0, 540), minutes=rng.randint(0, 1440)),
                )
            )
    return rows


def _website(name: str) -> str:
    """A valid address made of the company's name: "Szabó és Társa Kft." -> www.szaboestarsakft.example."""
    return f"https://www.{re.sub(r'[^a-z0-9]+', '', fold(name))[:20] or 'company'}.example"
