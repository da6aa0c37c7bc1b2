"""API schemas for billing. Money is sent and returned as decimal strings, never as JSON floats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema
from pydantic import model_serializer

from clientela.billing.models import Document
from clientela.core import money

Amount = Decimal  # serialised by pydantic as a string

# Amounts shown to the currency's minor unit (they are stored with up to four decimals).
MONEY_KEYS = frozenset(
    {
        "net",
        "tax",
        "gross",
        "cost",
        "base",
        "amount",
        "credit",
        "amount_paid",
        "amount_credited",
        "amount_due",
        "list_amount",
        "discount",
        "commission",
        "margin",
        "revenue",
        "invoiced",
        "credited",
        "paid",
        "balance",
        "overdue",
        "not_due",
        "open_orders",
        "credit_limit",
        "available_credit",
        "buckets",
    }
)


def _to_minor_unit(value: Any, currency: str) -> Any:
    if isinstance(value, dict):
        return {k: _to_minor_unit(v, currency) for k, v in value.items()}
    if value is None or isinstance(value, bool):
        return value
    try:
        amount = money.quantize(money.to_decimal(value), currency)
    except money.MoneyError:
        return value
    return str(amount) if isinstance(value, str) else amount


def _normalise(data: Any, currency: str) -> Any:
    if isinstance(data, list):
        return [_normalise(item, currency) for item in data]
    if not isinstance(data, dict):
        return data
    currency = data.get("currency") or currency
    return {
        key: _to_minor_unit(value, currency)
        if key in MONEY_KEYS and currency
        else _normalise(value, currency)
        for key, value in data.items()
    }


class MoneySchema(Schema):
    """Writes its amounts (and its nested lines' and payments') to the currency's minor unit."""

    @model_serializer(mode="wrap")
    def _minor_units(self, handler: Any) -> Any:
        return _normalise(handler(self), "")


class ProductIn(Schema):
    code: str
    name: str
    description: str = ""
    kind: str = "product"
    unit: str = "pc"
    cost: Amount = Decimal(0)
    price: Amount = Decimal(0)
    tax_category: str = "standard"
    active: bool = True


class ProductPatch(Schema):
    code: str | None = None
    name: str | None = None
    description: str | None = None
    kind: str | None = None
    unit: str | None = None
    cost: Amount | None = None
    price: Amount | None = None
    tax_category: str | None = None
    active: bool | None = None


class ProductOut(Schema):
    id: int
    code: str
    name: str
    description: str
    kind: str
    unit: str
    cost: Amount
    price: Amount
    tax_category: str
    active: bool


class PriceListIn(Schema):
    name: str
    currency: str
    customer_group: str = ""
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    prices_include_tax: bool = False
    active: bool = True


class PriceListPatch(Schema):
    name: str | None = None
    currency: str | None = None
    customer_group: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    prices_include_tax: bool | None = None
    active: bool | None = None


class PriceListItemIn(Schema):
    product: int
    unit_price: Amount
    min_quantity: Amount = Decimal(1)


class PriceListItemOut(Schema):
    id: int
    product: int = Field(..., alias="product_id")
    min_quantity: Amount
    unit_price: Amount


class PriceListOut(Schema):
    id: int
    name: str
    currency: str
    customer_group: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    prices_include_tax: bool
    active: bool


class PriceListDetailOut(PriceListOut):
    items: list[PriceListItemOut]

    @staticmethod
    def resolve_items(obj: Any) -> list[Any]:
        return list(obj.items.all())


class TaxRateIn(Schema):
    country: str
    category: str
    rate: Amount
    valid_from: dt.date
    valid_to: dt.date | None = None
    name: str = ""


class TaxRateOut(Schema):
    id: int
    country: str
    category: str
    rate: Amount
    valid_from: dt.date
    valid_to: dt.date | None
    name: str


class ExchangeRateIn(Schema):
    currency: str
    valid_on: dt.date
    rate: Amount = Field(description="Units of the workspace currency for one unit of `currency`")


