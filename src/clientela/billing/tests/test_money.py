"""core/money: amounts, currencies, rounding, allocation, conversion and document totals, by example."""

from decimal import Decimal as D

import pytest

from clientela.core import money
from clientela.core.money import LineInput, Rounding, RoundingScope, document_totals


def test_floats_are_refused_and_strings_are_read_in_either_decimal_style():
    with pytest.raises(money.MoneyError):
        money.to_decimal(0.1)
    with pytest.raises(money.MoneyError):
        money.Money(1.5, "EUR")  # type: ignore[arg-type]
    assert money.to_decimal("1234,50") == D("1234.50")
    assert money.to_decimal(" 12.5 ") == D("12.5")
    with pytest.raises(money.MoneyError):
        money.to_decimal("twelve")


def test_currency_exponents_come_from_babel():
    assert money.currency_exponent("EUR") == 2
    assert money.currency_exponent("JPY") == 0
    assert money.currency_exponent("BHD") == 3
    assert money.quantize(D("1.005"), "EUR") == D("1.01")  # half up by default
    assert money.quantize(D("1.005"), "EUR", Rounding.HALF_EVEN) == D("1.00")
    assert money.quantize(D("1.015"), "EUR", Rounding.HALF_EVEN) == D("1.02")
    assert money.quantize(D("1234.5"), "JPY") == D("1235")
    with pytest.raises(money.MoneyError):
        money.quantize(D("1"), "EURO")


def test_money_refuses_to_mix_currencies_and_formats_per_locale():
    assert money.Money(D("1"), "eur") + money.Money(D("2.5"), "EUR") == money.Money(D("3.5"), "EUR")
    with pytest.raises(money.MoneyError):
        money.Money(D("1"), "EUR") + money.Money(D("1"), "HUF")
    assert money.format_money(D("1234.5"), "EUR", "it") == "1.234,50\xa0€"
    assert money.format_money(D("1234.5"), "EUR", "en") == "€1,234.50"


def test_allocate_never_loses_or_invents_a_cent():
    assert money.allocate(D("100.00"), [D(1), D(1), D(1)], "EUR") == [D("33.34"), D("33.33"), D("33.33")]
    assert money.allocate(D("0.05"), [D(0), D(0)], "EUR") == [D("0.03"), D("0.02")]
    assert money.allocate(D("-1.00"), [D(1), D(2)], "EUR") == [D("-0.33"), D("-0.67")]
    with pytest.raises(money.MoneyError):
        money.allocate(D("1.005"), [D(1)], "EUR")


def test_conversion_rounds_once_and_rejects_bad_rates():
    assert money.convert(D("100.00"), D("0.0025641"), "EUR") == D("0.26")
    assert money.convert(D("10.00"), D("390.12"), "HUF") == D("3901.20")
    with pytest.raises(money.MoneyError):
        money.convert(D("1"), D("0"), "EUR")
    assert money.invert_rate(D("4")) == D("0.25000000")


def test_line_and_document_rounding_differ_and_both_add_up():
    lines = [LineInput(quantity=D(1), unit_price=D("0.99"), tax_rate=D(22)) for _ in range(3)]
    per_line = document_totals(lines, currency="EUR", scope=RoundingScope.LINE)
    per_document = document_totals(lines, currency="EUR", scope=RoundingScope.DOCUMENT)
    # per line: 0.99 x 22 % = 0.2178 -> 0.22, three times; per document: 2.97 x 22 % = 0.6534 -> 0.65
    assert (per_line.net, per_line.tax, per_line.gross) == (D("2.97"), D("0.66"), D("3.63"))
    assert (per_document.net, per_document.tax, per_document.gross) == (D("2.97"), D("0.65"), D("3.62"))
    assert [line.tax for line in per_document.lines] == [D("0.22"), D("0.22"), D("0.21")]


def test_gross_prices_keep_the_gross_exact():
    line = LineInput(quantity=D(3), unit_price=D("12.20"), tax_rate=D(22), price_includes_tax=True)
    totals = document_totals([line], currency="EUR")
    assert (totals.gross, totals.net, totals.tax) == (D("36.60"), D("30.00"), D("6.60"))
    assert money.net_unit_from_gross(D("12.20"), D(22)) == D("10.000000")


def test_discounts_per_line_and_per_document():
    lines = [
        LineInput(quantity=D(2), unit_price=D("100"), tax_rate=D(22), discount_percent=D(10)),
        LineInput(quantity=D(1), unit_price=D("50"), tax_rate=D(22)),
    ]
    totals = document_totals(lines, currency="EUR", discount_percent=D(5))
    # 200 - 10 % = 180 -> -5 % = 171.00; 50 -> -5 % = 47.50
    assert [line.net for line in totals.lines] == [D("171.00"), D("47.50")]
    assert [line.discount for line in totals.lines] == [D("29.00"), D("2.50")]
    assert totals.list_amount == D("250.00") and totals.discount == D("31.50")
    assert totals.tax == D("37.62") + D("10.45")


def test_marginal_tiers():
    tiers = [(D(0), D(3)), (D(50000), D(5))]
    assert money.tiered_amount(D("40000"), tiers, "EUR") == D("1200.00")
    assert money.tiered_amount(D("60000"), tiers, "EUR") == D("2000.00")  # 1500 + 5 % of 10000
    assert money.tiered_amount(D("-10"), tiers, "EUR") == D("0.00")
