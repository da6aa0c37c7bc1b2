"""Forms for people and companies. They only collect input: the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clientela.contacts import services
from clientela.contacts.models import (
    Channel,
    Company,
    CompanySize,
    CustomField,
    CustomFieldType,
    Education,
    Gender,
    IncomeBand,
    LifecycleStage,
    MaritalStatus,
    Person,
)
from clientela.web.widgets import date_input, datetime_input
from clientela.workspaces.models import Workspace
from clientela.workspaces.selectors import member_list

BLANK: list[tuple[str, Any]] = [("", "—")]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


class CustomerForm(forms.Form):
    """Shared by people and companies: owner, contact points, tags, notes and custom fields."""

    entity = "person"
    attribute_names: tuple[str, ...] = ()
    sections: list[tuple[Any, list[str]]] = []

    emails = forms.CharField(
        label=_("Emails"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line; the first is the primary."),
    )
    phones = forms.CharField(
        label=_("Phones"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line, in any format."),
    )
    street = forms.CharField(label=_("Street"), required=False)
    postal_code = forms.CharField(label=_("Postal code"), required=False)
    city = forms.CharField(label=_("City"), required=False)
    country = forms.CharField(
        label=_("Country"), required=False, max_length=2, help_text=_("Two-letter code, e.g. IT, HU, RO.")
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separated by commas."))
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(
        self, *args: Any, workspace: Workspace, instance: Person | Company | None = None, **kwargs: Any
    ) -> None:
        self.workspace = workspace
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = self._initial(instance)
        super().__init__(*args, **kwargs)
        owner_field = self.fields["owner"]
        assert isinstance(owner_field, forms.ChoiceField)
        owner_field.choices = BLANK + [
            (str(m.user_id), str(m.user)) for m in member_list(workspace=workspace)
        ]
        self.custom_fields = list(
            CustomField.objects.filter(workspace=workspace, entity=self.entity, archived_at=None)
        )
        for custom_field in self.custom_fields:
            self.fields[f"custom_{custom_field.key}"] = self._custom_form_field(custom_field)

    def grouped_fields(self) -> list[tuple[Any, list[forms.BoundField]]]:
        """The visible fields by section, for the form page; custom fields get their own section."""
        groups = [
            (title, [self[name] for name in names if name in self.fields]) for title, names in self.sections
        ]
        placed = {name for _title, names in self.sections for name in names}
        rest = [self[name] for name in self.fields if name not in placed]
        if rest:
            groups.append((_("Custom fields"), rest))
        return [(title, fields) for title, fields in groups if fields]

    def _initial(self, instance: Person | Company) -> dict[str, Any]:
        initial: dict[str, Any] = {name: getattr(instance, name) for name in self.attribute_names}
        initial["owner"] = str(instance.owner_id or "")
        initial["notes"] = instance.notes
        initial["emails"] = "\n".join(e.email for e in instance.emails.all())
        initial["phones"] = "\n".join(p.raw for p in instance.phones.all())
        initial["tags"] = ", ".join(sorted(t.name for t in instance.tags.all()))
        address = instance.addresses.first()
        if address is not None:
            initial.update(
                street=address.street,
                postal_code=address.postal_code,
                city=address.city,
                country=address.country,
            )
        for key, value in instance.custom.items():
            initial[f"custom_{key}"] = value.get("amount") if isinstance(value, dict) else value
        return initial

    @staticmethod
    def _custom_form_field(custom_field: CustomField) -> forms.Field:
        label, kind = custom_field.label, custom_field.type
        choices = [(c, c) for c in custom_field.choices]
        if kind == CustomFieldType.LONG_TEXT:
            return forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": 2}))
        if kind in (CustomFieldType.NUMBER, CustomFieldType.MONEY):
            return forms.DecimalField(label=label, required=False)
        if kind == CustomFieldType.DATE:
            return forms.DateField(label=label, required=False, widget=date_input())
        if kind == CustomFieldType.BOOLEAN:
            return forms.BooleanField(label=label, required=False)
        if kind == CustomFieldType.CHOICE:
            return forms.ChoiceField(label=label, required=False, choices=BLANK + choices)
        if kind == CustomFieldType.MULTIPLE_CHOICE:
            return forms.MultipleChoiceField(label=label, required=False, choices=choices)
        if kind == CustomFieldType.LINK:
            return forms.URLField(label=label, required=False, assume_scheme="https")
        return forms.CharField(label=label, required=False)

    # What the services take ---------------------------------------------------------------------

    def attributes(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in self.attribute_names}
        data["owner"] = self.cleaned_data.get("owner") or None
        data["notes"] = self.cleaned_data.get("notes", "")
        return data

    def contact(self) -> services.ContactPoints:
        address = services.AddressInput(
            street=self.cleaned_data.get("street", ""),
            postal_code=self.cleaned_data.get("postal_code", ""),
            city=self.cleaned_data.get("city", ""),
            country=self.cleaned_data.get("country", ""),
        )
        has_address = any((address.street, address.postal_code, address.city, address.country))
        return services.ContactPoints(
            emails=_lines(self.cleaned_data.get("emails", "")),
            phones=[
                services.PhoneInput(number=p)
                for p in self.cleaned_data.get("phones", "").splitlines()
                if p.strip()
            ],
            addresses=[address] if has_address else [],
        )

    def tag_names(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data.get("tags", "").split(",") if t.strip()]

    def custom(self) -> dict[str, Any]:
        return {f.key: self.cleaned_data.get(f"custom_{f.key}") for f in self.custom_fields}

    def add_service_errors(self, fields: dict[str, list[str]], message: str) -> None:
        """Show a service's field errors on the matching form fields (others at the top)."""
        for name, messages in fields.items():
            target = name
            if name.startswith("custom."):
                target = f"custom_{name[7:]}"
            elif name == "addresses":
                target = "country"
            for text in messages:
                self.add_error(target if target in self.fields else None, text)
        if not fields:
            self.add_error(None, message)


