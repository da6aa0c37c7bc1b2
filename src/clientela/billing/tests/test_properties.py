"""Properties that hold for any input (hypothesis): totals are the sum of their lines in every rounding
mode, conversions neither lose nor invent money beyond the declared rounding, commissions never fall
when revenue rises."""

from decimal import Decimal as D

from babel.numbers import format_currency
from hypothesis import example, given, settings
from hypothesis import strategies as st

from clientela.core import money
from clientela.core.money import LineInput, Rounding, RoundingScope, document_totals

CURRENCIES = st.sampled_from(["EUR", "HUF", "RON", "JPY", "BHD"])
RATES = st.sampled_from([D(0), D(4), D(5), D(9), D(10), D(11), D(18), D(19), D(21), D(22), D(27)])


def decimals(low: str, high: str, places: int) -> st.SearchStrategy[D]:
    return st.decimals(
        min_value=D(low), max_value=D(high), places=places, allow_nan=False, allow_infinity=False
    )


lines_strategy = st.lists(
    st.builds(
        LineInput,
        quantity=decimals("0.001", "5000", 3),
        unit_price=decimals("0", "25000", 4),
        tax_rate=RATES,
        discount_percent=decimals("0", "100", 2),
        price_includes_tax=st.booleans(),
        unit_cost=decimals("0", "20000", 4),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(
    lines=lines_strategy,
    currency=CURRENCIES,
    scope=st.sampled_from(list(RoundingScope)),
    rounding=st.sampled_from(list(Rounding)),
    discount=decimals("0", "100", 2),
)
def test_document_totals_are_the_sum_of_their_lines(lines, currency, scope, rounding, discount):
    totals = document_totals(
        lines, currency=currency, scope=scope, rounding=rounding, discount_percent=discount
    )
    unit = money.quantum(currency)
    assert totals.net == sum((line.net for line in totals.lines), D(0))
    assert totals.tax == sum((line.tax for line in totals.lines), D(0))
    assert totals.gross == sum((line.gross for line in totals.lines), D(0)) == totals.net + totals.tax
    assert sum((t.base for t in totals.taxes), D(0)) == totals.net
    assert sum((t.tax for t in totals.taxes), D(0)) == totals.tax
    for line in totals.lines:
        for amount in (line.net, line.tax, line.gross, line.cost, line.discount, line.list_amount):
            assert amount == amount.quantize(unit)
        assert line.net >= 0 and line.tax >= 0


@settings(max_examples=300, deadline=None)
@given(
    lines=lines_strategy.map(
        lambda ls: [LineInput(**{**line.__dict__, "price_includes_tax": False}) for line in ls]
    ),
    currency=CURRENCIES,
)
def test_document_rounding_rounds_each_rate_once(lines, currency):
    totals = document_totals(lines, currency=currency, scope=RoundingScope.DOCUMENT)
    for tax in totals.taxes:
        assert tax.tax == money.quantize(tax.base * tax.rate / 100, currency)


@settings(max_examples=500, deadline=None)
@given(
    amount=decimals("0", "10000000", 3),
    rate=decimals("0.0001", "1000", 6),
    pair=st.tuples(CURRENCIES, CURRENCIES),
)
def test_a_round_trip_moves_an_amount_by_no_more_than_the_declared_rounding(amount, rate, pair):
    source, target = pair
    if rate <= 0:
        return
    original = money.quantize(amount, source)
    there = money.convert(original, rate, target)
    back = money.convert(there, D(1) / rate, source)
    tolerance = money.round_trip_tolerance(source, target, rate)
    assert abs(back - original) <= tolerance + money.quantum(source) / 1000


@settings(max_examples=300, deadline=None)
@given(
    total=decimals("-1000000", "1000000", 2),
    weights=st.lists(decimals("0", "100000", 4), min_size=1, max_size=20),
)
def test_allocation_conserves_every_cent(total, weights):
    shares = money.allocate(total, weights, "EUR")
    assert sum(shares, D(0)) == total
    weight_sum = sum(weights, D(0))
    if weight_sum:
        for share, weight in zip(shares, weights, strict=True):
            assert abs(share - total * weight / weight_sum) < D("0.01")


tiers_strategy = st.lists(
    st.tuples(decimals("0", "1000000", 2), decimals("0", "100", 2)),
    min_size=1,
    max_size=5,
    unique_by=lambda t: t[0],
)


@settings(max_examples=500, deadline=None)
@given(tiers=tiers_strategy, a=decimals("-100000", "5000000", 2), b=decimals("-100000", "5000000", 2))
def test_commissions_are_monotonic_in_revenue(tiers, a, b):
    low, high = sorted((a, b))
    assert money.tiered_amount(low, tiers, "EUR") <= money.tiered_amount(high, tiers, "EUR")


@settings(max_examples=500, deadline=None)
@given(
    amount=decimals("-1000000000000", "1000000000000", 4),
    currency=st.sampled_from(["EUR", "HUF", "RON", "USD", "GBP", "JPY", "BHD"]),
    locale=st.sampled_from(["en", "it", "hu", "ro", "de_CH", "fr", "pl", "en_IN"]),
)
@example(amount=D("-0"), currency="EUR", locale="it")  # a signed zero: Babel writes "-0,00 €"
@example(amount=D("-0.004"), currency="EUR", locale="en")
@example(amount=D("0.125"), currency="EUR", locale="hu")  # half-even, as Babel rounds
def test_money_is_written_exactly_as_babel_writes_it(amount, currency, locale):
    """``format_money``'s cached layouts (and its fallback, en_IN's lakh grouping) are Babel's output."""
    assert money.format_money(amount, currency, locale) == format_currency(amount, currency, locale=locale)
