"""Writes for billing: catalogue, price lists, taxes, exchange rates, customer accounts, documents and
payments.

Every service validates first and raises ``ValidationFailed`` (bad input, with per-field messages) or
``Conflict`` (a document in a state that forbids the change) before it writes anything, inside
``transaction.atomic``: a refused request leaves the data as it was. Issued invoices are never edited;
a credit note takes them back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_name
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clientela.billing.models import (
    BillingSettings,
    CustomerAccount,
    DealLine,
    Document,
    DocumentKind,
    DocumentLine,
    DocumentStatus,
    ExchangeRate,
    NumberCounter,
    Payment,
    PaymentKind,
    PriceList,
    PriceListItem,
    Product,
    ProductKind,
    TaxCategory,
    TaxRate,
    TaxTreatment,
)
from clientela.billing.pricing import (
    SEEDED_TAX_RATES,
    LineIn,
    PricedLine,
    PricingContext,
    account_for,
    check_treatment,
    company_with_facts,
    customer_group,
    customer_vat,
    default_treatment,
    exchange_rate_on,
    line_tax,
    person_with_facts,
    price_lines,
    totals,
    valid,
)
from clientela.contacts.models import Company, Email, Person
from clientela.contacts.services import vat_normalise
from clientela.core import money
from clientela.core.audit import audit_record
from clientela.core.errors import Conflict, ValidationFailed
from clientela.timeline.services import interaction_record
from clientela.timeline.text import Money, SystemText
from clientela.workspaces.models import Membership, User, Workspace

__all__ = ["DocumentHeader", "LineIn"]  # callers build lines with services.LineIn

SERIES = {
    DocumentKind.QUOTE: "Q",
    DocumentKind.ORDER: "O",
    DocumentKind.INVOICE: "INV",
    DocumentKind.CREDIT_NOTE: "CN",
}
PRODUCT_FIELDS = frozenset(
    {"code", "name", "description", "kind", "unit", "cost", "price", "tax_category", "active"}
)
PRICE_LIST_FIELDS = frozenset(
    {"name", "currency", "customer_group", "valid_from", "valid_to", "prices_include_tax", "active"}
)
SETTINGS_FIELDS = frozenset(
    {
        "country",
        "rounding_scope",
        "rounding_mode",
        "payment_terms_days",
        "quote_validity_days",
        "quote_terms",
        "mailer",
        "seller_name",
        "seller_address",
        "seller_vat_number",
    }
)


# --- settings -------------------------------------------------------------------------------------


def billing_settings_for(workspace: Workspace) -> BillingSettings:
    """The workspace's billing settings, created with its defaults the first time they are needed; the
    statutory VAT rates are seeded at the same moment."""
    found = BillingSettings.objects.filter(workspace=workspace).first()
    if found is not None:
        return found
    with transaction.atomic():
        tax_rates_seed(workspace=workspace)
        created, _created = BillingSettings.objects.get_or_create(
            workspace=workspace, defaults={"country": workspace.default_region.upper()}
        )
    return created


@transaction.atomic
def billing_settings_update(
    *, workspace: Workspace, actor: User | None, attributes: dict[str, Any]
) -> BillingSettings:
    """Change how the workspace bills. Documents already made keep the rounding they were made with."""
    settings = billing_settings_for(workspace)
    errors = _unknown(attributes, SETTINGS_FIELDS)
    for name, value in attributes.items():
        if name == "country":
            value = _country(value, errors)
        elif name == "seller_vat_number" and value:
            try:
                value = vat_normalise(value, str(attributes.get("country") or settings.country))
            except ValidationFailed as exc:
                errors[name] = [exc.message]
        setattr(settings, name, value if value is not None else "")
    _full_clean(settings, errors)
    settings.save()
    audit_record(workspace=workspace, actor=actor, action="billing.settings_changed", target=settings)
    return settings


# --- catalogue ------------------------------------------------------------------------------------


@transaction.atomic
def product_create(*, workspace: Workspace, actor: User | None, attributes: dict[str, Any]) -> Product:
    """Add a product or service to the catalogue; its code is unique in the workspace."""
    product = Product(workspace=workspace)
    _product_apply(product, attributes)
    product.save()
    audit_record(
        workspace=workspace, actor=actor, action="product.created", target=product, summary=str(product)
    )
    return product


@transaction.atomic
def product_update(*, product: Product, actor: User | None, attributes: dict[str, Any]) -> Product:
    _product_apply(product, attributes)
    product.save()
    audit_record(
        workspace=product.workspace,
        actor=actor,
        action="product.updated",
        target=product,
        summary=str(product),
    )
    return product


def _product_apply(product: Product, attributes: dict[str, Any]) -> None:
    errors = _unknown(attributes, PRODUCT_FIELDS)
    for name, value in attributes.items():
        if name in ("cost", "price"):
            value = _amount(value, name, errors, minimum=Decimal(0))
        elif name == "code":
            value = (value or "").strip()
        elif name == "kind" and value not in ProductKind.values:
            errors[name] = [_("Unknown kind.")]
        setattr(product, name, value if value is not None else "")
    if product.code and (
        Product.objects.filter(workspace=product.workspace, code__iexact=product.code)
        .exclude(pk=product.pk)
        .exists()
    ):
        errors["code"] = [_("Another product has the code %(code)s.") % {"code": product.code}]
    _full_clean(product, errors)


@transaction.atomic
def price_list_create(*, workspace: Workspace, actor: User | None, attributes: dict[str, Any]) -> PriceList:
    """A list of prices in one currency, for every customer or one group, between two dates."""
    price_list = PriceList(workspace=workspace)
    _price_list_apply(price_list, attributes)
    price_list.save()
    audit_record(
        workspace=workspace,
        actor=actor,
        action="price_list.created",
        target=price_list,
        summary=str(price_list),
    )
    return price_list


@transaction.atomic
def price_list_update(*, price_list: PriceList, actor: User | None, attributes: dict[str, Any]) -> PriceList:
    if (
        "currency" in attributes
        and attributes["currency"].upper() != price_list.currency
        and price_list.items.exists()
    ):
        raise ValidationFailed(
            _("A price list with prices cannot change currency: make a new list."),
            fields={"currency": [_("The list already has prices in %(c)s.") % {"c": price_list.currency}]},
        )
    _price_list_apply(price_list, attributes)
    price_list.save()
    return price_list


def _price_list_apply(price_list: PriceList, attributes: dict[str, Any]) -> None:
    errors = _unknown(attributes, PRICE_LIST_FIELDS)
    for name, value in attributes.items():
        if name == "currency":
            value = _currency(value, errors)
        elif name in ("valid_from", "valid_to"):
            value = _date(value, name, errors)
        elif name == "customer_group":
            value = customer_group_spelling(price_list.workspace, value or "")
        setattr(price_list, name, value if value is not None or name in ("valid_from", "valid_to") else "")
    if price_list.valid_from and price_list.valid_to and price_list.valid_to < price_list.valid_from:
        errors["valid_to"] = [_("The end is before the start.")]
    if (
        PriceList.objects.filter(workspace=price_list.workspace, name=price_list.name)
        .exclude(pk=price_list.pk)
        .exists()
    ):
        errors["name"] = [_("Another price list has this name.")]
    _full_clean(price_list, errors)


@transaction.atomic
def price_list_item_set(
    *, price_list: PriceList, product_id: int, unit_price: Any, min_quantity: Any = 1
) -> PriceListItem:
    """Set a product's price from a quantity up in a list (a second quantity makes a quantity break)."""
    errors: dict[str, list[str]] = {}
    product = Product.objects.filter(workspace=price_list.workspace, pk=product_id).first()
    if product is None:
        errors["product"] = [_("No such product.")]
    price = _amount(unit_price, "unit_price", errors, minimum=Decimal(0))
    quantity = _amount(min_quantity, "min_quantity", errors, minimum=Decimal(0))
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    item, _created = PriceListItem.objects.update_or_create(
        workspace=price_list.workspace,
        price_list=price_list,
        product=product,
        min_quantity=quantity,
        defaults={"unit_price": price},
    )
    return item


