"""Money: ``Decimal`` amounts with an explicit currency, and every rounding rule of Clientela.

Nothing else in the code base rounds money. Amounts are ``Decimal`` (a float is refused outright),
currencies are ISO 4217 codes whose number of minor digits comes from Babel (EUR 2, HUF 2, JPY 0...).

Documents (quotes, orders, invoices, credit notes) are totalled by ``document_totals``, in one of two
scopes the workspace chooses:

- ``line``: every line's net and tax are rounded, and the document sums the rounded lines;
- ``document``: lines are summed exactly per tax rate, each rate's base and tax are rounded once, and
  the rounded amounts are then spread back over the lines (largest remainder), so that printed lines
  still add up to the printed totals to the cent.

Either way a document's totals are exactly the sum of its lines. The rounding mode is half-up unless
the workspace chooses otherwise. Prices may be entered net or gross (tax included); a gross price keeps
the gross amount exact and derives net and tax from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Any

from babel.numbers import format_currency, get_currency_precision

ZERO = Decimal("0")
HUNDRED = Decimal("100")
# Unit prices and rates keep more digits than money: a gross unit price turned into a net one, or an
# exchange rate, would otherwise lose precision long before the amount is rounded.
UNIT_PLACES = 6
RATE_PLACES = 8


class Rounding(StrEnum):
    """How an amount is brought to the currency's minor unit."""

    HALF_UP = "half_up"  # 0.005 -> 0.01 (the default: what accountants and tax offices expect)
    HALF_EVEN = "half_even"  # 0.005 -> 0.00, 0.015 -> 0.02 (banker's rounding)
    DOWN = "down"  # towards zero
    UP = "up"  # away from zero

    @property
    def decimal_mode(self) -> str:
        return _DECIMAL_MODES[self]


_DECIMAL_MODES = {
    Rounding.HALF_UP: ROUND_HALF_UP,
    Rounding.HALF_EVEN: ROUND_HALF_EVEN,
    Rounding.DOWN: ROUND_DOWN,
    Rounding.UP: ROUND_UP,
}


class RoundingScope(StrEnum):
    LINE = "line"
    DOCUMENT = "document"


DEFAULT_ROUNDING = Rounding.HALF_UP


class MoneyError(ValueError):
    """An amount that cannot be money: a float, a non-number, or two currencies mixed."""


# --- amounts --------------------------------------------------------------------------------------


