"""Billing: the catalogue, prices, taxes, currencies, documents (quotes, orders, invoices, credit notes),
payments, customer credit and commissions.

Money is ``Decimal`` with an explicit currency; every rounding rule lives in ``core/money.py``. A document
keeps the rounding it was totalled with, so a later change of the workspace's settings never changes an
issued invoice. Quotes, orders, invoices and credit notes share one table (``Document``, told apart by
``kind``): they have the same lines and totals, and each is made from the one before it.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from clientela.core.money import Rounding, RoundingScope
from clientela.core.tenancy import WorkspaceScopedModel

ZERO = Decimal("0")


def money_field(verbose_name: str | object, **kwargs: object) -> models.DecimalField:
    """An amount rounded to its currency (up to 4 minor digits), up to 99 trillion."""
    return models.DecimalField(verbose_name, max_digits=18, decimal_places=4, default=ZERO, **kwargs)  # type: ignore[arg-type]


def unit_field(verbose_name: str | object, **kwargs: object) -> models.DecimalField:
    """A unit price or cost: more digits than money, so that totals are computed from exact values."""
    return models.DecimalField(verbose_name, max_digits=20, decimal_places=6, default=ZERO, **kwargs)  # type: ignore[arg-type]


def percent_field(verbose_name: str | object, **kwargs: object) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=7, decimal_places=3, default=ZERO, **kwargs)  # type: ignore[arg-type]


# --- settings -------------------------------------------------------------------------------------


class RoundingScopeChoice(models.TextChoices):
    LINE = RoundingScope.LINE.value, _("Per line")
    DOCUMENT = RoundingScope.DOCUMENT.value, _("Per document")


class RoundingChoice(models.TextChoices):
    HALF_UP = Rounding.HALF_UP.value, _("Half up (0.005 → 0.01)")
    HALF_EVEN = Rounding.HALF_EVEN.value, _("Half even (banker's rounding)")


class BillingSettings(WorkspaceScopedModel):
    """How a workspace bills: its tax country, rounding, default terms and the mailer for documents."""

    country = models.CharField(_("tax country"), max_length=2, help_text=_("Two-letter code, e.g. IT."))
    rounding_scope = models.CharField(
        _("rounding"), max_length=10, choices=RoundingScopeChoice.choices, default=RoundingScope.LINE
    )
    rounding_mode = models.CharField(
        _("rounding mode"), max_length=10, choices=RoundingChoice.choices, default=Rounding.HALF_UP
    )
    payment_terms_days = models.PositiveIntegerField(_("payment terms (days)"), default=30)
    quote_validity_days = models.PositiveIntegerField(_("quotes valid for (days)"), default=30)
    quote_terms = models.TextField(_("default quote terms"), blank=True)
    # Who issues the documents, as invoices must say: legal name, address and VAT number.
    seller_name = models.CharField(_("legal name"), max_length=200, blank=True)
    seller_address = models.TextField(_("address"), blank=True)
    seller_vat_number = models.CharField(_("VAT number"), max_length=30, blank=True)
    mailer = models.CharField(
        _("mailer"), max_length=60, blank=True, help_text=_("A MAILERS alias; empty for the default.")
    )

    class Meta:
        verbose_name = _("billing settings")
        verbose_name_plural = _("billing settings")
        constraints = [models.UniqueConstraint(fields=["workspace"], name="billingsettings_one")]


# --- catalogue ------------------------------------------------------------------------------------


class TaxCategory(models.TextChoices):
    STANDARD = "standard", _("Standard rate")
    REDUCED = "reduced", _("Reduced rate")
    REDUCED_2 = "reduced_2", _("Second reduced rate")
    SUPER_REDUCED = "super_reduced", _("Super-reduced rate")
    EXEMPT = "exempt", _("Exempt")


class ProductKind(models.TextChoices):
    PRODUCT = "product", _("Product")
    SERVICE = "service", _("Service")


class Product(WorkspaceScopedModel):
    """Something a workspace sells. ``price`` is the default net price in the workspace's currency;
    price lists override it per currency, customer group, date and quantity."""

    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(
        _("kind"), max_length=10, choices=ProductKind.choices, default=ProductKind.PRODUCT
    )
    unit = models.CharField(_("unit"), max_length=20, default="pc")
    cost = unit_field(_("unit cost"))
    price = unit_field(_("default price"))
    tax_category = models.CharField(
        _("tax category"), max_length=16, choices=TaxCategory.choices, default=TaxCategory.STANDARD
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("product")
        constraints = [models.UniqueConstraint(fields=["workspace", "code"], name="product_unique_code")]
        indexes = [models.Index(fields=["workspace", "active", "name"], name="product_ws_active_name")]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class PriceList(WorkspaceScopedModel):
    """Prices in one currency, for everyone or one customer group, valid between two dates."""

    name = models.CharField(_("name"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3)
    customer_group = models.CharField(
        _("customer group"), max_length=60, blank=True, help_text=_("Empty: every customer.")
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    prices_include_tax = models.BooleanField(_("prices include tax"), default=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("price list")
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="pricelist_unique_name")]
        indexes = [models.Index(fields=["workspace", "currency", "active"], name="pricelist_ws_currency")]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


class PriceListItem(WorkspaceScopedModel):
    """A product's unit price from ``min_quantity`` up (quantity breaks are several items)."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    min_quantity = models.DecimalField(
        _("from quantity"), max_digits=14, decimal_places=4, default=Decimal(1)
    )
    unit_price = unit_field(_("unit price"))

    class Meta:
        verbose_name = _("price")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "price_list", "product", "min_quantity"], name="pricelistitem_unique"
            )
        ]
        indexes = [
            models.Index(fields=["price_list", "product", "min_quantity"], name="pricelistitem_lookup")
        ]