@transaction.atomic
def price_list_item_delete(*, item: PriceListItem) -> None:
    item.delete()


# --- taxes and currencies -------------------------------------------------------------------------


@transaction.atomic
def tax_rates_seed(*, workspace: Workspace) -> int:
    """Add the statutory VAT rates Clientela knows (Italy, Hungary, Romania with its August 2025
    change) that the workspace does not have yet. Returns how many were added."""
    added = 0
    for country, category, rate, valid_from, valid_to in SEEDED_TAX_RATES:
        _row, created = TaxRate.objects.get_or_create(
            workspace=workspace,
            country=country,
            category=category,
            valid_from=valid_from,
            defaults={"rate": Decimal(rate), "valid_to": valid_to, "name": f"VAT {rate}%"},
        )
        added += created
    return added


@transaction.atomic
def tax_rate_create(
    *,
    workspace: Workspace,
    actor: User | None,
    country: str,
    category: str,
    rate: Any,
    valid_from: Any,
    valid_to: Any = None,
    name: str = "",
) -> TaxRate:
    """A rate of a country and category for a period; periods of the same country and category may not
    overlap, and a rate still open-ended is closed the day before a newer one starts."""
    errors: dict[str, list[str]] = {}
    country = _country(country, errors)
    if category not in TaxCategory.values or category == TaxCategory.EXEMPT:
        errors["category"] = [_("Choose a taxed category.")]
    value = _amount(rate, "rate", errors, minimum=Decimal(0))
    if value is not None and value >= 100:
        errors["rate"] = [_("A rate is below 100 %.")]
    start, end = _date(valid_from, "valid_from", errors), _date(valid_to, "valid_to", errors)
    if start is None and "valid_from" not in errors:
        errors["valid_from"] = [_("Required.")]
    if start and end and end < start:
        errors["valid_to"] = [_("The end is before the start.")]
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    assert start is not None
    same = TaxRate.objects.filter(workspace=workspace, country=country, category=category)
    open_before = same.filter(valid_from__lt=start, valid_to__isnull=True).first()
    if open_before is not None:
        open_before.valid_to = start - dt.timedelta(days=1)
        open_before.save(update_fields=["valid_to"])
    overlapping = same.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=start))
    if end is not None:
        overlapping = overlapping.filter(valid_from__lte=end)
    if overlapping.exists():
        raise ValidationFailed(
            _("Another %(country)s rate of this category is valid in that period.") % {"country": country},
            fields={"valid_from": [_("Overlaps an existing rate.")]},
        )
    tax_rate = TaxRate.objects.create(
        workspace=workspace,
        country=country,
        category=category,
        rate=value,
        valid_from=start,
        valid_to=end,
        name=name or f"VAT {value}%",
    )
    audit_record(
        workspace=workspace, actor=actor, action="tax_rate.created", target=tax_rate, summary=str(tax_rate)
    )
    return tax_rate


@transaction.atomic
def exchange_rate_set(*, workspace: Workspace, currency: str, valid_on: Any, rate: Any) -> ExchangeRate:
    """Record what one unit of ``currency`` was worth in the workspace currency on a day."""
    errors: dict[str, list[str]] = {}
    code = _currency(currency, errors)
    day = _date(valid_on, "valid_on", errors)
    value = _amount(rate, "rate", errors, minimum=Decimal(0))
    if value is not None and value <= 0:
        errors["rate"] = [_("A rate is above zero.")]
    if code and code == workspace.default_currency.upper():
        errors["currency"] = [_("This is the workspace currency.")]
    if day is None and "valid_on" not in errors:
        errors["valid_on"] = [_("Required.")]
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    assert value is not None
    row, _created = ExchangeRate.objects.update_or_create(
        workspace=workspace,
        base_currency=workspace.default_currency.upper(),
        currency=code,
        valid_on=day,
        defaults={"rate": money.quantize_rate(value)},
    )
    return row


