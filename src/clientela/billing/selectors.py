"""Reads for billing: catalogue, price lists, rates, documents, customer balances and the calculator.

Every selector takes the workspace explicitly and returns rows of that workspace only; an id from
another workspace raises ``DoesNotExist`` (a 404), the same as a missing one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from clientela.billing.models import (
    BillingSettings,
    CustomerAccount,
    DealLine,
    Document,
    DocumentKind,
    DocumentLine,
    DocumentStatus,
    ExchangeRate,
    Payment,
    PriceList,
    PriceListItem,
    Product,
    TaxRate,
)
from clientela.billing.pricing import (
    PricedLine,
    PricingContext,
    account_for,
    exchange_rate_on,
    totals,
)
from clientela.contacts.models import Company, Person
from clientela.core import money
from clientela.workspaces.models import User, Workspace

AGE_BUCKETS = (("0-30", 0, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None))


# --- catalogue and rates --------------------------------------------------------------------------


def product_list(*, workspace: Workspace, q: str = "", active: bool | None = None) -> QuerySet[Product]:
    """Products by name; ``q`` matches code or name."""
    products = Product.objects.filter(workspace=workspace)
    if q:
        products = products.filter(Q(code__icontains=q) | Q(name__icontains=q))
    if active is not None:
        products = products.filter(active=active)
    return products.order_by("name", "id")


def product_get(*, workspace: Workspace, product_id: int) -> Product:
    return Product.objects.get(workspace=workspace, pk=product_id)


def price_list_list(*, workspace: Workspace) -> QuerySet[PriceList]:
    return PriceList.objects.filter(workspace=workspace).order_by("-active", "currency", "name")


def price_list_get(*, workspace: Workspace, price_list_id: int) -> PriceList:
    """A price list with its items (and their products), by product and quantity."""
    return PriceList.objects.prefetch_related(
        Prefetch(
            "items",
            queryset=PriceListItem.objects.select_related("product").order_by(
                "product__name", "min_quantity"
            ),
        )
    ).get(workspace=workspace, pk=price_list_id)


def tax_rate_list(*, workspace: Workspace, country: str = "") -> QuerySet[TaxRate]:
    rates = TaxRate.objects.filter(workspace=workspace)
    if country:
        rates = rates.filter(country=country.upper())
    return rates.order_by("country", "category", "-valid_from")


def exchange_rate_list(*, workspace: Workspace, limit: int | None = 200) -> QuerySet[ExchangeRate]:
    """The newest rates first: the latest ``limit`` (all of them with None, for a paginated list)."""
    rates = ExchangeRate.objects.filter(
        workspace=workspace, base_currency=workspace.default_currency.upper()
    ).order_by("-valid_on", "currency")
    return rates if limit is None else rates[:limit]


def to_workspace_currency(
    workspace: Workspace, amount: Decimal, currency: str, on: dt.date
) -> Decimal | None:
    """``amount`` in the workspace currency at the rate known on ``on``, for reporting (None: no rate)."""
    rate = exchange_rate_on(workspace, currency, on)
    if rate is None:
        return None
    return money.convert(amount, rate, workspace.default_currency)


# --- documents ------------------------------------------------------------------------------------


def document_list(
    *,
    workspace: Workspace,
    kind: str,
    user: User | None = None,
    own_only: bool = False,
    status: str = "",
    q: str = "",
    person: Person | None = None,
    company: Company | None = None,
    limit: int | None = 200,
) -> QuerySet[Document]:
    """Documents of a kind, newest first; ``own_only`` keeps a salesperson's own; the first ``limit``
    (all of them with None, for a paginated list)."""
    documents = Document.objects.filter(workspace=workspace, kind=kind).select_related(
        "person", "company", "owner"
    )
    if own_only and user is not None:
        documents = documents.filter(owner=user)
    if status:
        documents = documents.filter(status=status)
    if q:
        documents = documents.filter(
            Q(number__icontains=q)
            | Q(company__name__icontains=q)
            | Q(person__last_name__icontains=q)
            | Q(person__first_name__icontains=q)
        )
    if person is not None:
        documents = documents.filter(person=person)
    if company is not None:
        documents = documents.filter(company=company)
    documents = documents.order_by("-issue_date", "-id")
    return documents if limit is None else documents[:limit]


def document_get(*, workspace: Workspace, document_id: int, kind: str | None = None) -> Document:
    """One document with its lines, payments and the documents made from it."""
    documents = Document.objects.filter(workspace=workspace)
    if kind is not None:
        documents = documents.filter(kind=kind)
    return (
        documents.select_related(
            "person", "person__company", "company", "owner", "price_list", "source", "deal"
        )
        .prefetch_related(
            Prefetch(
                "lines", queryset=DocumentLine.objects.select_related("product").order_by("position", "id")
            ),
            Prefetch("payments", queryset=Payment.objects.order_by("paid_on", "id")),
            Prefetch("derived", queryset=Document.objects.order_by("id")),
        )
        .get(pk=document_id)
    )


# --- balances -------------------------------------------------------------------------------------


@dataclass
class Balance:
    """A customer's account in the workspace currency: what was invoiced, credited and paid."""

    currency: str
    invoiced: Decimal = Decimal(0)
    credited: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)
    overdue: Decimal = Decimal(0)
    not_due: Decimal = Decimal(0)
    open_orders: Decimal = Decimal(0)
    buckets: dict[str, Decimal] = field(
        default_factory=lambda: {name: Decimal(0) for name, _a, _b in AGE_BUCKETS}
    )
    credit_limit: Decimal | None = None
    payment_terms_days: int | None = None
    customer_group: str = ""
    open_invoices: list[Document] = field(default_factory=list)

    @property
    def balance(self) -> Decimal:
        """Invoiced minus credited minus paid: positive, the customer owes; negative, has credit."""
        return self.invoiced - self.credited - self.paid

    @property
    def available_credit(self) -> Decimal | None:
        if self.credit_limit is None:
            return None
        return self.credit_limit - self.balance - self.open_orders

    @property
    def over_limit(self) -> bool:
        available = self.available_credit
        return available is not None and available < 0