class ExchangeRateOut(Schema):
    id: int
    base_currency: str
    currency: str
    valid_on: dt.date
    rate: Amount


class ExchangeRatesImportIn(Schema):
    csv: str = Field(description="date,currency,rate per line; a header row is optional")


class ExchangeRatesImportOut(Schema):
    imported: int


class LineSchema(Schema):
    product: int | None = None
    description: str = ""
    quantity: Amount = Decimal(1)
    unit_price: Amount | None = Field(None, description="Empty: from the price lists")
    discount_percent: Amount = Decimal(0)
    unit: str = ""
    tax_rate: int | None = Field(None, description="An explicit tax rate id (must be valid on the date)")


class DocumentIn(Schema):
    person: int | None = None
    company: int | None = None
    currency: str | None = None
    price_list: int | None = None
    issue_date: dt.date | None = None
    valid_until: dt.date | None = None
    terms: str | None = None
    notes: str | None = None
    discount_percent: Amount | None = None
    tax_treatment: str | None = Field(None, description="domestic, reverse_charge, exempt or export")
    exemption_reason: str | None = None
    owner: int | None = None
    deal: int | None = None
    lines: list[LineSchema] = []


class DocumentPatch(DocumentIn):
    lines: list[LineSchema] | None = None  # type: ignore[assignment]


class LineOut(Schema):
    id: int
    position: int
    product: int | None = Field(None, alias="product_id")
    description: str
    unit: str
    quantity: Amount
    unit_price: Amount
    price_includes_tax: bool
    discount_percent: Amount
    tax_rate: Amount
    tax_note: str
    net: Amount
    tax: Amount
    gross: Amount
    credits_line: int | None = Field(
        None, alias="credits_line_id", description="On a credit note: the invoice line it takes back"
    )


class TaxOut(Schema):
    key: str
    rate: Amount
    base: Amount
    tax: Amount


class Ref(Schema):
    id: int
    name: str


class PaymentOut(MoneySchema):
    id: int
    currency: str
    kind: str
    amount: Amount
    credit: Amount
    paid_on: dt.date
    method: str
    reference: str

    @staticmethod
    def resolve_currency(obj: Any) -> str:
        return str(obj.invoice.currency)


class DocumentOut(MoneySchema):
    id: int
    kind: str
    status: str
    number: str
    person: Ref | None
    company: Ref | None
    owner: int | None = Field(None, alias="owner_id")
    deal: int | None = Field(None, alias="deal_id")
    source: int | None = Field(None, alias="source_id")
    currency: str
    price_list: int | None = Field(None, alias="price_list_id")
    issue_date: dt.date
    valid_until: dt.date | None
    due_date: dt.date | None
    payment_terms_days: int
    terms: str
    notes: str
    tax_treatment: str
    exemption_reason: str
    rounding_scope: str
    rounding_mode: str
    discount_percent: Amount
    net: Amount
    tax: Amount
    gross: Amount
    taxes: list[TaxOut]
    amount_paid: Amount
    amount_credited: Amount
    amount_due: Amount
    lines: list[LineOut]
    payments: list[PaymentOut]

    @staticmethod
    def resolve_person(obj: Document) -> dict[str, Any] | None:
        return {"id": obj.person.pk, "name": obj.person.full_name} if obj.person else None

    @staticmethod
    def resolve_company(obj: Document) -> dict[str, Any] | None:
        return {"id": obj.company.pk, "name": obj.company.name} if obj.company else None

    @staticmethod
    def resolve_lines(obj: Document) -> list[Any]:
        return list(obj.lines.all())

    @staticmethod
    def resolve_payments(obj: Document) -> list[Any]:
        return list(obj.payments.all())


class DocumentSummaryOut(MoneySchema):
    id: int
    kind: str
    status: str
    number: str
    currency: str
    issue_date: dt.date
    due_date: dt.date | None
    net: Amount
    tax: Amount
    gross: Amount
    amount_due: Amount
    customer: str

    @staticmethod
    def resolve_customer(obj: Document) -> str:
        return str(obj.company or obj.person)