@transaction.atomic
def exchange_rates_import(*, workspace: Workspace, text: str) -> int:
    """Import rates from CSV (``date,currency,rate``, a header row optional, ``;`` also accepted).
    All or nothing: one bad row refuses the file, naming every bad row."""
    try:
        dialect: Any = csv.Sniffer().sniff(text[:2048], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(cell.strip() for cell in r)]
    if rows and rows[0] and not parse_date(rows[0][0].strip()):
        rows = rows[1:]
    errors: dict[str, list[str]] = {}
    count = 0
    for number, row in enumerate(rows, start=1):
        if len(row) < 3:
            errors[f"row.{number}"] = [_("Expected date, currency and rate.")]
            continue
        try:
            with transaction.atomic():
                exchange_rate_set(
                    workspace=workspace, valid_on=row[0].strip(), currency=row[1], rate=row[2].strip()
                )
            count += 1
        except ValidationFailed as exc:
            errors[f"row.{number}"] = [m for messages in exc.fields.values() for m in messages]
    if errors:
        raise ValidationFailed(_("Some rows are invalid; nothing was imported."), fields=errors)
    if not count:
        raise ValidationFailed(_("The file has no rates."), fields={"file": [_("Empty.")]})
    return count


# --- customers ------------------------------------------------------------------------------------


def customer_group_spelling(workspace: Workspace, name: str) -> str:
    """``name`` as the workspace already writes that group, whatever the letter case and spacing:
    "key  ACCOUNT" on a customer is the "Key account" of a price list, so the two match."""
    name = " ".join(name.split())
    wanted = name.casefold()
    for used in (
        *PriceList.objects.filter(workspace=workspace).values_list("customer_group", flat=True).distinct(),
        *CustomerAccount.objects.filter(workspace=workspace)
        .values_list("customer_group", flat=True)
        .distinct(),
    ):
        if used and used.casefold() == wanted:
            return used
    return name


@transaction.atomic
def customer_account_update(
    *, workspace: Workspace, actor: User | None, record: Person | Company, attributes: dict[str, Any]
) -> CustomerAccount:
    """Set a customer's group, credit limit (empty: none) and payment terms (empty: the workspace's)."""
    key = "person" if isinstance(record, Person) else "company"
    account = CustomerAccount.objects.filter(workspace=workspace, **{key: record}).first() or CustomerAccount(
        workspace=workspace, **{key: record}
    )
    errors = _unknown(attributes, frozenset({"customer_group", "credit_limit", "payment_terms_days"}))
    for name, value in attributes.items():
        if name == "credit_limit":
            value = None if value in (None, "") else _amount(value, name, errors, minimum=Decimal(0))
        elif name == "payment_terms_days":
            value = None if value in (None, "") else value
            if value is not None and (not str(value).isdigit() or int(value) > 3650):
                errors[name] = [_("Enter a number of days.")]
                continue
        elif name == "customer_group":
            value = customer_group_spelling(workspace, value or "")
        setattr(account, name, value)
    _full_clean(account, errors)
    account.save()
    audit_record(
        workspace=workspace,
        actor=actor,
        action="customer_account.updated",
        target=record,
        summary=str(record),
    )
    return account


# --- documents ------------------------------------------------------------------------------------


@dataclass
class DocumentHeader:
    """What a document says apart from its lines; ``None`` keeps the default (or the current value)."""

    person_id: int | None = None
    company_id: int | None = None
    currency: str | None = None
    price_list_id: int | None = None
    issue_date: dt.date | str | None = None
    valid_until: dt.date | str | None = None
    terms: str | None = None
    notes: str | None = None
    discount_percent: Decimal | str | None = None
    tax_treatment: str | None = None
    exemption_reason: str | None = None
    owner_id: int | None = None
    deal_id: int | None = None


@dataclass
class Preview:
    """A document's priced lines and totals, computed but not saved (the editor's live totals)."""

    context: PricingContext
    lines: list[PricedLine | None]  # aligned with the lines entered; None for a line with errors
    totals: money.Totals  # of the valid lines
    errors: dict[str, list[str]]


def document_preview(
    *, workspace: Workspace, header: DocumentHeader, lines: Sequence[LineIn], document: Document | None = None
) -> Preview:
    """Price and total a document without saving it; errors are returned, not raised."""
    ctx, *_rest = _context(workspace, header, document)
    priced = price_lines(ctx, lines)
    return Preview(ctx, priced, totals(ctx, valid(priced)), ctx.errors)


def pricing_context(*, workspace: Workspace, header: DocumentHeader) -> PricingContext:
    """The pricing context a new document with ``header`` would have (errors collected, not raised)."""
    return _context(workspace, header, None)[0]


@transaction.atomic
def quote_create(
    *, workspace: Workspace, actor: User | None, header: DocumentHeader, lines: Sequence[LineIn]
) -> Document:
    """A quote for a customer, priced from the catalogue and totalled; numbered in its series."""
    ctx, person, company, owner, deal = _context(workspace, header, None)
    priced = valid(price_lines(ctx, lines))
    _raise(ctx.errors)
    quote = Document(
        workspace=workspace,
        kind=DocumentKind.QUOTE,
        status=DocumentStatus.DRAFT,
        person=person,
        company=company,
        owner=owner or actor,
        deal=deal,
        created_by=actor,
    )
    _apply_header(quote, ctx, header)
    quote.valid_until = _valid_until(header.valid_until, ctx.issue_date) or (
        ctx.issue_date + dt.timedelta(days=ctx.settings.quote_validity_days)
    )
    quote.terms = header.terms if header.terms is not None else ctx.settings.quote_terms
    _number(quote)
    quote.save()
    _save_lines(quote, ctx, priced)
    audit_record(workspace=workspace, actor=actor, action="quote.created", target=quote, summary=quote.number)
    return quote