def customer_balance(
    *, workspace: Workspace, customer: Person | Company, today: dt.date | None = None
) -> Balance:
    """The running balance of a person or company: invoiced minus paid, overdue amounts by age (days
    past the due date: 0-30, 31-60, 61-90, 90+), open orders, and their credit limit and terms."""
    today = today or timezone.localdate()
    key = "person" if isinstance(customer, Person) else "company"
    account = account_for(customer if key == "person" else None, customer if key == "company" else None)  # type: ignore[arg-type]
    settings_terms = _settings_terms(workspace)
    balance = Balance(
        currency=workspace.default_currency.upper(),
        credit_limit=account.credit_limit if account else None,
        payment_terms_days=(
            account.payment_terms_days
            if account and account.payment_terms_days is not None
            else settings_terms
        ),
        customer_group=account.customer_group if account else "",
    )
    documents = Document.objects.filter(
        workspace=workspace,
        kind__in=[DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE, DocumentKind.ORDER],
        **{key: customer},
    ).exclude(status__in=[DocumentStatus.DRAFT, DocumentStatus.CANCELLED])
    base = balance.currency
    for document in documents.order_by("due_date", "id"):
        if document.kind == DocumentKind.ORDER:
            if document.status == DocumentStatus.OPEN:
                balance.open_orders += _in_base(workspace, document, document.gross)
            continue
        if document.kind == DocumentKind.CREDIT_NOTE:
            continue  # counted through the invoice it credits (amount_credited)
        rate = document.exchange_rate
        balance.invoiced += money.convert(document.gross, rate, base)
        balance.credited += money.convert(document.amount_credited, rate, base)
        balance.paid += money.convert(document.amount_paid, rate, base)
        due = money.convert(document.amount_due, rate, base)
        if due <= 0:
            continue
        balance.open_invoices.append(document)
        if document.due_date is None or document.due_date >= today:
            balance.not_due += due
            continue
        balance.overdue += due
        balance.buckets[_bucket((today - document.due_date).days)] += due
    return balance


def _bucket(days_late: int) -> str:
    for name, low, high in AGE_BUCKETS:
        if days_late >= low and (high is None or days_late <= high):
            return name
    return AGE_BUCKETS[0][0]


def _in_base(workspace: Workspace, document: Document, amount: Decimal) -> Decimal:
    rate = exchange_rate_on(workspace, document.currency, document.issue_date) or Decimal(0)
    return money.convert(amount, rate, workspace.default_currency) if rate else Decimal(0)


def _settings_terms(workspace: Workspace) -> int:
    settings = BillingSettings.objects.filter(workspace=workspace).first()
    return settings.payment_terms_days if settings else 30


def credit_warning(*, workspace: Workspace, document: Document) -> str:
    """A warning when making ``document`` an order would take its customer over the credit limit."""
    customer = document.company or document.person
    if customer is None:
        return ""
    balance = customer_balance(workspace=workspace, customer=customer)
    if balance.credit_limit is None:
        return ""
    amount = _in_base(workspace, document, document.gross)
    exposure = balance.balance + balance.open_orders + amount
    if exposure <= balance.credit_limit:
        return ""
    return _("This order takes %(customer)s to %(exposure)s, over their credit limit of %(limit)s.") % {
        "customer": customer,
        "exposure": money.format_money(exposure, balance.currency),
        "limit": money.format_money(balance.credit_limit, balance.currency),
    }


