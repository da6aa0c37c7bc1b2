"""People and companies: the customers a workspace knows, with their ways of being reached.

Emails and phones live in their own tables (several per record, normalised and indexed for search and
dedupe). Custom field values live in ``custom`` (a JSON object keyed by the field's stable ``key``), so
renaming a field never touches data. ``deleted_at`` puts a record in the trash for 30 days.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from clientela.core.tenancy import WorkspaceScopedManager, WorkspaceScopedModel


class Gender(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    NONBINARY = "nonbinary", _("Non-binary")
    UNDISCLOSED = "undisclosed", _("Prefer not to say")


class MaritalStatus(models.TextChoices):
    SINGLE = "single", _("Single")
    MARRIED = "married", _("Married")
    PARTNERSHIP = "partnership", _("Civil partnership")
    DIVORCED = "divorced", _("Divorced")
    WIDOWED = "widowed", _("Widowed")


class IncomeBand(models.TextChoices):
    LOW = "low", _("Low")
    LOWER_MIDDLE = "lower_middle", _("Lower middle")
    MIDDLE = "middle", _("Middle")
    UPPER_MIDDLE = "upper_middle", _("Upper middle")
    HIGH = "high", _("High")


class Education(models.TextChoices):
    PRIMARY = "primary", _("Primary")
    SECONDARY = "secondary", _("Secondary")
    VOCATIONAL = "vocational", _("Vocational")
    BACHELOR = "bachelor", _("Bachelor's degree")
    MASTER = "master", _("Master's degree")
    DOCTORATE = "doctorate", _("Doctorate")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    MESSENGER = "messenger", _("Messenger")
    POST = "post", _("Post")


class LifecycleStage(models.TextChoices):
    SUBSCRIBER = "subscriber", _("Subscriber")
    LEAD = "lead", _("Lead")
    OPPORTUNITY = "opportunity", _("Opportunity")
    CUSTOMER = "customer", _("Customer")
    FORMER_CUSTOMER = "former_customer", _("Former customer")


class CompanySize(models.TextChoices):
    MICRO = "1-9", _("1-9 employees")
    SMALL = "10-49", _("10-49 employees")
    MEDIUM = "50-249", _("50-249 employees")
    LARGE = "250-999", _("250-999 employees")
    ENTERPRISE = "1000+", _("1,000+ employees")


class LiveManager(WorkspaceScopedManager):
    """Records of the active workspace that are not in the trash."""

    def get_queryset(self) -> models.QuerySet[Any]:
        return super().get_queryset().filter(deleted_at__isnull=True)


class Tag(WorkspaceScopedModel):
    name = models.CharField(_("name"), max_length=60)
    color = models.CharField(_("colour"), max_length=7, default="#6c757d")

    class Meta:
        verbose_name = _("tag")
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="tag_unique_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def workspace_key_without_index(*, db_constraint: bool = True) -> models.ForeignKey:
    """The ``workspace`` key of a table whose every index starts with the workspace already, so that a
    workspace-only index would be one more to write on every row (an import writes thousands a second)
    and never the best one to read, nor needed to delete a workspace's rows.

    Without ``db_constraint`` the table checks its workspace through a key of two columns instead, see
    ``ContactPoint``."""
    return models.ForeignKey(
        "workspaces.Workspace",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        editable=False,
        db_constraint=db_constraint,
    )


def key_index(name: str, key: str) -> models.Index:
    """The index of a foreign key that many rows leave empty, on the rows that have it. An import of
    people writes no owner, a person's emails no company: the rows without the key cost no index entry
    to write, and ``key = ...`` and ``key IN (...)`` still use the index (they imply ``IS NOT NULL``)."""
    return models.Index(fields=[key], condition=Q(**{f"{key}__isnull": False}), name=name)


class Customer(WorkspaceScopedModel):
    """What people and companies share: owner, source, tags, notes, custom values, trash."""

    workspace = workspace_key_without_index()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # key_index
    )
    notes = models.TextField(_("notes"), blank=True)
    source_channel = models.CharField(_("source channel"), max_length=60, blank=True)
    source_campaign = models.CharField(_("source campaign"), max_length=120, blank=True)
    source_keyword = models.CharField(_("source keyword"), max_length=120, blank=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    search_text = models.TextField(editable=False, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    import_batch = models.ForeignKey(
        "contacts.Import",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        db_index=False,  # key_index
    )

    objects: ClassVar[LiveManager] = LiveManager()
    with_trash: ClassVar[WorkspaceScopedManager] = WorkspaceScopedManager()

    class Meta:
        abstract = True
        default_manager_name = "objects"


class Company(Customer):
    name = models.CharField(_("name"), max_length=200)
    legal_name = models.CharField(_("legal name"), max_length=200, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=20, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    size = models.CharField(_("size"), max_length=10, choices=CompanySize.choices, blank=True)
    website = models.URLField(_("website"), blank=True)
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=20, choices=LifecycleStage.choices, blank=True
    )
    tags = models.ManyToManyField(Tag, through="CompanyTag", related_name="companies", blank=True)

    class Meta(Customer.Meta):
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        indexes = [
            models.Index(fields=["workspace", "name", "id"], name="company_ws_name"),
            models.Index(F("workspace"), Upper("name"), name="company_ws_name_ci"),  # name__iexact (import)
            models.Index(fields=["workspace", "vat_number"], name="company_ws_vat"),
            models.Index(fields=["workspace", "owner", "name", "id"], name="company_ws_owner"),
            models.Index(fields=["workspace", "-created_at", "-id"], name="company_ws_created"),
            key_index("company_owner", "owner"),
            key_index("company_import", "import_batch"),
        ]

    def __str__(self) -> str:
        return self.name


class Person(Customer):
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="people",
        db_index=False,  # key_index
    )
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=12, choices=Gender.choices, blank=True)
    marital_status = models.CharField(
        _("marital status"), max_length=12, choices=MaritalStatus.choices, blank=True
    )
    income_band = models.CharField(_("income band"), max_length=12, choices=IncomeBand.choices, blank=True)
    education = models.CharField(_("education"), max_length=12, choices=Education.choices, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, blank=True
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"),
        max_length=20,
        choices=LifecycleStage.choices,
        default=LifecycleStage.LEAD,
        blank=True,
    )
    tags = models.ManyToManyField(Tag, through="PersonTag", related_name="people", blank=True)

    class Meta(Customer.Meta):
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [
            models.Index(fields=["workspace", "last_name", "first_name", "id"], name="person_ws_name"),
            models.Index(
                fields=["workspace", "owner", "last_name", "first_name", "id"], name="person_ws_owner"
            ),
            models.Index(
                fields=["workspace", "lifecycle_stage", "last_name", "first_name", "id"],
                name="person_ws_stage",
            ),
            models.Index(fields=["workspace", "-created_at", "-id"], name="person_ws_created"),
            models.Index(
                fields=["workspace", "lifecycle_stage", "-created_at", "-id"], name="person_ws_stage_created"
            ),
            key_index("person_company", "company"),  # a company's people; deleting a company
            key_index("person_owner", "owner"),
            key_index("person_import", "import_batch"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part) or str(_("(no name)"))


class PersonTag(WorkspaceScopedModel):
    """A tag on a person. Two indexes serve every lookup: (person, tag) the tags of people, and
    (tag, person) the people with a tag; a person and a tag are of one workspace, so the workspace
    leads neither (it would only make an import write two more index entries per link)."""

    workspace = workspace_key_without_index(db_constraint=False)  # checked with the person, see ContactPoint
    person = models.ForeignKey(Person, on_delete=models.CASCADE, db_index=False, db_constraint=False)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "tag"], name="persontag_person_tag")]
        indexes = [models.Index(fields=["tag", "person"], name="persontag_tag_person")]


class CompanyTag(WorkspaceScopedModel):
    """A tag on a company, indexed like ``PersonTag``."""

    workspace = workspace_key_without_index(db_constraint=False)  # checked with the company
    company = models.ForeignKey(Company, on_delete=models.CASCADE, db_index=False, db_constraint=False)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "tag"], name="companytag_company_tag")]
        indexes = [models.Index(fields=["tag", "company"], name="companytag_tag_company")]


class ContactPoint(WorkspaceScopedModel):
    """An email, phone or address of a person or of a company (exactly one of the two).

    On PostgreSQL the row's owner is checked with its workspace, by a foreign key of two columns:
    (workspace, person) references the person's (workspace, id), and (workspace, company) the company's
    (migration 0010; tag links likewise). The database itself then refuses a contact point of one
    workspace on a person of another, and a new row costs one key check instead of two (an import
    writes hundreds of thousands). Django knows the two keys as keys without a constraint of their own;
    SQLite keeps the plain ones.
    """

    workspace = workspace_key_without_index(db_constraint=False)
    label = models.CharField(_("label"), max_length=30, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        abstract = True


class Email(ContactPoint):
    person = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="emails",
        db_index=False,
        db_constraint=False,
    )
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="emails",
        db_index=False,
        db_constraint=False,
    )
    email = models.EmailField(_("email"), max_length=254)  # lower-cased

    class Meta:
        verbose_name = _("email")
        indexes = [
            models.Index(fields=["workspace", "email"], name="email_ws_email"),
            key_index("email_person", "person"),
            key_index("email_company", "company"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=False) ^ models.Q(company__isnull=False),
                name="email_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.email


class Phone(ContactPoint):
    person = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="phones",
        db_index=False,
        db_constraint=False,
    )
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="phones",
        db_index=False,
        db_constraint=False,
    )
    e164 = models.CharField(_("phone"), max_length=20)
    raw = models.CharField(_("as entered"), max_length=40)

    class Meta:
        verbose_name = _("phone")
        indexes = [
            models.Index(fields=["workspace", "e164"], name="phone_ws_e164"),
            key_index("phone_person", "person"),
            key_index("phone_company", "company"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=False) ^ models.Q(company__isnull=False),
                name="phone_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.raw or self.e164


class Address(ContactPoint):
    person = models.ForeignKey(
        Person,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="addresses",
        db_index=False,
        db_constraint=False,
    )
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="addresses",
        db_index=False,
        db_constraint=False,
    )
    street = models.CharField(_("street"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)  # ISO 3166-1 alpha-2

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        indexes = [
            models.Index(fields=["workspace", "country", "city"], name="address_ws_place"),
            key_index("address_person", "person"),
            key_index("address_company", "company"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=False) ^ models.Q(company__isnull=False),
                name="address_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return ", ".join(p for p in (self.street, self.postal_code, self.city, self.country) if p)


class Consent(WorkspaceScopedModel):
    """Permission to contact a person on a channel: granted or withdrawn, with where and when it came from.

    Append-only: the latest row per channel is the current state; earlier rows are the evidence.
    """

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consents")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    granted = models.BooleanField(_("granted"))
    source = models.CharField(_("source"), max_length=120, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("consent")
        indexes = [models.Index(fields=["person", "channel", "-recorded_at"], name="consent_person_channel")]


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    NUMBER = "number", _("Number")
    MONEY = "money", _("Money")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")
    MULTIPLE_CHOICE = "multiple_choice", _("Multiple choice")
    BOOLEAN = "boolean", _("Yes/no")
    LINK = "link", _("Link")


class CustomField(WorkspaceScopedModel):
    """An admin-defined field. Values are stored under ``key``, which never changes after creation."""

    entity = models.CharField(_("record type"), max_length=20)  # "person", "company", later others
    key = models.SlugField(_("key"), max_length=60)
    label = models.CharField(_("label"), max_length=100)
    type = models.CharField(_("type"), max_length=20, choices=CustomFieldType.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("custom field")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "entity", "key"], name="customfield_unique_key"),
        ]
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label


class SavedView(WorkspaceScopedModel):
    """A named list configuration: filters, columns and sort, private to its owner or shared."""

    entity = models.CharField(max_length=20)
    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    shared = models.BooleanField(_("shared with the workspace"), default=False)
    query = models.JSONField(default=dict)  # {"filters": {...}, "columns": [...], "sort": "..."}
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("saved view")
        indexes = [models.Index(fields=["workspace", "entity", "owner"], name="savedview_ws_entity")]

    def __str__(self) -> str:
        return self.name


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    UNDONE = "undone", _("Undone")


class Import(WorkspaceScopedModel):
    """A file import the user watches: status, progress, counts and a downloadable error report."""

    entity = models.CharField(max_length=20, default="person")
    file = models.FileField(upload_to="imports/%Y/%m/")
    filename = models.CharField(max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
    options = models.JSONField(default=dict)  # mapping, duplicates policy, encoding, delimiter
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row": 3, "column": "email", "message": ...}]
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        indexes = [models.Index(fields=["workspace", "-created_at"], name="import_ws_created")]

    def __str__(self) -> str:
        return self.filename