@transaction.atomic
def document_update(
    *, document: Document, actor: User | None, header: DocumentHeader, lines: Sequence[LineIn] | None = None
) -> Document:
    """Change a draft or sent quote, or a draft invoice. Anything issued is refused: credit it instead."""
    document = Document.objects.select_for_update().get(pk=document.pk)
    _require_editable(document)
    ctx, person, company, owner, deal = _context(document.workspace, header, document)
    priced = valid(price_lines(ctx, lines)) if lines is not None else None
    if priced is None:
        ctx.errors.pop("lines", None)
    _raise(ctx.errors)
    document.person, document.company = person, company
    document.owner, document.deal = owner, deal
    _apply_header(document, ctx, header)
    if header.valid_until is not None:
        document.valid_until = _valid_until(header.valid_until, document.issue_date)
    if header.terms is not None:
        document.terms = header.terms
    document.save()
    if priced is None:
        priced = _priced_from(document, ctx)
    _save_lines(document, ctx, priced)
    audit_record(
        workspace=document.workspace,
        actor=actor,
        action=f"{document.kind}.updated",
        target=document,
        summary=document.number,
    )
    return document


@transaction.atomic
def quote_send(
    *, quote: Document, actor: User | None, to: str = "", language: str | None = None, message: str = ""
) -> Document:
    """Mark the quote sent and email it to the customer with its PDF (by a task, after commit)."""
    from clientela.billing.tasks import send_document_email
    from clientela.core.tasks import enqueue_on_commit

    quote = _lock(quote, DocumentKind.QUOTE)
    if quote.status not in (DocumentStatus.DRAFT, DocumentStatus.SENT):
        raise Conflict(_("Only a draft or sent quote can be sent."))
    recipient = (to or _customer_email(quote)).strip().lower()
    if not recipient:
        raise ValidationFailed(
            _("The customer has no email address: enter one."), fields={"to": [_("Required.")]}
        )
    try:
        validate_email(recipient)
    except ValidationError:
        raise ValidationFailed(
            _("Enter a valid email address."), fields={"to": [_("Invalid email.")]}
        ) from None
    quote.status = DocumentStatus.SENT
    quote.sent_at = timezone.now()
    quote.save(update_fields=["status", "sent_at", "updated_at"])
    interaction_record(
        workspace=quote.workspace,
        kind="email",
        person=quote.person,
        company=quote.company,
        actor=actor,
        direction="out",
        subject=SystemText(
            gettext_noop("Quote %(number)s sent to %(to)s"), {"number": quote.number, "to": recipient}
        ),
        source=quote,
    )
    enqueue_on_commit(send_document_email, quote.workspace_id, quote.pk, recipient, language, message)
    return quote


@dataclass
class Accepted:
    order: Document
    warnings: list[str]


@transaction.atomic
def quote_accept(*, quote: Document, actor: User | None, on: dt.date | None = None) -> Accepted:
    """The customer said yes: the quote becomes an order (dated ``on``, today by default) with the same
    lines and prices. A warning (not a refusal) says when the order takes the customer over their credit
    limit."""
    from clientela.billing.selectors import credit_warning

    quote = _lock(quote, DocumentKind.QUOTE)
    if quote.status not in (DocumentStatus.DRAFT, DocumentStatus.SENT):
        raise Conflict(
            _("This quote was already %(status)s.") % {"status": quote.get_status_display().lower()}
        )
    warning = credit_warning(workspace=quote.workspace, document=quote)
    quote.status = DocumentStatus.ACCEPTED
    quote.decided_at = timezone.now()
    quote.save(update_fields=["status", "decided_at", "updated_at"])
    order = _copy(quote, DocumentKind.ORDER, DocumentStatus.OPEN, actor, on or timezone.localdate())
    _number(order)
    order.save(update_fields=["series", "year", "sequence", "number"])
    _record_purchase(order, actor, gettext_noop("Order %(number)s: %(total)s"))
    audit_record(
        workspace=quote.workspace, actor=actor, action="quote.accepted", target=quote, summary=order.number
    )
    return Accepted(order, [warning] if warning else [])


@transaction.atomic
def quote_decline(*, quote: Document, actor: User | None) -> Document:
    quote = _lock(quote, DocumentKind.QUOTE)
    if quote.status not in (DocumentStatus.DRAFT, DocumentStatus.SENT):
        raise Conflict(
            _("This quote was already %(status)s.") % {"status": quote.get_status_display().lower()}
        )
    quote.status = DocumentStatus.DECLINED
    quote.decided_at = timezone.now()
    quote.save(update_fields=["status", "decided_at", "updated_at"])
    return quote


@transaction.atomic
def order_invoice(
    *, order: Document, actor: User | None, issue_date: dt.date | None = None, issue: bool = True
) -> Document:
    """Invoice an open order: the same lines and prices, with the VAT rates in force on the invoice's
    date (a rate that changed since the quote is applied). Issued at once unless ``issue`` is false."""
    order = _lock(order, DocumentKind.ORDER)
    if order.status != DocumentStatus.OPEN:
        raise Conflict(_("Only an open order can be invoiced."))
    invoice = _copy(
        order, DocumentKind.INVOICE, DocumentStatus.DRAFT, actor, issue_date or timezone.localdate()
    )
    order.status = DocumentStatus.INVOICED
    order.save(update_fields=["status", "updated_at"])
    if issue:
        invoice = invoice_issue(invoice=invoice, actor=actor)
    return invoice


@transaction.atomic
def invoice_issue(*, invoice: Document, actor: User | None) -> Document:
    """Give a draft invoice its number (the next in its series and year, without gaps), its due date
    and its exchange rate; from now on it cannot change."""
    invoice = _lock(invoice, DocumentKind.INVOICE)
    if invoice.status != DocumentStatus.DRAFT:
        raise Conflict(_("This invoice is already issued."))
    if not invoice.lines.exists():
        raise ValidationFailed(_("An invoice needs at least one line."), fields={"lines": [_("Empty.")]})
    invoice.exchange_rate = _rate_or_error(invoice.workspace, invoice.currency, invoice.issue_date)
    invoice.due_date = invoice.issue_date + dt.timedelta(days=invoice.payment_terms_days)
    invoice.status = DocumentStatus.ISSUED
    invoice.issued_at = timezone.now()
    _number(invoice)
    invoice.save()
    _record_purchase(invoice, actor, gettext_noop("Invoice %(number)s: %(total)s"))
    audit_record(
        workspace=invoice.workspace,
        actor=actor,
        action="invoice.issued",
        target=invoice,
        summary=invoice.number,
    )
    return invoice


