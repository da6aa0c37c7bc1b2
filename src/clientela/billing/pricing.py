"""Pricing: which price, which VAT rate and which tax treatment a document line gets, and its totals.

Used by the services (to save a document) and by the editor's live preview (to show totals as the user
types) so that both compute the same thing. Reads only; the arithmetic and rounding are in core/money.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from clientela.billing.models import (
    BillingSettings,
    CustomerAccount,
    ExchangeRate,
    PriceList,
    PriceListItem,
    Product,
    TaxCategory,
    TaxRate,
    TaxTreatment,
)
from clientela.contacts.models import Address, Company, Person
from clientela.contacts.services import vat_normalise
from clientela.core import money
from clientela.core.errors import ValidationFailed
from clientela.core.rawsql import Columns, any_of, fetch_all, fetch_one
from clientela.workspaces.models import Workspace

EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)
VAT_PREFIX_COUNTRY = {"EL": "GR"}
MAX_DISCOUNT = Decimal(100)
TAX_CATEGORIES = frozenset(TaxCategory.values)

# Statutory VAT rates seeded into every workspace: (country, category, rate, valid from, valid to).
SEEDED_TAX_RATES: list[tuple[str, str, str, dt.date, dt.date | None]] = [
    ("IT", TaxCategory.STANDARD, "22", dt.date(2013, 10, 1), None),
    ("IT", TaxCategory.REDUCED, "10", dt.date(1995, 2, 24), None),
    ("IT", TaxCategory.REDUCED_2, "5", dt.date(2016, 1, 1), None),
    ("IT", TaxCategory.SUPER_REDUCED, "4", dt.date(1989, 1, 1), None),
    ("HU", TaxCategory.STANDARD, "27", dt.date(2012, 1, 1), None),
    ("HU", TaxCategory.REDUCED, "18", dt.date(2009, 7, 1), None),
    ("HU", TaxCategory.REDUCED_2, "5", dt.date(2009, 7, 1), None),
    # Romania: Law 141/2025 raised the standard rate to 21 % and merged the 9 % and 5 % rates into 11 %
    # from 1 August 2025.
    ("RO", TaxCategory.STANDARD, "19", dt.date(2017, 1, 1), dt.date(2025, 7, 31)),
    ("RO", TaxCategory.REDUCED, "9", dt.date(2016, 1, 1), dt.date(2025, 7, 31)),
    ("RO", TaxCategory.REDUCED_2, "5", dt.date(2016, 1, 1), dt.date(2025, 7, 31)),
    ("RO", TaxCategory.STANDARD, "21", dt.date(2025, 8, 1), None),
    ("RO", TaxCategory.REDUCED, "11", dt.date(2025, 8, 1), None),
    ("RO", TaxCategory.REDUCED_2, "11", dt.date(2025, 8, 1), None),
]

# The reads of every recalculation, hand-written (see ``core.rawsql``): products with the items of the
# lists that price them, and the tax rates in force.
_CATALOGUE = (Columns(Product, "p"), Columns(PriceListItem, "i"), Columns(PriceList, "l"))
_TAX_RATE = Columns(TaxRate, "r")
# A document's customer, with the country of its address and its customer group (``_facts_sql``).
_PERSON, _PERSON_COMPANY, _COMPANY = Columns(Person, "p"), Columns(Company, "c"), Columns(Company, "c")
_FACTS = ("billing_country", "billing_group")


@dataclass
class LineIn:
    """A document or deal line as entered: a product and/or a description, quantity, optional price."""

    description: str = ""
    quantity: Decimal | str = Decimal(1)
    product_id: int | None = None
    unit_price: Decimal | str | None = None  # None: from the price lists
    discount_percent: Decimal | str = Decimal(0)
    unit: str = ""
    unit_cost: Decimal | str | None = None  # None: the product's cost
    tax_category: str = ""  # "" : the product's
    tax_rate_id: int | None = None  # an explicit rate, which must be valid on the document's date


@dataclass
class PricedLine:
    product: Product | None
    description: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    price_includes_tax: bool
    unit_cost: Decimal
    discount_percent: Decimal
    tax_category: str
    tax_rate: Decimal
    tax_key: str
    tax_note: str

    def money_input(self) -> money.LineInput:
        return money.LineInput(
            quantity=self.quantity,
            unit_price=self.unit_price,
            tax_rate=self.tax_rate,
            discount_percent=self.discount_percent,
            price_includes_tax=self.price_includes_tax,
            unit_cost=self.unit_cost,
            tax_key=self.tax_key,
        )


@dataclass
class PricingContext:
    """Everything that decides a line's price and tax on one document.

    It also remembers what it has read (tax rates, price lists and their items, exchange rates), so that
    a document of fifty lines costs the same few queries as a document of one.
    """

    workspace: Workspace
    settings: BillingSettings
    currency: str
    issue_date: dt.date
    tax_country: str
    treatment: str = TaxTreatment.DOMESTIC
    exemption_reason: str = ""
    price_list: PriceList | None = None
    customer_group: str = ""
    discount_percent: Decimal = Decimal(0)
    rounding_scope: str = money.RoundingScope.LINE
    rounding_mode: str = money.DEFAULT_ROUNDING
    errors: dict[str, list[str]] = field(default_factory=dict)
    _tax_rates: dict[tuple[str, dt.date], dict[str, TaxRate]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _tax_rates_by_id: dict[int, TaxRate | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _exchange_rates: dict[tuple[str, dt.date], Decimal | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # product id -> (price list, the product's items in it), see ``price_list_items``
    _items: dict[int, list[tuple[PriceList, list[PriceListItem]]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def tax_rate(self, category: str) -> TaxRate | None:
        """The rate of ``category`` in the tax country on the issue date (all categories read at once)."""
        key = (self.tax_country, self.issue_date)
        if key not in self._tax_rates:
            in_force = fetch_all(
                [_TAX_RATE],
                "SELECT {columns} FROM {r} WHERE r.workspace_id = %s AND r.country = %s"
                " AND r.valid_from <= %s AND (r.valid_to IS NULL OR r.valid_to >= %s)"
                " ORDER BY r.category, r.valid_from DESC",
                [self.workspace.pk, self.tax_country, self.issue_date, self.issue_date],
            )
            by_category: dict[str, TaxRate] = {}
            for (rate,) in in_force:  # the latest start of each category first
                assert isinstance(rate, TaxRate)
                by_category.setdefault(rate.category, rate)
            self._tax_rates[key] = by_category
        return self._tax_rates[key].get(category)

    def tax_rate_by_id(self, tax_rate_id: int) -> TaxRate | None:
        """A rate of the workspace by id (whatever its country and dates); see ``prefetch``."""
        if tax_rate_id not in self._tax_rates_by_id:
            self._load_tax_rates([tax_rate_id])
        return self._tax_rates_by_id[tax_rate_id]

    def exchange_rate(self) -> Decimal | None:
        """``exchange_rate_on`` for the document's currency and date."""
        key = (self.currency, self.issue_date)
        if key not in self._exchange_rates:
            self._exchange_rates[key] = exchange_rate_on(self.workspace, self.currency, self.issue_date)
        return self._exchange_rates[key]

    def price_list_items(self, product_id: int) -> list[tuple[PriceList, list[PriceListItem]]]:
        """The lists that price the product, in the order a price is looked up in them, each with the
        product's items in it (the highest minimum quantity first); see ``products``.

        The lists are the document's own list, else the active lists in its currency valid on its date,
        the customer's group first, then the latest start."""
        if product_id not in self._items:
            self.products([product_id])
        return self._items.get(product_id, [])

    def prefetch(self, lines: Sequence[LineIn]) -> dict[int, Product]:
        """Read what pricing ``lines`` will need, in one query each: their products (returned, by id)
        with the price list items that can price them, and the explicit tax rates they name."""
        self._load_tax_rates(
            {line.tax_rate_id for line in lines if line.tax_rate_id is not None}
            - self._tax_rates_by_id.keys()
        )
        return self.products({line.product_id for line in lines if line.product_id})

    def products(self, product_ids: Iterable[int]) -> dict[int, Product]:
        """The workspace's products among ``product_ids``, by id, and (remembered for
        ``price_list_items``) the items of the price lists that apply to this document, in one query
        written by hand (``core.rawsql``): it runs on every recalculation of a document as its lines
        are typed."""
        product_ids = list(product_ids)
        if not product_ids:
            return {}
        params: list[Any]
        if self.price_list is not None:
            lists, params = "l.id = %s", [self.price_list.pk]
        else:
            lists = (
                "l.currency = %s AND l.active = %s AND l.customer_group IN (%s, '')"
                " AND (l.valid_from IS NULL OR l.valid_from <= %s)"
                " AND (l.valid_to IS NULL OR l.valid_to >= %s)"
            )
            params = [self.currency, True, self.customer_group, self.issue_date, self.issue_date]
        ids, ids_param = any_of(product_ids)
        rows = fetch_all(
            _CATALOGUE,
            "SELECT {columns} FROM {p} LEFT JOIN ({i} JOIN {l} ON l.id = i.price_list_id AND "  # noqa: S608
            + lists
            + ") ON i.product_id = p.id AND i.workspace_id = p.workspace_id"
            f" WHERE p.workspace_id = %s AND p.id {ids} ORDER BY p.id, i.min_quantity DESC, i.id",
            [*params, self.workspace.pk, ids_param],
        )
        found: dict[int, Product] = {}
        lists_of: dict[int, dict[int, tuple[PriceList, list[PriceListItem]]]] = {}
        for product, item, price_list in rows:
            assert isinstance(product, Product)
            found[product.pk] = product
            by_list = lists_of.setdefault(product.pk, {})
            if isinstance(item, PriceListItem) and isinstance(price_list, PriceList):
                by_list.setdefault(price_list.pk, (price_list, []))[1].append(item)
        for product_id, by_list in lists_of.items():
            self._items[product_id] = sorted(by_list.values(), key=lambda pair: _lookup_order(pair[0]))
        return found

    def _load_tax_rates(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        if not ids:
            return
        found = {rate.pk: rate for rate in TaxRate.objects.filter(workspace=self.workspace, pk__in=ids)}
        for tax_rate_id in ids:
            self._tax_rates_by_id[tax_rate_id] = found.get(tax_rate_id)


def _lookup_order(price_list: PriceList) -> tuple[bool, int, int]:
    """The customer's group first, then the latest start."""
    return (
        price_list.customer_group == "",
        -(price_list.valid_from or dt.date.min).toordinal(),
        price_list.pk,
    )


# --- customers and tax treatment ------------------------------------------------------------------


def person_with_facts(workspace: Workspace, person_id: int) -> Person | None:
    """The live person with their company and what pricing asks of them (``_FACTS``), in one query."""
    found = fetch_one(
        (_PERSON, _PERSON_COMPANY),
        "SELECT {columns}, "  # noqa: S608  (identifiers from the models; values are parameters)
        + _facts_sql("person", "p")
        + " FROM {p} LEFT JOIN {c} ON c.id = p.company_id"
        " WHERE p.workspace_id = %s AND p.id = %s AND p.deleted_at IS NULL",
        [workspace.pk, person_id],
        annotations=_FACTS,
    )
    if found is None:
        return None
    person, company = found
    assert isinstance(person, Person)
    person.company = company  # type: ignore[assignment]
    return person


def company_with_facts(workspace: Workspace, company_id: int) -> Company | None:
    """The live company with what pricing asks of it (``_FACTS``), in one query."""
    found = fetch_one(
        (_COMPANY,),
        "SELECT {columns}, "  # noqa: S608  (identifiers from the models; values are parameters)
        + _facts_sql("company", "c")
        + " FROM {c}"
        " WHERE c.workspace_id = %s AND c.id = %s AND c.deleted_at IS NULL",
        [workspace.pk, company_id],
        annotations=_FACTS,
    )
    company = found[0] if found else None
    assert company is None or isinstance(company, Company)
    return company


def _facts_sql(key: str, alias: str) -> str:
    """The SELECT expressions of ``_FACTS`` for the person or company (``key``) of table ``alias``: the
    country of its first address that names one, and the customer group of its account.
    ``customer_country`` and ``customer_group`` use them instead of a query each."""
    quote = connection.ops.quote_name
    addresses, accounts = quote(Address._meta.db_table), quote(CustomerAccount._meta.db_table)
    return (
        f"(SELECT a.country FROM {addresses} a WHERE a.{key}_id = {alias}.id AND a.country <> ''"  # noqa: S608
        " ORDER BY a.is_primary DESC, a.id LIMIT 1), "
        f"(SELECT g.customer_group FROM {accounts} g WHERE g.{key}_id = {alias}.id LIMIT 1)"
    )


def _fact(record: Person | Company, name: str) -> tuple[bool, Any]:
    """(read, value) of one of the ``_FACTS`` of a record read with them."""
    return (True, vars(record)[name]) if name in vars(record) else (False, None)


def customer_country(person: Person | None, company: Company | None) -> str:
    """Where the customer is: the company's (or person's) primary address, else its VAT prefix."""
    for key, record in (("company", company), ("person", person)):
        if record is None:
            continue
        read, country = _fact(record, "billing_country")
        if not read:
            address = (
                Address.objects.filter(**{key: record})
                .exclude(country="")
                .order_by("-is_primary", "id")
                .first()
            )
            country = address.country if address is not None else None
        if country:
            return str(country).upper()
    company = company or (person.company if person is not None else None)
    if company is not None and company.vat_number[:2].isalpha():
        prefix = company.vat_number[:2].upper()
        return VAT_PREFIX_COUNTRY.get(prefix, prefix)
    return ""


def customer_vat(person: Person | None, company: Company | None) -> str:
    company = company or (person.company if person is not None else None)
    return company.vat_number if company is not None else ""


def default_treatment(seller_country: str, person: Person | None, company: Company | None) -> str:
    """Domestic VAT, unless the customer is a business with a valid VAT number elsewhere in the EU
    (reverse charge) or is outside the EU (export). Consumers in the EU pay the seller's VAT."""
    country = customer_country(person, company)
    if not country or country == seller_country:
        return TaxTreatment.DOMESTIC
    if country not in EU_COUNTRIES:
        return TaxTreatment.EXPORT
    return TaxTreatment.REVERSE_CHARGE if _valid_vat(customer_vat(person, company)) else TaxTreatment.DOMESTIC


def check_treatment(
    treatment: str, exemption_reason: str, seller_country: str, person: Person | None, company: Company | None
) -> dict[str, list[str]]:
    """Errors of a chosen tax treatment: reverse charge needs an EU business customer with a valid VAT
    number in another country; an exemption needs its legal reason."""
    if treatment not in TaxTreatment.values:
        return {"tax_treatment": [_("Unknown tax treatment.")]}
    if treatment == TaxTreatment.REVERSE_CHARGE:
        country = customer_country(person, company)
        if not _valid_vat(customer_vat(person, company)):
            return {
                "tax_treatment": [_("Reverse charge needs a business customer with a valid EU VAT number.")]
            }
        if country == seller_country or country not in EU_COUNTRIES:
            return {
                "tax_treatment": [_("Reverse charge applies to business customers in another EU country.")]
            }
    if treatment == TaxTreatment.EXEMPT and not exemption_reason.strip():
        return {"exemption_reason": [_("Give the legal reason for the exemption.")]}
    return {}


def _valid_vat(vat: str) -> bool:
    if not vat:
        return False
    try:
        vat_normalise(vat, vat[:2])
    except ValidationFailed:
        return False
    return True


def customer_group(person: Person | None, company: Company | None) -> str:
    record = company if company is not None else person
    if record is not None:
        read, group = _fact(record, "billing_group")
        if read:
            return group or ""
    account = account_for(person, company)
    return account.customer_group if account is not None else ""


def account_for(person: Person | None, company: Company | None) -> CustomerAccount | None:
    if company is not None:
        return CustomerAccount.objects.filter(company=company).first()
    if person is not None:
        return CustomerAccount.objects.filter(person=person).first()
    return None


# --- rates ----------------------------------------------------------------------------------------


def exchange_rate_on(workspace: Workspace, currency: str, on: dt.date) -> Decimal | None:
    """Units of the workspace currency for one unit of ``currency`` on ``on`` (the latest rate known
    on that day); 1 for the workspace currency itself."""
    base = workspace.default_currency.upper()
    currency = currency.upper()
    if currency == base:
        return Decimal(1)
    row = (
        ExchangeRate.objects.filter(
            workspace=workspace, base_currency=base, currency=currency, valid_on__lte=on
        )
        .order_by("-valid_on")
        .first()
    )
    return row.rate if row is not None else None


def line_tax(
    ctx: PricingContext, category: str, tax_rate_id: int | None, prefix: str
) -> tuple[Decimal, str, str]:
    """(rate, key, note) of a line under the document's treatment: 0 % with the legal note for reverse
    charge, export and exemptions; else the explicit rate (valid on the date) or the category's rate."""
    if ctx.treatment == TaxTreatment.REVERSE_CHARGE:
        return (
            Decimal(0),
            "RC",
            _("Reverse charge: VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC)"),
        )
    if ctx.treatment == TaxTreatment.EXPORT:
        return Decimal(0), "EX", _("Export outside the EU, exempt (Art. 146 Directive 2006/112/EC)")
    if ctx.treatment == TaxTreatment.EXEMPT:
        return Decimal(0), "E", ctx.exemption_reason
    if tax_rate_id is not None:
        rate = ctx.tax_rate_by_id(tax_rate_id)
        if rate is None or rate.country != ctx.tax_country:
            ctx.errors[f"{prefix}.tax_rate"] = [
                _("No such tax rate for %(country)s.") % {"country": ctx.tax_country}
            ]
            return Decimal(0), "", ""
        if rate.valid_from > ctx.issue_date or (rate.valid_to is not None and rate.valid_to < ctx.issue_date):
            ctx.errors[f"{prefix}.tax_rate"] = [
                _("The rate %(rate)s is not valid on %(date)s.")
                % {"rate": rate, "date": ctx.issue_date.isoformat()}
            ]
            return Decimal(0), "", ""
        return rate.rate, "", ""
    if category == TaxCategory.EXEMPT:
        return Decimal(0), "E", _("Exempt from VAT")
    found = ctx.tax_rate(category)
    if found is None:
        ctx.errors[f"{prefix}.tax_rate"] = [
            _("No %(category)s VAT rate of %(country)s is valid on %(date)s.")
            % {
                "category": TaxCategory(category).label,
                "country": ctx.tax_country,
                "date": ctx.issue_date.isoformat(),
            }
        ]
        return Decimal(0), "", ""
    return found.rate, "", ""


def resolve_price(ctx: PricingContext, product: Product, quantity: Decimal) -> tuple[Decimal, bool] | None:
    """(unit price, includes tax) from the first price list that has the product for this quantity:
    the document's own list, else lists in its currency valid on its date, the customer's group first;
    else the product's default price (converted when the document is in another currency)."""
    for price_list, items in ctx.price_list_items(product.pk):
        for item in items:
            if item.min_quantity <= quantity:
                return item.unit_price, price_list.prices_include_tax
    rate = ctx.exchange_rate()
    if rate is None:
        return None
    return money.quantize_unit(product.price / rate), False


# --- lines and totals -----------------------------------------------------------------------------


def price_lines(ctx: PricingContext, lines: Sequence[LineIn]) -> list[PricedLine | None]:
    """Validate and price every line, in order; a line with errors is ``None`` and its errors are in
    ``ctx.errors`` as ``lines.N.field``."""
    products = ctx.prefetch(lines)
    priced = []
    for i, line in enumerate(lines):
        prefix = f"lines.{i}"
        result = _price_line(ctx, line, products, prefix)
        bad = any(key == prefix or key.startswith(prefix + ".") for key in ctx.errors)
        priced.append(None if bad else result)
    if not lines:
        ctx.errors.setdefault("lines", []).append(_("Add at least one line."))
    return priced


def valid(lines: Sequence[PricedLine | None]) -> list[PricedLine]:
    return [line for line in lines if line is not None]


def _number(ctx: PricingContext, key: str, value: Any, message: str) -> Decimal | None:
    """``value`` as a number, else ``message`` (marked with ``gettext_noop``: translated only when it
    is needed, not on every line) as the error of ``key``."""
    try:
        return money.to_decimal(value if value not in (None, "") else "0")
    except money.MoneyError:
        ctx.errors[key] = [_(message)]
        return None


def _price_line(
    ctx: PricingContext, line: LineIn, products: dict[int, Product], prefix: str
) -> PricedLine | None:
    product = products.get(line.product_id) if line.product_id else None
    if line.product_id and product is None:
        ctx.errors[f"{prefix}.product"] = [_("No such product.")]
        return None
    quantity = _number(ctx, f"{prefix}.quantity", line.quantity, gettext_noop("Enter a quantity."))
    discount = _number(
        ctx, f"{prefix}.discount_percent", line.discount_percent, gettext_noop("Enter a percentage.")
    )
    if quantity is None or discount is None:
        return None
    if quantity <= 0:
        ctx.errors[f"{prefix}.quantity"] = [
            _("The quantity must be above zero (a credit note takes things back).")
        ]
    if not Decimal(0) <= discount <= MAX_DISCOUNT:
        ctx.errors[f"{prefix}.discount_percent"] = [_("A discount is between 0 and 100 %.")]
    description = (line.description or "").strip() or (product.name if product else "")
    if not description:
        ctx.errors[f"{prefix}.description"] = [_("Describe the line or choose a product.")]
    includes_tax = False
    if line.unit_price in (None, ""):
        found = resolve_price(ctx, product, quantity) if product is not None and quantity > 0 else None
        if found is None:
            ctx.errors[f"{prefix}.unit_price"] = [
                _("No price for this product in %(currency)s: enter one.") % {"currency": ctx.currency}
            ]
            return None
        unit_price, includes_tax = found
    else:
        parsed = _number(ctx, f"{prefix}.unit_price", line.unit_price, gettext_noop("Enter a price."))
        if parsed is None:
            return None
        unit_price = parsed
        includes_tax = ctx.price_list.prices_include_tax if ctx.price_list is not None else False
    if unit_price < 0:
        ctx.errors[f"{prefix}.unit_price"] = [_("A price cannot be negative.")]
    unit_cost = _number(
        ctx,
        f"{prefix}.unit_cost",
        product.cost if line.unit_cost in (None, "") and product else line.unit_cost,
        gettext_noop("Enter a cost."),
    )
    category = line.tax_category or (product.tax_category if product else TaxCategory.STANDARD)
    if category not in TAX_CATEGORIES:
        ctx.errors[f"{prefix}.tax_category"] = [_("Unknown tax category.")]
        return None
    rate, key, note = line_tax(ctx, category, line.tax_rate_id, prefix)
    if includes_tax and ctx.treatment != TaxTreatment.DOMESTIC:
        # A gross price includes the seller's own VAT: a customer who does not pay it gets the net part.
        domestic = ctx.tax_rate(category)
        unit_price = money.net_unit_from_gross(unit_price, domestic.rate if domestic else Decimal(0))
        includes_tax = False
    return PricedLine(
        product=product,
        description=description[:300],
        unit=(line.unit or (product.unit if product else ""))[:20],
        quantity=quantity,
        unit_price=unit_price,
        price_includes_tax=includes_tax,
        unit_cost=unit_cost or Decimal(0),
        discount_percent=discount,
        tax_category=category,
        tax_rate=rate,
        tax_key=key,
        tax_note=note,
    )


def totals(ctx: PricingContext, lines: Sequence[PricedLine]) -> money.Totals:
    """The document's totals under its rounding scope and mode."""
    return money.document_totals(
        [line.money_input() for line in lines],
        currency=ctx.currency,
        scope=ctx.rounding_scope,
        rounding=ctx.rounding_mode,
        discount_percent=ctx.discount_percent,
    )