class PersonForm(CustomerForm):
    entity = "person"
    attribute_names = (
        "first_name",
        "last_name",
        "company",
        "job_title",
        "birth_date",
        "gender",
        "marital_status",
        "income_band",
        "education",
        "language",
        "preferred_channel",
        "lifecycle_stage",
        "source_channel",
        "source_campaign",
        "source_keyword",
    )
    first_name = forms.CharField(label=_("First name"), required=False, max_length=100)
    last_name = forms.CharField(label=_("Last name"), required=False, max_length=100)
    company = forms.ChoiceField(label=_("Company"), required=False)
    job_title = forms.CharField(label=_("Job title"), required=False, max_length=120)
    lifecycle_stage = forms.ChoiceField(
        label=_("Lifecycle stage"), choices=LifecycleStage.choices, initial=LifecycleStage.LEAD
    )
    preferred_channel = forms.ChoiceField(
        label=_("Preferred channel"), choices=BLANK + Channel.choices, required=False
    )
    birth_date = forms.DateField(label=_("Birth date"), required=False, widget=date_input())
    gender = forms.ChoiceField(label=_("Gender"), choices=BLANK + Gender.choices, required=False)
    marital_status = forms.ChoiceField(
        label=_("Marital status"), choices=BLANK + MaritalStatus.choices, required=False
    )
    income_band = forms.ChoiceField(
        label=_("Income band"), choices=BLANK + IncomeBand.choices, required=False
    )
    education = forms.ChoiceField(label=_("Education"), choices=BLANK + Education.choices, required=False)
    language = forms.CharField(
        label=_("Language"), required=False, max_length=8, help_text=_("e.g. it, hu, ro, en")
    )
    source_channel = forms.CharField(label=_("Source channel"), required=False)
    source_campaign = forms.CharField(label=_("Source campaign"), required=False)
    source_keyword = forms.CharField(label=_("Source keyword"), required=False)

    sections = [
        (_("Who"), ["first_name", "last_name", "company", "job_title"]),
        (
            _("How to reach them"),
            ["emails", "phones", "preferred_channel", "street", "postal_code", "city", "country"],
        ),
        (
            _("Relationship"),
            ["lifecycle_stage", "owner", "tags", "source_channel", "source_campaign", "source_keyword"],
        ),
        (
            _("Profile"),
            ["birth_date", "gender", "marital_status", "income_band", "education", "language", "notes"],
        ),
    ]
    field_order = [
        "first_name",
        "last_name",
        "company",
        "job_title",
        "emails",
        "phones",
        "lifecycle_stage",
        "owner",
        "tags",
        "preferred_channel",
        "street",
        "postal_code",
        "city",
        "country",
        "birth_date",
        "gender",
        "marital_status",
        "income_band",
        "education",
        "language",
        "source_channel",
        "source_campaign",
        "source_keyword",
        "notes",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        companies = (
            Company.objects.filter(workspace=self.workspace).order_by("name").values_list("pk", "name")
        )
        company_field = self.fields["company"]
        assert isinstance(company_field, forms.ChoiceField)
        company_field.choices = BLANK + [(str(pk), name) for pk, name in companies[:2000]]
        if self.instance is not None:
            self.initial["company"] = str(getattr(self.instance, "company_id", "") or "")

    def attributes(self) -> dict[str, Any]:
        data = super().attributes()
        data["company"] = data.get("company") or None
        return data


class CompanyForm(CustomerForm):
    entity = "company"
    attribute_names = (
        "name",
        "legal_name",
        "vat_number",
        "industry",
        "size",
        "website",
        "lifecycle_stage",
        "source_channel",
        "source_campaign",
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    legal_name = forms.CharField(label=_("Legal name"), required=False, max_length=200)
    vat_number = forms.CharField(label=_("VAT number"), required=False, max_length=20)
    industry = forms.CharField(label=_("Industry"), required=False)
    size = forms.ChoiceField(label=_("Size"), choices=BLANK + CompanySize.choices, required=False)
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    lifecycle_stage = forms.ChoiceField(
        label=_("Lifecycle stage"), choices=BLANK + LifecycleStage.choices, required=False
    )
    source_channel = forms.CharField(label=_("Source channel"), required=False)
    source_campaign = forms.CharField(label=_("Source campaign"), required=False)

    sections = [
        (_("Company"), ["name", "legal_name", "vat_number", "industry", "size", "website"]),
        (_("How to reach them"), ["emails", "phones", "street", "postal_code", "city", "country"]),
        (
            _("Relationship"),
            ["lifecycle_stage", "owner", "tags", "source_channel", "source_campaign", "notes"],
        ),
    ]
    field_order = [
        "name",
        "legal_name",
        "vat_number",
        "industry",
        "size",
        "website",
        "emails",
        "phones",
        "lifecycle_stage",
        "owner",
        "tags",
        "street",
        "postal_code",
        "city",
        "country",
        "source_channel",
        "source_campaign",
        "notes",
    ]


class ConsentForm(forms.Form):
    """A consent decision from the card: the channel, granted or withdrawn, and where it comes from."""

    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    granted = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Granted")), ("0", _("Withdrawn"))],
        coerce=lambda value: value == "1",
    )
    source = forms.CharField(
        label=_("Source"), max_length=120, help_text=_("Where it comes from: a web form, a call, a letter…")
    )


class LogForm(forms.Form):
    """A quick action on the card: log a call, add a note, write a complaint, plan a follow-up."""

    kind = forms.ChoiceField(
        choices=[
            ("call", _("Call")),
            ("note", _("Note")),
            ("complaint", _("Complaint")),
            ("follow_up", _("Follow-up")),
            ("meeting", _("Meeting")),
        ]
    )
    subject = forms.CharField(label=_("Subject"), max_length=255, required=False)
    body = forms.CharField(label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    direction = forms.ChoiceField(
        label=_("Direction"),
        required=False,
        choices=[("", "—"), ("in", _("Inbound")), ("out", _("Outbound"))],
    )
    due_at = forms.DateTimeField(label=_("Due"), required=False, widget=datetime_input())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("subject") and not data.get("body"):
            raise forms.ValidationError(_("Write a subject or some details."))
        if data.get("kind") == "follow_up" and not data.get("due_at"):
            self.add_error("due_at", _("A follow-up needs a due date."))
        return data


class CustomFieldForm(forms.Form):
    entity = forms.ChoiceField(label=_("For"), choices=[("person", _("People")), ("company", _("Companies"))])
    label = forms.CharField(label=_("Label"), max_length=100)
    type = forms.ChoiceField(label=_("Type"), choices=CustomFieldType.choices)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        help_text=_("For choice fields: one per line."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SavedViewForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    shared = forms.BooleanField(label=_("Share with the workspace"), required=False)
    entity = forms.ChoiceField(
        choices=[("person", "person"), ("company", "company")], widget=forms.HiddenInput
    )
    query = forms.CharField(widget=forms.HiddenInput, required=False)