@dataclass(frozen=True)
class CreditLineIn:
    """Part of an invoice line to take back: ``quantity`` of invoice line ``line_id``."""

    line_id: int
    quantity: Any


def creditable_quantities(invoice: Document) -> dict[int, Decimal]:
    """What is left to credit of each line of ``invoice``: its quantity minus earlier credit notes'."""
    credited: dict[int, Decimal] = defaultdict(Decimal)
    for line_id, quantity in DocumentLine.objects.filter(
        workspace=invoice.workspace, credits_line__document=invoice
    ).values_list("credits_line_id", "quantity"):
        credited[line_id] += quantity
    return {line.pk: line.quantity - credited[line.pk] for line in invoice.lines.all()}


@transaction.atomic
def invoice_credit(
    *,
    invoice: Document,
    actor: User | None,
    reason: str = "",
    lines: Sequence[CreditLineIn] | None = None,
) -> Document:
    """Take an issued invoice back with a credit note: ``lines`` chooses what (a quantity of each line,
    at most what earlier credit notes left); without them, everything not credited yet. What the
    customer paid stays paid: it becomes their credit, to refund or to use."""
    invoice = _lock(invoice, DocumentKind.INVOICE)
    if invoice.status not in (DocumentStatus.ISSUED, DocumentStatus.PAID):
        raise Conflict(_("Only an issued invoice can be credited."))
    remaining = creditable_quantities(invoice)
    if invoice.amount_credited >= invoice.gross or not any(q > 0 for q in remaining.values()):
        raise Conflict(_("This invoice is already credited in full."))
    chosen = _credit_choice(remaining, lines)
    note = _copy(
        invoice,
        DocumentKind.CREDIT_NOTE,
        DocumentStatus.ISSUED,
        actor,
        timezone.localdate(),
        retax=False,
        quantities=chosen,
    )
    note.notes = reason
    note.exchange_rate = invoice.exchange_rate
    note.issued_at = timezone.now()
    _number(note)
    note.save()
    note_lines = list(note.lines.order_by("position"))
    for note_line, invoice_line_id in zip(note_lines, chosen, strict=True):
        note_line.credits_line_id = invoice_line_id
    DocumentLine.objects.bulk_update(note_lines, ["credits_line"])
    credited_in_full = all(remaining[line_id] == chosen.get(line_id, 0) for line_id in remaining)
    # The last note closes the invoice exactly, whatever cents per-document rounding moved between notes.
    invoice.amount_credited = (
        invoice.gross if credited_in_full else min(invoice.gross, invoice.amount_credited + note.gross)
    )
    _settle(invoice)
    _record_purchase(note, actor, gettext_noop("Credit note %(number)s: %(total)s"))
    audit_record(
        workspace=invoice.workspace,
        actor=actor,
        action="invoice.credited",
        target=invoice,
        summary=note.number,
    )
    return note


def _credit_choice(remaining: dict[int, Decimal], lines: Sequence[CreditLineIn] | None) -> dict[int, Decimal]:
    """Invoice line id -> quantity to credit, in the invoice's order; every bad entry is one error."""
    if lines is None:
        return {line_id: quantity for line_id, quantity in remaining.items() if quantity > 0}
    errors: dict[str, list[str]] = {}
    asked: dict[int, Decimal] = {}
    for i, line in enumerate(lines):
        if line.line_id not in remaining:
            errors[f"lines.{i}.line"] = [_("Not a line of this invoice.")]
            continue
        quantity = _amount(line.quantity, f"lines.{i}.quantity", errors, minimum=Decimal(0))
        if quantity is None:
            continue
        if quantity > remaining[line.line_id]:
            errors[f"lines.{i}.quantity"] = [
                _("At most %(quantity)s is left to credit.")
                % {"quantity": f"{remaining[line.line_id].normalize():f}"}
            ]
        elif quantity > 0:
            asked[line.line_id] = asked.get(line.line_id, Decimal(0)) + quantity
    if not errors and not asked:
        errors["lines"] = [_("Choose a quantity to credit on at least one line.")]
    _raise(errors)
    return {line_id: asked[line_id] for line_id in remaining if line_id in asked}


@transaction.atomic
def payment_register(
    *,
    invoice: Document,
    actor: User | None,
    amount: Any,
    paid_on: Any = None,
    kind: str = PaymentKind.PAYMENT,
    method: str = "",
    reference: str = "",
    as_credit: bool = False,
) -> Payment:
    """Record a payment (partial or full) or a refund against an issued invoice.

    A payment above the amount due is refused unless ``as_credit`` keeps the excess as the customer's
    credit; a refund cannot exceed what was paid. Commission statements counted on paid invoices are
    recomputed for the invoice's salesperson and the payment's period.
    """
    from clientela.billing.commissions import commission_statements_refresh_for_payment

    invoice = _lock(invoice, DocumentKind.INVOICE)
    errors: dict[str, list[str]] = {}
    value = _amount(amount, "amount", errors)
    day = _date(paid_on, "paid_on", errors) or timezone.localdate()
    if kind not in PaymentKind.values:
        errors["kind"] = [_("Unknown kind.")]
    if invoice.status not in (DocumentStatus.ISSUED, DocumentStatus.PAID):
        raise Conflict(_("Payments are registered against issued invoices."))
    if value is not None:
        value = money.quantize(value, invoice.currency, invoice.rounding_mode)
        if value <= 0:
            errors["amount"] = [_("Enter an amount above zero.")]
    _raise(errors)
    assert value is not None
    credit = Decimal(0)
    due = invoice.amount_due
    if kind == PaymentKind.PAYMENT and value > due:
        if not as_credit:
            raise ValidationFailed(
                _("The payment is larger than the amount due (%(due)s): mark the excess as credit.")
                % {"due": money.format_money(max(due, Decimal(0)), invoice.currency)},
                fields={"amount": [_("More than the amount due.")]},
            )
        credit = value - max(due, Decimal(0))
    if kind == PaymentKind.REFUND and value > invoice.amount_paid:
        raise ValidationFailed(
            _("A refund cannot exceed what was paid (%(paid)s).")
            % {"paid": money.format_money(invoice.amount_paid, invoice.currency)},
            fields={"amount": [_("More than was paid.")]},
        )
    payment = Payment.objects.create(
        workspace=invoice.workspace,
        invoice=invoice,
        kind=kind,
        amount=value,
        credit=credit,
        paid_on=day,
        method=method[:40],
        reference=reference[:100],
        created_by=actor,
    )
    invoice.amount_paid = invoice.amount_paid + (value if kind == PaymentKind.PAYMENT else -value)
    _settle(invoice)
    audit_record(
        workspace=invoice.workspace,
        actor=actor,
        action=f"{kind}.registered",
        target=invoice,
        summary=f"{invoice.number}: {value} {invoice.currency}",
    )
    commission_statements_refresh_for_payment(payment=payment)
    return payment