class TaxRate(WorkspaceScopedModel):
    """A VAT rate of a country and tax category, valid from a date until another (or for good)."""

    country = models.CharField(_("country"), max_length=2)
    category = models.CharField(_("tax category"), max_length=16, choices=TaxCategory.choices)
    rate = models.DecimalField(_("rate (%)"), max_digits=6, decimal_places=3)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("tax rate")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "country", "category", "valid_from"], name="taxrate_unique_start"
            )
        ]
        ordering = ["country", "category", "-valid_from"]

    def __str__(self) -> str:
        return f"{self.country} {self.get_category_display()} {self.rate.normalize():f}%"


class ExchangeRate(WorkspaceScopedModel):
    """How many units of ``base_currency`` (the workspace's) one unit of ``currency`` was worth."""

    base_currency = models.CharField(_("base currency"), max_length=3)
    currency = models.CharField(_("currency"), max_length=3)
    valid_on = models.DateField(_("date"))
    rate = models.DecimalField(_("rate"), max_digits=20, decimal_places=8)

    class Meta:
        verbose_name = _("exchange rate")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "base_currency", "currency", "valid_on"], name="exchangerate_unique_day"
            )
        ]
        ordering = ["currency", "-valid_on"]


class CustomerAccount(WorkspaceScopedModel):
    """A customer's billing terms: group (for price lists), credit limit and payment terms."""

    person = models.ForeignKey(
        "contacts.Person", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    customer_group = models.CharField(_("customer group"), max_length=60, blank=True)
    credit_limit = models.DecimalField(
        _("credit limit"), max_digits=18, decimal_places=4, null=True, blank=True
    )
    payment_terms_days = models.PositiveIntegerField(_("payment terms (days)"), null=True, blank=True)

    class Meta:
        verbose_name = _("customer account")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=False) ^ models.Q(company__isnull=False),
                name="customeraccount_one_owner",
            ),
            models.UniqueConstraint(
                fields=["workspace", "person"],
                name="customeraccount_person",
                condition=models.Q(person__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["workspace", "company"],
                name="customeraccount_company",
                condition=models.Q(company__isnull=False),
            ),
        ]


# --- documents ------------------------------------------------------------------------------------


class DocumentKind(models.TextChoices):
    QUOTE = "quote", _("Quote")
    ORDER = "order", _("Order")
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class DocumentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    OPEN = "open", _("Open")
    INVOICED = "invoiced", _("Invoiced")
    ISSUED = "issued", _("Issued")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class TaxTreatment(models.TextChoices):
    DOMESTIC = "domestic", _("Domestic VAT")
    REVERSE_CHARGE = "reverse_charge", _("Reverse charge (intra-EU business)")
    EXEMPT = "exempt", _("Exempt")
    EXPORT = "export", _("Export outside the EU")