# --- calculator -----------------------------------------------------------------------------------


@dataclass
class Calculation:
    """What a deal or quote is made of: list price, discount, net, taxes, cost, commission, margin."""

    currency: str
    list_amount: Decimal
    discount: Decimal
    net: Decimal
    taxes: list[money.TaxTotal]
    tax: Decimal
    gross: Decimal
    cost: Decimal
    commission: Decimal
    commission_plan: str

    @property
    def margin(self) -> Decimal:
        """Net minus cost minus the salesperson's commission."""
        return self.net - self.cost - self.commission

    @property
    def margin_percent(self) -> Decimal | None:
        if not self.net:
            return None
        return (self.margin * 100 / self.net).quantize(Decimal("0.1"))


def calculation_for_document(*, workspace: Workspace, document: Document) -> Calculation:
    """The calculator of a stored quote (or any document) from its saved totals."""
    from clientela.billing.commissions import commission_estimate

    commission, plan = commission_estimate(
        workspace=workspace,
        user=document.owner,
        net=_in_base(workspace, document, document.net),
        cost=_in_base(workspace, document, document.cost),
        on=document.issue_date,
    )
    return Calculation(
        currency=document.currency,
        list_amount=document.list_amount,
        discount=document.discount_amount,
        net=document.net,
        taxes=[
            money.TaxTotal(t["key"], Decimal(t["rate"]), Decimal(t["base"]), Decimal(t["tax"]))
            for t in document.taxes
        ],
        tax=document.tax,
        gross=document.gross,
        cost=document.cost,
        commission=_from_base(workspace, document.currency, document.issue_date, commission),
        commission_plan=plan,
    )


def calculation_for_totals(
    *, workspace: Workspace, totals: money.Totals, owner: User | None, on: dt.date
) -> Calculation:
    """The calculator of unsaved totals (the quote editor's live preview)."""
    from clientela.billing.commissions import commission_estimate

    rate = exchange_rate_on(workspace, totals.currency, on) or Decimal(1)
    base = workspace.default_currency
    commission, plan = commission_estimate(
        workspace=workspace,
        user=owner,
        net=money.convert(totals.net, rate, base),
        cost=money.convert(totals.cost, rate, base),
        on=on,
    )
    return Calculation(
        currency=totals.currency,
        list_amount=totals.list_amount,
        discount=totals.discount,
        net=totals.net,
        taxes=totals.taxes,
        tax=totals.tax,
        gross=totals.gross,
        cost=totals.cost,
        commission=_from_base(workspace, totals.currency, on, commission),
        commission_plan=plan,
    )


def deal_lines(*, workspace: Workspace, deal_id: int) -> QuerySet[DealLine]:
    return DealLine.objects.filter(workspace=workspace, deal_id=deal_id).select_related("product")


def calculation_for_deal(*, workspace: Workspace, deal: Any) -> Calculation:
    """The calculator of a deal from its lines (priced in the deal's currency, domestic VAT)."""
    from clientela.billing.services import billing_settings_for  # the settings are created on first use

    settings = billing_settings_for(workspace)
    today = timezone.localdate()
    ctx = PricingContext(
        workspace=workspace,
        settings=settings,
        currency=(deal.currency or workspace.default_currency).upper(),
        issue_date=today,
        tax_country=settings.country,
        rounding_scope=settings.rounding_scope,
        rounding_mode=settings.rounding_mode,
    )
    priced = []
    for line in deal_lines(workspace=workspace, deal_id=deal.pk):
        rate = ctx.tax_rate(line.tax_category)
        priced.append(
            PricedLine(
                product=line.product,
                description=line.description,
                unit="",
                quantity=line.quantity,
                unit_price=line.unit_price,
                price_includes_tax=False,
                unit_cost=line.unit_cost,
                discount_percent=line.discount_percent,
                tax_category=line.tax_category,
                tax_rate=rate.rate if rate else Decimal(0),
                tax_key="",
                tax_note="",
            )
        )
    return calculation_for_totals(workspace=workspace, totals=totals(ctx, priced), owner=deal.owner, on=today)


def _from_base(workspace: Workspace, currency: str, on: dt.date, amount: Decimal) -> Decimal:
    rate = exchange_rate_on(workspace, currency, on)
    if not rate:
        return amount
    return money.convert(amount, money.invert_rate(rate), currency)


def customer_account_get(*, workspace: Workspace, record: Person | Company) -> CustomerAccount | None:
    key = "person" if isinstance(record, Person) else "company"
    return CustomerAccount.objects.filter(workspace=workspace, **{key: record}).first()