# --- deal lines -----------------------------------------------------------------------------------


@transaction.atomic
def deal_line_add(*, workspace: Workspace, actor: User | None, deal: Any, line: LineIn) -> DealLine:
    """Put a product on a deal, priced like a quote line in the workspace currency."""
    header = DocumentHeader(
        person_id=deal.person_id,
        company_id=deal.company_id,
        currency=deal.currency or workspace.default_currency,
    )
    if deal.person_id is None and deal.company_id is None:
        header = DocumentHeader(currency=header.currency)
    ctx = _deal_context(workspace, header)
    priced = valid(price_lines(ctx, [line]))
    _raise(ctx.errors)
    item = priced[0]
    return DealLine.objects.create(
        workspace=workspace,
        deal=deal,
        product=item.product,
        description=item.description,
        quantity=item.quantity,
        unit_price=item.unit_price,
        unit_cost=item.unit_cost,
        discount_percent=item.discount_percent,
        tax_category=item.tax_category,
        position=DealLine.objects.filter(deal=deal).count(),
    )


@transaction.atomic
def deal_line_delete(*, line: DealLine) -> None:
    line.delete()


# --- helpers: documents ---------------------------------------------------------------------------


def _deal_context(workspace: Workspace, header: DocumentHeader) -> PricingContext:
    settings = billing_settings_for(workspace)
    return PricingContext(
        workspace=workspace,
        settings=settings,
        currency=(header.currency or workspace.default_currency).upper(),
        issue_date=timezone.localdate(),
        tax_country=settings.country,
        rounding_scope=settings.rounding_scope,
        rounding_mode=settings.rounding_mode,
    )


def _context(
    workspace: Workspace, header: DocumentHeader, document: Document | None
) -> tuple[PricingContext, Person | None, Company | None, User | None, Any]:
    """Validate the header against the workspace and build the pricing context (errors collected)."""
    from clientela.sales.models import Deal

    settings = billing_settings_for(workspace)
    errors: dict[str, list[str]] = {}
    person = document.person if document and header.person_id is None else None
    company = document.company if document and header.company_id is None else None
    if header.person_id:
        person = person_with_facts(workspace, header.person_id)
        if person is None:
            errors["person"] = [_("No such person.")]
    if header.company_id:
        company = company_with_facts(workspace, header.company_id)
        if company is None:
            errors["company"] = [_("No such company.")]
    if person is None and company is None and not errors:
        errors["customer"] = [_("Choose a customer.")]
    currency = _currency(
        header.currency or (document.currency if document else workspace.default_currency), errors
    )
    issue_date = _date(header.issue_date, "issue_date", errors) or (
        document.issue_date if document else timezone.localdate()
    )
    price_list = document.price_list if document and header.price_list_id is None else None
    if header.price_list_id:
        price_list = PriceList.objects.filter(workspace=workspace, pk=header.price_list_id).first()
        if price_list is None:
            errors["price_list"] = [_("No such price list.")]
        elif currency and price_list.currency != currency:
            errors["price_list"] = [
                _("The price list is in %(list)s, the document in %(document)s.")
                % {"list": price_list.currency, "document": currency}
            ]
    discount = _amount(
        header.discount_percent
        if header.discount_percent not in (None, "")
        else (document.discount_percent if document else 0),
        "discount_percent",
        errors,
        minimum=Decimal(0),
    )
    if discount is not None and discount > 100:
        errors["discount_percent"] = [_("A discount is between 0 and 100 %.")]
    owner: User | None = document.owner if document else None
    if header.owner_id:
        membership = (
            Membership.objects.filter(workspace=workspace, user_id=header.owner_id)
            .select_related("user")
            .first()
        )
        owner = membership.user if membership else None
        if membership is None:
            errors["owner"] = [_("The salesperson must be a member of this workspace.")]
    deal = document.deal if document else None
    if header.deal_id:
        deal = Deal.objects.filter(workspace=workspace, pk=header.deal_id).first()
        if deal is None:
            errors["deal"] = [_("No such deal.")]
    seller = settings.country
    exemption = (
        header.exemption_reason
        if header.exemption_reason is not None
        else (document.exemption_reason if document else "")
    )
    treatment = header.tax_treatment or (
        document.tax_treatment
        if document and header.person_id is None and header.company_id is None
        else None
    )
    if treatment is None and (person or company):
        treatment = default_treatment(seller, person, company)
    treatment = treatment or TaxTreatment.DOMESTIC
    if person or company:
        errors.update(check_treatment(treatment, exemption, seller, person, company))
    ctx = PricingContext(
        workspace=workspace,
        settings=settings,
        currency=currency or workspace.default_currency,
        issue_date=issue_date,
        tax_country=document.tax_country if document else seller,
        treatment=treatment,
        exemption_reason=exemption,
        price_list=price_list,
        customer_group=customer_group(person, company),
        discount_percent=discount or Decimal(0),
        rounding_scope=document.rounding_scope if document else settings.rounding_scope,
        rounding_mode=document.rounding_mode if document else settings.rounding_mode,
        errors=errors,
    )
    if currency and ctx.exchange_rate() is None:  # read once: pricing the lines reuses it
        errors["currency"] = [
            _("There is no exchange rate for %(currency)s on %(date)s: add one in the billing settings.")
            % {"currency": currency, "date": issue_date.isoformat()}
        ]
    return ctx, person, company, owner, deal