class NumberCounter(WorkspaceScopedModel):
    """The last number given in a series and year. Locked (``select_for_update``) while a number is
    taken, in the transaction that uses it: a rolled-back document gives its number back, so issued
    numbers have no gaps."""

    series = models.CharField(max_length=20)
    year = models.PositiveIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "series", "year"], name="numbercounter_unique")
        ]


class Document(WorkspaceScopedModel):
    """A quote, an order, an invoice or a credit note, with its lines and cached totals."""

    kind = models.CharField(_("kind"), max_length=12, choices=DocumentKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=DocumentStatus.choices)
    series = models.CharField(_("series"), max_length=20, blank=True)
    year = models.PositiveIntegerField(null=True, blank=True)
    sequence = models.PositiveIntegerField(null=True, blank=True)
    number = models.CharField(_("number"), max_length=40, blank=True)
    person = models.ForeignKey(
        "contacts.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    company = models.ForeignKey(
        "contacts.Company", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("salesperson"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    deal = models.ForeignKey("sales.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="derived"
    )  # quote -> order -> invoice -> credit note
    currency = models.CharField(_("currency"), max_length=3)
    exchange_rate = models.DecimalField(
        _("rate to the workspace currency"), max_digits=20, decimal_places=8, default=Decimal(1)
    )
    price_list = models.ForeignKey(
        PriceList,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("price list"),
    )
    issue_date = models.DateField(_("date"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    payment_terms_days = models.PositiveIntegerField(_("payment terms (days)"), default=30)
    terms = models.TextField(_("terms"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    tax_country = models.CharField(max_length=2)
    tax_treatment = models.CharField(
        _("tax treatment"), max_length=16, choices=TaxTreatment.choices, default=TaxTreatment.DOMESTIC
    )
    exemption_reason = models.CharField(_("exemption reason"), max_length=200, blank=True)
    customer_vat = models.CharField(_("customer VAT number"), max_length=20, blank=True)
    rounding_scope = models.CharField(max_length=10, choices=RoundingScopeChoice.choices)
    rounding_mode = models.CharField(max_length=10, choices=RoundingChoice.choices)
    discount_percent = percent_field(_("document discount (%)"))
    list_amount = money_field(_("list amount"))
    discount_amount = money_field(_("discount"))
    net = money_field(_("net"))
    tax = money_field(_("tax"))
    gross = money_field(_("total"))
    cost = money_field(_("cost"))
    taxes = models.JSONField(default=list, blank=True)  # [{"key", "rate", "base", "tax"}] as strings
    amount_paid = money_field(_("paid"))
    amount_credited = money_field(_("credited"))
    sent_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("document")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(person__isnull=False) | models.Q(company__isnull=False),
                name="document_has_customer",
            ),
            models.UniqueConstraint(
                fields=["workspace", "series", "year", "sequence"],
                name="document_unique_number",
                condition=models.Q(sequence__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "kind", "-issue_date", "-id"], name="document_ws_kind_date"),
            models.Index(fields=["workspace", "person", "kind"], name="document_ws_person"),
            models.Index(fields=["workspace", "company", "kind"], name="document_ws_company"),
            models.Index(fields=["workspace", "owner", "kind"], name="document_ws_owner"),
        ]

    def __str__(self) -> str:
        return self.number or f"{self.get_kind_display()} #{self.pk}"

    @property
    def customer(self) -> object:
        return self.company or self.person

    @property
    def amount_due(self) -> Decimal:
        """What the customer still owes on an invoice (negative: they have credit)."""
        if self.kind != DocumentKind.INVOICE or self.status in (
            DocumentStatus.DRAFT,
            DocumentStatus.CANCELLED,
        ):
            return ZERO
        return self.gross - self.amount_credited - self.amount_paid

    @property
    def is_editable(self) -> bool:
        return (self.kind, self.status) in {
            (DocumentKind.QUOTE, DocumentStatus.DRAFT),
            (DocumentKind.QUOTE, DocumentStatus.SENT),
            (DocumentKind.INVOICE, DocumentStatus.DRAFT),
        }


class DocumentLine(WorkspaceScopedModel):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    description = models.CharField(_("description"), max_length=300)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4)
    unit_price = unit_field(_("unit price"))
    price_includes_tax = models.BooleanField(default=False)
    unit_cost = unit_field(_("unit cost"))
    discount_percent = percent_field(_("discount (%)"))
    tax_category = models.CharField(max_length=16, choices=TaxCategory.choices, default=TaxCategory.STANDARD)
    tax_rate = models.DecimalField(_("VAT (%)"), max_digits=6, decimal_places=3, default=ZERO)
    tax_key = models.CharField(max_length=20, blank=True)
    tax_note = models.CharField(max_length=200, blank=True)
    list_amount = money_field(_("list amount"))
    discount_amount = money_field(_("discount"))
    net = money_field(_("net"))
    tax = money_field(_("tax"))
    gross = money_field(_("total"))
    cost = money_field(_("cost"))
    # On a credit note: the invoice line it takes back (part of its quantity, or all of it).
    credits_line = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_lines"
    )

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["document", "position"], name="documentline_doc")]


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    REFUND = "refund", _("Refund")