def to_decimal(value: Any) -> Decimal:
    """A ``Decimal`` from a Decimal, an int or a string ("1234.5", "1234,5"); floats are refused."""
    if isinstance(value, bool | float):
        raise MoneyError(f"Money must not be a float or a bool: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace("\u00a0", "").replace(" ", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        try:
            result = Decimal(text)
        except ArithmeticError:
            raise MoneyError(f"Not an amount: {value!r}") from None
    else:
        raise MoneyError(f"Not an amount: {value!r}")
    if not result.is_finite():
        raise MoneyError(f"Not a finite amount: {value!r}")
    return result


@lru_cache(maxsize=256)
def currency_exponent(currency: str) -> int:
    """How many minor digits ``currency`` has (EUR 2, JPY 0, BHD 3), from Babel's CLDR data."""
    code = currency.upper()
    if len(code) != 3 or not code.isalpha():
        raise MoneyError(f"Not an ISO 4217 currency code: {currency!r}")
    return int(get_currency_precision(code))


def quantum(currency: str) -> Decimal:
    """The currency's minor unit as a Decimal: EUR -> 0.01, JPY -> 1."""
    return Decimal(1).scaleb(-currency_exponent(currency))


def quantize(amount: Decimal, currency: str, rounding: Rounding | str = DEFAULT_ROUNDING) -> Decimal:
    """``amount`` rounded to ``currency``'s minor unit."""
    return to_decimal(amount).quantize(quantum(currency), rounding=Rounding(rounding).decimal_mode)


def quantize_unit(amount: Decimal, rounding: Rounding | str = DEFAULT_ROUNDING) -> Decimal:
    """A unit price or unit cost, kept to ``UNIT_PLACES`` digits."""
    return to_decimal(amount).quantize(
        Decimal(1).scaleb(-UNIT_PLACES), rounding=Rounding(rounding).decimal_mode
    )


def quantize_rate(rate: Decimal) -> Decimal:
    """An exchange rate, kept to ``RATE_PLACES`` digits (half-up)."""
    return to_decimal(rate).quantize(Decimal(1).scaleb(-RATE_PLACES), rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    """The exact (unrounded) ``percent`` % of ``amount``."""
    return amount * percent / HUNDRED


def format_money(amount: Decimal, currency: str, locale: str = "en") -> str:
    """``amount`` as people read it in ``locale``: 1.234,50 € (it), 1 234,50 Ft (hu), €1,234.50 (en).

    Babel's ``format_currency`` writes it, through a layout read off its own output once per locale and
    currency (a call costs 60-80 µs, and a board or a quote shows a hundred amounts); where no layout
    reproduces Babel exactly, Babel is called every time.
    """
    amount, locale, currency = to_decimal(amount), locale or "en", currency.upper()
    layout = _money_layout(locale, currency)
    if layout is None:
        return str(format_currency(amount, currency, locale=locale))
    return layout.format(amount)


@dataclass(frozen=True)
class _MoneyLayout:
    """The text around the number (positive, negative), the separators and the minor digits."""

    positive: tuple[str, str]
    negative: tuple[str, str]
    separators: dict[int, str]  # for ``str.translate`` of Python's "1,234.50"
    digits: int

    def format(self, amount: Decimal) -> str:
        # As Babel: the sign is the amount's own (-0.001 is negative), rounding is the context's.
        before, after = self.negative if amount.is_signed() else self.positive
        rounded = abs(amount).quantize(Decimal(1).scaleb(-self.digits))
        return before + f"{rounded:,.{self.digits}f}".translate(self.separators) + after


_LAYOUT_CHECKS = ("0", "1", "-1", "12.5", "999.995", "1234", "-1234.5", "0.004", "-0.004", "12345678.91")


@lru_cache(maxsize=512)
def _money_layout(locale: str, currency: str) -> _MoneyLayout | None:
    """Babel's layout for ``currency`` in ``locale``, if one reproduces Babel on every check amount."""
    try:
        digits = currency_exponent(currency)
        samples = [str(format_currency(Decimal(sign + "1234567"), currency, locale=locale)) for sign in "+-"]
    except (ValueError, LookupError):
        return None
    fraction = rf"(\D+){'0' * digits}" if digits else "()"
    parts = []
    for sample in samples:
        found = re.fullmatch(rf"(\D*?)1(?P<group>\D+)234(?P=group)567{fraction}(\D*)", sample)
        if found is None:
            return None
        parts.append(found)
    group, decimal = parts[0][2], parts[0][3] or "."
    layout = _MoneyLayout(
        positive=(parts[0][1], parts[0][4]),
        negative=(parts[1][1], parts[1][4]),
        separators={ord(","): group, ord("."): decimal},
        digits=digits,
    )
    for text in _LAYOUT_CHECKS:
        if layout.format(Decimal(text)) != format_currency(Decimal(text), currency, locale=locale):
            return None
    return layout


@dataclass(frozen=True, order=True)
class Money:
    """An amount in a currency. Arithmetic across currencies is refused, never guessed."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        object.__setattr__(self, "currency", self.currency.upper())
        currency_exponent(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(ZERO, currency)

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise MoneyError(f"Cannot mix {self.currency} with {getattr(other, 'currency', other)!r}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def rounded(self, rounding: Rounding | str = DEFAULT_ROUNDING) -> Money:
        return Money(quantize(self.amount, self.currency, rounding), self.currency)

    def format(self, locale: str = "en") -> str:
        return format_money(self.amount, self.currency, locale)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


# --- spreading an amount without losing a cent ----------------------------------------------------


def allocate(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Split ``total`` (already rounded to ``currency``) in proportion to ``weights``.

    Each share is rounded down to the minor unit and the cents left over go, one each, to the shares
    with the largest remainders (ties to the earliest), so the shares add up to ``total`` exactly. With
    no weight at all, the total is spread evenly.
    """
    unit = quantum(currency)
    total = to_decimal(total)
    if total != total.quantize(unit):
        raise MoneyError(f"{total} is not rounded to {currency}")
    if not weights:
        if total:
            raise MoneyError("Cannot allocate a non-zero amount over no shares")
        return []
    sign = -1 if total < 0 else 1
    minor = int((abs(total) / unit).to_integral_value())
    clean = [abs(to_decimal(w)) for w in weights]
    weight_sum = sum(clean, ZERO)
    if weight_sum == 0:
        clean, weight_sum = [Decimal(1)] * len(weights), Decimal(len(weights))
    exact = [Decimal(minor) * w / weight_sum for w in clean]
    floors = [int(e.to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
    leftover = minor - sum(floors)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in by_remainder[:leftover]:
        floors[i] += 1
    return [sign * unit * n for n in floors]


# --- currency conversion --------------------------------------------------------------------------


def convert(
    amount: Decimal, rate: Decimal, to_currency: str, rounding: Rounding | str = DEFAULT_ROUNDING
) -> Decimal:
    """``amount`` times ``rate`` (units of ``to_currency`` per unit of the amount's currency), rounded."""
    rate = to_decimal(rate)
    if rate <= 0:
        raise MoneyError(f"An exchange rate must be positive, not {rate}")
    return quantize(to_decimal(amount) * rate, to_currency, rounding)


def invert_rate(rate: Decimal) -> Decimal:
    """The rate of the opposite direction, to ``RATE_PLACES`` digits."""
    rate = to_decimal(rate)
    if rate <= 0:
        raise MoneyError(f"An exchange rate must be positive, not {rate}")
    return quantize_rate(Decimal(1) / rate)


def round_trip_tolerance(from_currency: str, to_currency: str, rate: Decimal) -> Decimal:
    """The most a half-up conversion there and back (at ``rate`` and at exactly ``1/rate``) can move an
    amount: half a minor unit of each currency, the second one carried back through the rate."""
    return quantum(from_currency) / 2 + quantum(to_currency) / (2 * to_decimal(rate))


# --- documents ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineInput:
    """One line of a document, as entered. Percentages are percent (22 means 22 %)."""

    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    discount_percent: Decimal = ZERO
    price_includes_tax: bool = False
    unit_cost: Decimal = ZERO
    tax_key: str = ""  # separates equal rates with different meanings (0 % exempt vs reverse charge)


@dataclass(frozen=True)
class LineTotals:
    list_amount: Decimal  # quantity x unit price, before discounts (net or gross as entered), rounded
    discount: Decimal  # what the line and document discounts took off, rounded
    net: Decimal
    tax: Decimal
    gross: Decimal
    cost: Decimal


@dataclass(frozen=True)
class TaxTotal:
    key: str
    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Totals:
    currency: str
    lines: list[LineTotals]
    taxes: list[TaxTotal]
    net: Decimal
    tax: Decimal
    gross: Decimal
    cost: Decimal
    discount: Decimal
    list_amount: Decimal = ZERO
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def margin(self) -> Decimal:
        return self.net - self.cost


def net_unit_from_gross(unit_price: Decimal, tax_rate: Decimal) -> Decimal:
    """A gross unit price's net part, kept to ``UNIT_PLACES`` digits (for lines taxed at another rate
    than the one the gross price included, e.g. a reverse-charge customer)."""
    return quantize_unit(to_decimal(unit_price) / (1 + to_decimal(tax_rate) / HUNDRED))


def document_totals(
    lines: Sequence[LineInput],
    *,
    currency: str,
    scope: RoundingScope | str = RoundingScope.LINE,
    rounding: Rounding | str = DEFAULT_ROUNDING,
    discount_percent: Decimal = ZERO,
) -> Totals:
    """Net, each tax and gross of a document, line by line, with ``discount_percent`` off every line.

    Lines entered gross keep their gross exact: net is derived from it and tax is the difference.
    """
    scope, rounding = RoundingScope(scope), Rounding(rounding)
    doc_factor = 1 - to_decimal(discount_percent) / HUNDRED
    exact = [_exact_line(line, doc_factor) for line in lines]
    if scope is RoundingScope.LINE:
        line_totals = [_round_line(line, e, currency, rounding) for line, e in zip(lines, exact, strict=True)]
    else:
        line_totals = _document_scope(lines, exact, currency, rounding)
    taxes: dict[tuple[str, Decimal], list[Decimal]] = {}
    for line, totals in zip(lines, line_totals, strict=True):
        bucket = taxes.setdefault((_tax_key(line), to_decimal(line.tax_rate)), [ZERO, ZERO])
        bucket[0] += totals.net
        bucket[1] += totals.tax
    return Totals(
        currency=currency.upper(),
        lines=line_totals,
        taxes=[
            TaxTotal(key, rate, base, tax) for (key, rate), (base, tax) in sorted(taxes.items(), key=_by_rate)
        ],
        net=sum((t.net for t in line_totals), ZERO),
        tax=sum((t.tax for t in line_totals), ZERO),
        gross=sum((t.gross for t in line_totals), ZERO),
        cost=sum((t.cost for t in line_totals), ZERO),
        discount=sum((t.discount for t in line_totals), ZERO),
        list_amount=sum((t.list_amount for t in line_totals), ZERO),
    )


def _by_rate(item: tuple[tuple[str, Decimal], list[Decimal]]) -> tuple[Decimal, str]:
    (key, rate), _amounts = item
    return rate, key


@dataclass(frozen=True)
class _Exact:
    list_amount: Decimal  # as entered (net or gross), before discounts
    amount: Decimal  # as entered, after discounts
    cost: Decimal


def _tax_key(line: LineInput) -> str:
    return line.tax_key or f"{to_decimal(line.tax_rate).normalize():f}"


def _exact_line(line: LineInput, doc_factor: Decimal) -> _Exact:
    quantity, price = to_decimal(line.quantity), to_decimal(line.unit_price)
    list_amount = quantity * price
    amount = list_amount * (1 - to_decimal(line.discount_percent) / HUNDRED) * doc_factor
    return _Exact(list_amount, amount, quantity * to_decimal(line.unit_cost))


def _split(amount: Decimal, line: LineInput, currency: str, rounding: Rounding) -> tuple[Decimal, Decimal]:
    """(net, tax) of an amount already rounded to the currency, entered net or gross."""
    rate = to_decimal(line.tax_rate)
    if line.price_includes_tax:
        net = quantize(amount / (1 + rate / HUNDRED), currency, rounding)
        return net, amount - net
    return amount, quantize(percent_of(amount, rate), currency, rounding)


def _round_line(line: LineInput, exact: _Exact, currency: str, rounding: Rounding) -> LineTotals:
    amount = quantize(exact.amount, currency, rounding)
    list_amount = quantize(exact.list_amount, currency, rounding)
    net, tax = _split(amount, line, currency, rounding)
    return LineTotals(
        list_amount=list_amount,
        discount=list_amount - amount,
        net=net,
        tax=tax,
        gross=net + tax,
        cost=quantize(exact.cost, currency, rounding),
    )


def _document_scope(
    lines: Sequence[LineInput], exact: Sequence[_Exact], currency: str, rounding: Rounding
) -> list[LineTotals]:
    """Round once per tax rate (and entry mode), then spread the rounded amounts back over the lines."""
    groups: dict[tuple[str, Decimal, bool], list[int]] = {}
    for i, line in enumerate(lines):
        groups.setdefault((_tax_key(line), to_decimal(line.tax_rate), line.price_includes_tax), []).append(i)
    nets: dict[int, Decimal] = {}
    taxes: dict[int, Decimal] = {}
    amounts: dict[int, Decimal] = {}
    list_amounts: dict[int, Decimal] = {}
    costs: dict[int, Decimal] = {}
    for indexes in groups.values():
        first = lines[indexes[0]]
        weights = [exact[i].amount for i in indexes]
        amount = quantize(sum(weights, ZERO), currency, rounding)
        net, tax = _split(amount, first, currency, rounding)
        for target, total in ((nets, net), (taxes, tax), (amounts, amount)):
            target.update(zip(indexes, allocate(total, weights, currency), strict=True))
        list_weights = [exact[i].list_amount for i in indexes]
        list_total = quantize(sum(list_weights, ZERO), currency, rounding)
        list_amounts.update(zip(indexes, allocate(list_total, list_weights, currency), strict=True))
        cost_weights = [exact[i].cost for i in indexes]
        cost_total = quantize(sum(cost_weights, ZERO), currency, rounding)
        costs.update(zip(indexes, allocate(cost_total, cost_weights, currency), strict=True))
    return [
        LineTotals(
            list_amount=list_amounts[i],
            discount=list_amounts[i] - amounts[i],
            net=nets[i],
            tax=taxes[i],
            gross=nets[i] + taxes[i],
            cost=costs[i],
        )
        for i in range(len(lines))
    ]


# --- tiers ----------------------------------------------------------------------------------------


def tiered_amount(
    base: Decimal,
    tiers: Iterable[tuple[Decimal, Decimal]],
    currency: str,
    rounding: Rounding | str = DEFAULT_ROUNDING,
) -> Decimal:
    """Marginal tiers: ``tiers`` are (from amount, percent); each percent applies to the part of
    ``base`` between its threshold and the next one ("3 % up to 50,000, 5 % above"). A base at or
    below zero earns nothing. Rounded once, at the end."""
    base = to_decimal(base)
    ordered = sorted((to_decimal(start), to_decimal(rate)) for start, rate in tiers)
    total = ZERO
    for i, (start, rate) in enumerate(ordered):
        end = ordered[i + 1][0] if i + 1 < len(ordered) else None
        top = base if end is None else min(base, end)
        if top > start:
            total += percent_of(top - start, rate)
    return quantize(max(total, ZERO), currency, rounding)


__all__ = [
    "DEFAULT_ROUNDING",
    "ZERO",
    "LineInput",
    "LineTotals",
    "Money",
    "MoneyError",
    "Rounding",
    "RoundingScope",
    "TaxTotal",
    "Totals",
    "allocate",
    "convert",
    "currency_exponent",
    "document_totals",
    "format_money",
    "invert_rate",
    "net_unit_from_gross",
    "quantize",
    "quantize_rate",
    "quantize_unit",
    "quantum",
    "round_trip_tolerance",
    "tiered_amount",
]