def _apply_header(document: Document, ctx: PricingContext, header: DocumentHeader) -> None:
    document.currency = ctx.currency
    document.issue_date = ctx.issue_date
    document.price_list = ctx.price_list
    document.discount_percent = ctx.discount_percent
    document.tax_country = ctx.tax_country
    document.tax_treatment = ctx.treatment
    document.exemption_reason = ctx.exemption_reason
    document.customer_vat = customer_vat(document.person, document.company)
    document.rounding_scope = ctx.rounding_scope
    document.rounding_mode = ctx.rounding_mode
    if header.notes is not None:
        document.notes = header.notes
    if document.pk is None:
        account = account_for(document.person, document.company)
        terms = account.payment_terms_days if account and account.payment_terms_days is not None else None
        document.payment_terms_days = terms if terms is not None else ctx.settings.payment_terms_days


def _save_lines(document: Document, ctx: PricingContext, priced: Sequence[PricedLine]) -> None:
    """Replace the document's lines and store the totals computed by core/money."""
    result = totals(ctx, priced)
    DocumentLine.objects.filter(document=document).delete()
    DocumentLine.objects.bulk_create(
        [
            DocumentLine(
                workspace=document.workspace,
                document=document,
                position=i,
                product=line.product,
                description=line.description,
                unit=line.unit,
                quantity=line.quantity,
                unit_price=line.unit_price,
                price_includes_tax=line.price_includes_tax,
                unit_cost=line.unit_cost,
                discount_percent=line.discount_percent,
                tax_category=line.tax_category,
                tax_rate=line.tax_rate,
                tax_key=line.tax_key,
                tax_note=line.tax_note,
                list_amount=t.list_amount,
                discount_amount=t.discount,
                net=t.net,
                tax=t.tax,
                gross=t.gross,
                cost=t.cost,
            )
            for i, (line, t) in enumerate(zip(priced, result.lines, strict=True))
        ]
    )
    document.list_amount = result.list_amount
    document.discount_amount = result.discount
    document.net, document.tax, document.gross, document.cost = (
        result.net,
        result.tax,
        result.gross,
        result.cost,
    )
    document.taxes = [
        {"key": t.key, "rate": str(t.rate), "base": str(t.base), "tax": str(t.tax)} for t in result.taxes
    ]
    document.save(
        update_fields=["list_amount", "discount_amount", "net", "tax", "gross", "cost", "taxes", "updated_at"]
    )


def _priced_from(
    document: Document,
    ctx: PricingContext,
    retax: bool = False,
    quantities: dict[int, Decimal] | None = None,
) -> list[PricedLine]:
    """A document's stored lines as priced lines; with ``retax``, VAT rates are looked up again for
    the context's date (an invoice applies the rate in force when it is issued). ``quantities`` (line
    id -> quantity) keeps only those lines, with those quantities (a partial credit note)."""
    lines = []
    for i, line in enumerate(document.lines.select_related("product")):
        if quantities is not None:
            if line.pk not in quantities:
                continue
            line.quantity = quantities[line.pk]
        rate, key, note = line.tax_rate, line.tax_key, line.tax_note
        if retax:
            rate, key, note = line_tax(ctx, line.tax_category, None, f"lines.{i}")
        lines.append(
            PricedLine(
                product=line.product,
                description=line.description,
                unit=line.unit,
                quantity=line.quantity,
                unit_price=line.unit_price,
                price_includes_tax=line.price_includes_tax,
                unit_cost=line.unit_cost,
                discount_percent=line.discount_percent,
                tax_category=line.tax_category,
                tax_rate=rate,
                tax_key=key,
                tax_note=note,
            )
        )
    return lines


def _copy(
    source: Document,
    kind: str,
    status: str,
    actor: User | None,
    issue_date: dt.date,
    retax: bool = True,
    quantities: dict[int, Decimal] | None = None,
) -> Document:
    """A new document of ``kind`` with ``source``'s customer, terms and lines (``quantities``: only
    those lines, with those quantities)."""
    settings = billing_settings_for(source.workspace)
    ctx = PricingContext(
        workspace=source.workspace,
        settings=settings,
        currency=source.currency,
        issue_date=issue_date,
        tax_country=source.tax_country,
        treatment=source.tax_treatment,
        exemption_reason=source.exemption_reason,
        price_list=source.price_list,
        discount_percent=source.discount_percent,
        rounding_scope=source.rounding_scope,
        rounding_mode=source.rounding_mode,
    )
    priced = _priced_from(source, ctx, retax=retax, quantities=quantities)
    _raise(ctx.errors)
    fields = [
        "person",
        "company",
        "owner",
        "deal",
        "currency",
        "price_list",
        "payment_terms_days",
        "terms",
        "notes",
        "tax_country",
        "tax_treatment",
        "exemption_reason",
        "customer_vat",
        "rounding_scope",
        "rounding_mode",
        "discount_percent",
    ]
    document = Document(
        workspace=source.workspace,
        kind=kind,
        status=status,
        source=source,
        issue_date=issue_date,
        created_by=actor,
        **{name: getattr(source, name) for name in fields},
    )
    document.save()
    _save_lines(document, ctx, priced)
    return document