class Payment(WorkspaceScopedModel):
    """Money received for an invoice (or paid back: a refund). ``amount`` is always positive."""

    invoice = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="payments")
    kind = models.CharField(_("kind"), max_length=8, choices=PaymentKind.choices, default=PaymentKind.PAYMENT)
    amount = money_field(_("amount"))
    credit = money_field(_("kept as credit"))
    paid_on = models.DateField(_("date"))
    method = models.CharField(_("method"), max_length=40, blank=True)
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment")
        indexes = [models.Index(fields=["workspace", "paid_on"], name="payment_ws_date")]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_positive")]


# --- deals ----------------------------------------------------------------------------------------


class DealLine(WorkspaceScopedModel):
    """A product on a deal: the calculator's input before there is a quote."""

    deal = models.ForeignKey("sales.Deal", on_delete=models.CASCADE, related_name="billing_lines")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4, default=Decimal(1))
    unit_price = unit_field(_("unit price"))
    unit_cost = unit_field(_("unit cost"))
    discount_percent = percent_field(_("discount (%)"))
    tax_category = models.CharField(max_length=16, choices=TaxCategory.choices, default=TaxCategory.STANDARD)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["workspace", "deal"], name="dealline_ws_deal")]


# --- commissions ----------------------------------------------------------------------------------


class CommissionBasis(models.TextChoices):
    REVENUE = "revenue", _("Revenue")
    MARGIN = "margin", _("Margin")


class CommissionSource(models.TextChoices):
    WON_DEALS = "won_deals", _("Won deals")
    PAID_INVOICES = "paid_invoices", _("Paid invoices")


class CommissionPeriod(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class CommissionPlan(WorkspaceScopedModel):
    """A percentage of revenue or margin, in marginal tiers, per month or quarter, for its members
    (one salesperson or a team), counted on won deals or on paid invoices."""

    name = models.CharField(_("name"), max_length=100)
    basis = models.CharField(_("basis"), max_length=8, choices=CommissionBasis.choices, default="revenue")
    source = models.CharField(
        _("counted on"),
        max_length=14,
        choices=CommissionSource.choices,
        default=CommissionSource.PAID_INVOICES,
    )
    period = models.CharField(_("period"), max_length=8, choices=CommissionPeriod.choices, default="month")
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="CommissionPlanMember", related_name="+", blank=True
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("commission plan")
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="commissionplan_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class CommissionPlanMember(WorkspaceScopedModel):
    plan = models.ForeignKey(CommissionPlan, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "plan", "user"], name="commissionplanmember_unique")
        ]


class CommissionTier(WorkspaceScopedModel):
    """From ``threshold`` (in the workspace currency) up to the next tier, ``rate`` percent."""

    plan = models.ForeignKey(CommissionPlan, on_delete=models.CASCADE, related_name="tiers")
    threshold = money_field(_("from"))
    rate = percent_field(_("rate (%)"))

    class Meta:
        ordering = ["threshold"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "plan", "threshold"], name="commissiontier_unique")
        ]


class CommissionStatement(WorkspaceScopedModel):
    """A person's commission under a plan for one period, as last recomputed."""

    plan = models.ForeignKey(CommissionPlan, on_delete=models.CASCADE, related_name="statements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()
    period_end = models.DateField()
    currency = models.CharField(max_length=3)
    revenue = money_field(_("revenue"))
    margin = money_field(_("margin"))
    base = money_field(_("commissionable"))
    commission = money_field(_("commission"))
    lines = models.JSONField(default=list, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("commission statement")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "plan", "user", "period_start"], name="commissionstatement_unique"
            )
        ]
