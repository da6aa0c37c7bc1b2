"""Forms for billing pages. They only collect input; the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from clientela.billing.models import (
    CommissionBasis,
    CommissionPeriod,
    CommissionSource,
    PaymentKind,
    ProductKind,
    RoundingChoice,
    RoundingScopeChoice,
    TaxCategory,
)
from clientela.web.widgets import date_input

TAXED = [c for c in TaxCategory.choices if c[0] != TaxCategory.EXEMPT]


class ServiceErrorsMixin:
    """Put a service's ``ValidationFailed`` field errors on the form's fields (others on top)."""

    def add_service_errors(self, fields: dict[str, list[str]], message: str) -> None:
        form: Any = self
        if not fields:
            form.add_error(None, message)
        for name, messages in fields.items():
            for text in messages:
                form.add_error(name if name in form.fields else None, text)


class OwnIdsMixin:
    """Field ids of the form's own (``id_prefix`` + name): the settings page shows several forms with
    fields of the same names, and a label must point at its own form's field."""

    id_prefix = "id_"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}%s")
        super().__init__(*args, **kwargs)


class ProductForm(ServiceErrorsMixin, forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=ProductKind.choices)
    unit = forms.CharField(label=_("Unit"), max_length=20, initial="pc", help_text=_("e.g. pc, h, kg, month"))
    price = forms.DecimalField(label=_("Default price (net)"), min_value=0, decimal_places=6)
    cost = forms.DecimalField(label=_("Unit cost"), min_value=0, decimal_places=6, initial=0)
    tax_category = forms.ChoiceField(label=_("Tax category"), choices=TaxCategory.choices)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    active = forms.BooleanField(label=_("Active (can be sold)"), required=False, initial=True)


class PriceListForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    currency = forms.CharField(
        label=_("Currency"), max_length=3, help_text=_("Three letters, e.g. EUR, HUF, RON.")
    )
    customer_group = forms.CharField(
        label=_("Customer group"), max_length=60, required=False, help_text=_("Empty: every customer.")
    )
    valid_from = forms.DateField(label=_("Valid from"), required=False, widget=date_input())
    valid_to = forms.DateField(label=_("Valid to"), required=False, widget=date_input())
    prices_include_tax = forms.BooleanField(label=_("Prices include VAT (gross)"), required=False)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class PriceListItemForm(ServiceErrorsMixin, forms.Form):
    product = forms.ChoiceField(label=_("Product"))
    min_quantity = forms.DecimalField(label=_("From quantity"), min_value=0, initial=1)
    unit_price = forms.DecimalField(label=_("Unit price"), min_value=0, decimal_places=6)

    def __init__(self, *args: Any, products: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["product"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(str(p.pk), str(p)) for p in products]


class BillingSettingsForm(ServiceErrorsMixin, forms.Form):
    country = forms.CharField(
        label=_("Tax country"), max_length=2, help_text=_("Where the workspace charges VAT.")
    )
    rounding_scope = forms.ChoiceField(label=_("Rounding"), choices=RoundingScopeChoice.choices)
    rounding_mode = forms.ChoiceField(label=_("Rounding mode"), choices=RoundingChoice.choices)
    payment_terms_days = forms.IntegerField(label=_("Payment terms (days)"), min_value=0, max_value=3650)
    quote_validity_days = forms.IntegerField(label=_("Quotes valid for (days)"), min_value=1, max_value=3650)
    quote_terms = forms.CharField(
        label=_("Default quote terms"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    seller_name = forms.CharField(
        label=_("Legal name"),
        required=False,
        max_length=200,
        help_text=_("As it is printed on quotes, invoices and credit notes."),
    )
    seller_address = forms.CharField(
        label=_("Address"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    seller_vat_number = forms.CharField(label=_("VAT number"), required=False, max_length=30)
    mailer = forms.CharField(
        label=_("Mailer"),
        required=False,
        max_length=60,
        help_text=_("A configured mailer alias; empty for the default."),
    )


class TaxRateForm(OwnIdsMixin, ServiceErrorsMixin, forms.Form):
    id_prefix = "tax_"

    country = forms.CharField(label=_("Country"), max_length=2)
    category = forms.ChoiceField(label=_("Tax category"), choices=TAXED)
    rate = forms.DecimalField(label=_("Rate (%)"), min_value=0, max_value=99, decimal_places=3)
    valid_from = forms.DateField(label=_("Valid from"), widget=date_input())
    valid_to = forms.DateField(label=_("Valid to"), required=False, widget=date_input())
    name = forms.CharField(label=_("Name"), required=False, max_length=100)


class ExchangeRateForm(OwnIdsMixin, ServiceErrorsMixin, forms.Form):
    id_prefix = "rate_"

    currency = forms.CharField(label=_("Currency"), max_length=3)
    valid_on = forms.DateField(label=_("Date"), widget=date_input())
    rate = forms.DecimalField(
        label=_("Rate"),
        min_value=0,
        decimal_places=8,
        help_text=_("Workspace currency for one unit of the currency."),
    )


class ExchangeRateImportForm(OwnIdsMixin, forms.Form):
    id_prefix = "import_"

    file = forms.FileField(label=_("CSV file"), help_text=_("Columns: date, currency, rate."))


class PaymentForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=PaymentKind.choices)
    amount = forms.DecimalField(label=_("Amount"), decimal_places=4)
    paid_on = forms.DateField(label=_("Date"), widget=date_input())
    method = forms.CharField(
        label=_("Method"), required=False, max_length=40, help_text=_("e.g. bank transfer, card")
    )
    reference = forms.CharField(label=_("Reference"), required=False, max_length=100)
    as_credit = forms.BooleanField(label=_("Keep any excess as the customer's credit"), required=False)


class AccountForm(ServiceErrorsMixin, forms.Form):
    customer_group = forms.CharField(label=_("Customer group"), required=False, max_length=60)
    credit_limit = forms.DecimalField(
        label=_("Credit limit"), required=False, min_value=0, help_text=_("Empty: no limit.")
    )
    payment_terms_days = forms.IntegerField(
        label=_("Payment terms (days)"),
        required=False,
        min_value=0,
        help_text=_("Empty: the workspace's default."),
    )


class CommissionPlanForm(OwnIdsMixin, ServiceErrorsMixin, forms.Form):
    id_prefix = "plan_"

    name = forms.CharField(label=_("Name"), max_length=100)
    basis = forms.ChoiceField(label=_("Percentage of"), choices=CommissionBasis.choices)
    source = forms.ChoiceField(label=_("Counted on"), choices=CommissionSource.choices)
    period = forms.ChoiceField(label=_("Period"), choices=CommissionPeriod.choices)
    tiers = forms.CharField(
        label=_("Tiers"),
        widget=forms.Textarea(attrs={"rows": 3}),
        initial="0: 3\n50000: 5",
        help_text=_(
            "One per line, 'from amount: percent'. '0: 3' and '50000: 5' pay 3 % up to 50,000 and 5 % above."
        ),
    )
    members = forms.MultipleChoiceField(label=_("Members"), widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, members: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["members"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(str(m.user_id), str(m.user)) for m in members]

    def tier_pairs(self) -> list[tuple[str, str]]:
        pairs = []
        for line in self.cleaned_data["tiers"].splitlines():
            if line.strip():
                start, _sep, rate = line.partition(":")
                pairs.append((start.strip().replace(" ", ""), rate.strip().rstrip("%").strip()))
        return pairs