def _number(document: Document) -> None:
    """Take the next number of the document's series and year, holding the counter row's lock until
    the transaction ends: two issuers queue, and a rollback gives the number back.

    Invoices and credit notes are numbered in the order of their dates, as Italian, Hungarian and
    Romanian law require: one dated before the last of its series is refused."""
    series = document.series or SERIES[DocumentKind(document.kind)]
    year = document.issue_date.year
    workspace = document.workspace
    counter = (
        NumberCounter.objects.select_for_update()
        .filter(workspace=workspace, series=series, year=year)
        .first()
    )
    if counter is None:
        try:
            with transaction.atomic():
                NumberCounter.objects.create(workspace=workspace, series=series, year=year, last_number=0)
        except IntegrityError:  # another transaction created it first: queue behind its lock
            pass
        counter = NumberCounter.objects.select_for_update().get(workspace=workspace, series=series, year=year)
    if document.kind in (DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE) and counter.last_number:
        _check_date_order(document, series, year, counter.last_number)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    document.series, document.year, document.sequence = series, year, counter.last_number
    document.number = f"{series}-{year}-{counter.last_number:05d}"


def _check_date_order(document: Document, series: str, year: int, last: int) -> None:
    previous = (
        Document.objects.filter(workspace=document.workspace, series=series, year=year, sequence=last)
        .values_list("number", "issue_date")
        .first()
    )
    if previous is not None and document.issue_date < previous[1]:
        message = _(
            "%(number)s, the last of this series, is dated %(date)s: numbers follow dates, so this one "
            "cannot be dated earlier."
        ) % {"number": previous[0], "date": date_format(previous[1], "SHORT_DATE_FORMAT")}
        raise ValidationFailed(message, fields={"issue_date": [message]})


def _settle(invoice: Document) -> None:
    invoice.status = DocumentStatus.PAID if invoice.amount_due <= 0 else DocumentStatus.ISSUED
    invoice.save(update_fields=["amount_paid", "amount_credited", "status", "updated_at"])


def _record_purchase(document: Document, actor: User | None, message: str) -> None:
    """Orders, invoices and credit notes are the customer's purchase history on their timeline."""
    interaction_record(
        workspace=document.workspace,
        kind="order",
        person=document.person,
        company=document.company,
        actor=actor,
        subject=SystemText(
            message, {"number": document.number, "total": Money(document.gross, document.currency)}
        ),
        source=document,
        occurred_at=_noon(document.issue_date) if document.issue_date != timezone.localdate() else None,
        data={
            "kind": document.kind,
            "number": document.number,
            "gross": str(document.gross),
            "currency": document.currency,
        },
    )


def _noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def _lock(document: Document, kind: str) -> Document:
    locked = Document.objects.select_for_update().get(workspace=document.workspace, pk=document.pk)
    if locked.kind != kind:
        raise Conflict(_("This is not a %(kind)s.") % {"kind": DocumentKind(kind).label.lower()})
    return locked


def _require_editable(document: Document) -> None:
    if document.is_editable:
        return
    if document.kind == DocumentKind.INVOICE:
        raise Conflict(
            _("Invoice %(number)s is issued and cannot be changed: issue a credit note instead.")
            % {"number": document.number},
            code="invoice_issued",
        )
    raise Conflict(
        _("This %(kind)s can no longer be changed.") % {"kind": document.get_kind_display().lower()},
        code="not_editable",
    )


def _customer_email(document: Document) -> str:
    for key, record in (("person", document.person), ("company", document.company)):
        if record is not None:
            email = Email.objects.filter(**{key: record}).order_by("-is_primary", "id").first()
            if email is not None:
                return email.email
    return ""


def _rate_or_error(workspace: Workspace, currency: str, on: dt.date) -> Decimal:
    rate = exchange_rate_on(workspace, currency, on)
    if rate is None:
        raise ValidationFailed(
            _("There is no exchange rate for %(currency)s on %(date)s.")
            % {"currency": currency, "date": on.isoformat()},
            fields={"currency": [_("No exchange rate.")]},
        )
    return rate


# --- helpers: values ------------------------------------------------------------------------------


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)


def _unknown(attributes: dict[str, Any], allowed: frozenset[str]) -> dict[str, list[str]]:
    return {name: [_("Unknown field.")] for name in set(attributes) - allowed}


def _full_clean(record: Any, errors: dict[str, list[str]]) -> None:
    try:
        record.full_clean(exclude=["workspace", *errors], validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    _raise(errors)


def _amount(
    value: Any, name: str, errors: dict[str, list[str]], minimum: Decimal | None = None
) -> Decimal | None:
    if value in (None, ""):
        errors[name] = [_("Required.")]
        return None
    try:
        amount = money.to_decimal(value)
    except money.MoneyError:
        errors[name] = [_("Enter a number.")]
        return None
    if minimum is not None and amount < minimum:
        errors[name] = [_("Cannot be negative.")]
        return None
    return amount


def _date(value: Any, name: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    parsed = parse_date(str(value))
    if parsed is None:
        errors[name] = [_("Enter a date as YYYY-MM-DD.")]
    return parsed


def _valid_until(value: Any, issue_date: dt.date) -> dt.date | None:
    """A quote's last day, refused when it is not a date or comes before the quote's own date."""
    errors: dict[str, list[str]] = {}
    valid_until = _date(value, "valid_until", errors)
    if valid_until is not None and valid_until < issue_date:
        errors["valid_until"] = [_("A quote cannot expire before its own date.")]
    _raise(errors)
    return valid_until


def _currency(value: Any, errors: dict[str, list[str]]) -> str:
    code = str(value or "").strip().upper()
    try:
        money.currency_exponent(code)
    except money.MoneyError:
        errors["currency"] = [_("Enter a three-letter currency code, e.g. EUR.")]
        return ""
    if get_currency_name(code) == code:
        errors["currency"] = [_("Unknown currency %(code)s.") % {"code": code}]
        return ""
    return code


def _country(value: Any, errors: dict[str, list[str]]) -> str:
    code = str(value or "").strip().upper()
    if len(code) != 2 or not code.isalpha():
        errors["country"] = [_("Enter a two-letter country code, e.g. IT.")]
    return code