class AcceptOut(Schema):
    order: DocumentOut
    warnings: list[str]


class SendIn(Schema):
    to: str = Field("", description="Empty: the customer's primary email")
    message: str = ""


class InvoiceIn(Schema):
    issue_date: dt.date | None = None
    issue: bool = True


class CreditLine(Schema):
    line: int = Field(description="The id of a line of the invoice")
    quantity: Amount = Field(
        description="How much of it to take back, at most what earlier credit notes left"
    )


class CreditNoteIn(Schema):
    reason: str = ""
    lines: list[CreditLine] | None = Field(
        None, description="What to take back; left out, everything not credited yet"
    )


class PaymentIn(Schema):
    amount: Amount
    paid_on: dt.date | None = None
    kind: str = Field("payment", description="payment or refund")
    method: str = ""
    reference: str = ""
    as_credit: bool = Field(False, description="Keep what exceeds the amount due as the customer's credit")


class PreviewOut(MoneySchema):
    currency: str
    net: Amount
    tax: Amount
    gross: Amount
    taxes: list[TaxOut]
    lines: list[dict[str, str]]
    errors: dict[str, list[str]]


class BalanceOut(MoneySchema):
    currency: str
    invoiced: Amount
    credited: Amount
    paid: Amount
    balance: Amount
    overdue: Amount
    not_due: Amount
    buckets: dict[str, Amount]
    open_orders: Amount
    credit_limit: Amount | None
    available_credit: Amount | None
    over_limit: bool
    payment_terms_days: int | None
    customer_group: str


class AccountIn(Schema):
    customer_group: str | None = None
    credit_limit: Amount | None = None
    payment_terms_days: int | None = None


class TierIO(Schema):
    threshold: Amount
    rate: Amount


class CommissionPlanIn(Schema):
    name: str
    basis: str = Field("revenue", description="revenue or margin")
    source: str = Field("paid_invoices", description="paid_invoices or won_deals")
    period: str = Field("month", description="month or quarter")
    tiers: list[TierIO]
    members: list[int]


class CommissionPlanOut(Schema):
    id: int
    name: str
    basis: str
    source: str
    period: str
    tiers: list[TierIO]
    members: list[int]

    @staticmethod
    def resolve_tiers(obj: Any) -> list[Any]:
        return list(obj.tiers.all())

    @staticmethod
    def resolve_members(obj: Any) -> list[int]:
        return [u.pk for u in obj.members.all()]


class StatementLineOut(Schema):
    date: dt.date
    label: str
    revenue: Amount
    margin: Amount


class StatementOut(MoneySchema):
    plan: str
    user: int
    period_start: dt.date
    period_end: dt.date
    currency: str
    revenue: Amount
    margin: Amount
    base: Amount
    commission: Amount
    lines: list[StatementLineOut]

    @staticmethod
    def resolve_plan(obj: Any) -> str:
        return str(obj.plan.name)

    @staticmethod
    def resolve_user(obj: Any) -> int:
        return int(obj.user.pk)


class DealLineIn(Schema):
    product: int | None = None
    description: str = ""
    quantity: Amount = Decimal(1)
    unit_price: Amount | None = None
    unit_cost: Amount | None = None
    discount_percent: Amount = Decimal(0)


class DealLineOut(Schema):
    id: int
    product: int | None = Field(None, alias="product_id")
    description: str
    quantity: Amount
    unit_price: Amount
    unit_cost: Amount
    discount_percent: Amount
    tax_category: str


class CalculationOut(MoneySchema):
    currency: str
    list_amount: Amount
    discount: Amount
    net: Amount
    taxes: list[TaxOut]
    tax: Amount
    gross: Amount
    cost: Amount
    commission: Amount
    commission_plan: str
    margin: Amount
    margin_percent: Amount | None
