"""Invoices worked out by hand, line by line, for an Italian, a Hungarian and a Romanian seller.

Each expected figure is written out the way an accountant would check it on paper."""

import datetime as dt
from decimal import Decimal as D

from clientela.billing import services
from clientela.billing.models import TaxTreatment
from clientela.core.tenancy import workspace_scope


def _invoice(ws, company, lines, day, **header):
    quote = services.quote_create(
        workspace=ws,
        actor=None,
        header=services.DocumentHeader(company_id=company.pk, issue_date=day, **header),
        lines=lines,
    )
    order = services.quote_accept(quote=quote, actor=None).order
    return services.order_invoice(order=order, actor=None, issue_date=day)


def _taxes(invoice):
    return [(D(t["rate"]), D(t["base"]), D(t["tax"])) for t in invoice.taxes]


def test_italian_invoice_22_10_4_with_a_line_discount(owner_a, customer, product):
    ws = owner_a.workspace
    services.billing_settings_update(workspace=ws, actor=None, attributes={"country": "IT"})
    client = customer(name="Verdi Srl", vat="IT00743110157", country="IT")
    consulting = product(code="CONS", price="150", tax_category="standard")
    catering = product(code="CATER", name="Catering", price="12.50", tax_category="reduced")
    books = product(code="LIBRO", name="Manuale", price="18.50", tax_category="super_reduced")
    invoice = _invoice(
        ws,
        client,
        [
            services.LineIn(product_id=consulting.pk, quantity="3"),  # 450.00 at 22 % -> 99.00
            services.LineIn(
                product_id=consulting.pk, quantity="1", unit_price="99.99", discount_percent="10"
            ),
            # 99.99 - 10 % = 89.991 -> 89.99; 22 % of 89.99 = 19.7978 -> 19.80
            services.LineIn(product_id=catering.pk, quantity="7"),  # 87.50 at 10 % -> 8.75
            services.LineIn(product_id=books.pk, quantity="2"),  # 37.00 at 4 % -> 1.48
        ],
        dt.date(2026, 2, 16),
    )
    assert [line.net for line in invoice.lines.all()] == [D("450"), D("89.99"), D("87.50"), D("37.00")]
    assert _taxes(invoice) == [
        (D(4), D("37.00"), D("1.48")),
        (D(10), D("87.50"), D("8.75")),
        (D(22), D("539.99"), D("118.80")),
    ]
    # net 450 + 89.99 + 87.50 + 37.00 = 664.49; VAT 99.00 + 19.80 + 8.75 + 1.48 = 129.03
    assert (invoice.net, invoice.tax, invoice.gross) == (D("664.49"), D("129.03"), D("793.52"))
    assert invoice.number == "INV-2026-00001" and invoice.due_date == dt.date(2026, 3, 18)


def test_italian_invoice_rounded_per_document(owner_a, customer, product):
    ws = owner_a.workspace
    services.billing_settings_update(workspace=ws, actor=None, attributes={"rounding_scope": "document"})
    client = customer(name="Gialli Srl", vat="", country="IT")
    pen = product(code="PEN", name="Penna", price="0.99")
    invoice = _invoice(
        ws, client, [services.LineIn(product_id=pen.pk) for _ in range(3)], dt.date(2026, 2, 16)
    )
    # per document: 2.97 x 22 % = 0.6534 -> 0.65 (per line it would be 3 x 0.22 = 0.66)
    assert (invoice.net, invoice.tax, invoice.gross) == (D("2.97"), D("0.65"), D("3.62"))
    assert sum(line.tax for line in invoice.lines.all()) == D("0.65")


def test_hungarian_invoice_27_18_5_in_forint_with_gross_prices(owner_a, customer, product):
    ws = owner_a.workspace
    ws.default_currency = "HUF"
    ws.save(update_fields=["default_currency"])
    services.billing_settings_update(workspace=ws, actor=None, attributes={"country": "HU"})
    client = customer(name="Tisza Kft", vat="HU12892312", country="HU")
    laptop = product(code="NB", name="Laptop táska", price="0", tax_category="standard")
    bread = product(code="KENYER", name="Kenyér", price="0", tax_category="reduced")
    book = product(code="KONYV", name="Könyv", price="0", tax_category="reduced_2")
    shop = services.price_list_create(
        workspace=ws, actor=None, attributes={"name": "Bolt", "currency": "HUF", "prices_include_tax": True}
    )
    for item, price in ((laptop, "12700"), (bread, "590"), (book, "4990")):
        services.price_list_item_set(price_list=shop, product_id=item.pk, unit_price=price)
    invoice = _invoice(
        ws,
        client,
        [
            services.LineIn(product_id=laptop.pk, quantity="4"),  # gross 50 800 / 1.27 = 40 000 + 10 800 VAT
            services.LineIn(product_id=bread.pk, quantity="3"),  # gross 1 770 / 1.18 = 1 500 + 270 VAT
            services.LineIn(product_id=book.pk, quantity="2"),  # gross 9 980 / 1.05 = 9 504.76 + 475.24 VAT
        ],
        dt.date(2026, 3, 2),
        currency="HUF",
    )
    assert _taxes(invoice) == [
        (D(5), D("9504.76"), D("475.24")),
        (D(18), D("1500.00"), D("270.00")),
        (D(27), D("40000.00"), D("10800.00")),
    ]
    assert (invoice.net, invoice.tax, invoice.gross) == (D("51004.76"), D("11545.24"), D("62550.00"))


def test_romanian_invoices_before_and_after_1_august_2025(owner_a, customer, product):
    ws = owner_a.workspace
    ws.default_currency = "RON"
    ws.save(update_fields=["default_currency"])
    services.billing_settings_update(workspace=ws, actor=None, attributes={"country": "RO"})
    client = customer(name="Olt SRL", vat="RO18547290", country="RO")
    service = product(code="SRV", name="Mentenanță", price="1250", tax_category="standard")
    food = product(code="ALIM", name="Alimente", price="80", tax_category="reduced")
    medicine = product(code="MED", name="Medicamente", price="45", tax_category="reduced_2")
    lines = [
        services.LineIn(product_id=service.pk, quantity="2"),  # 2 500.00
        services.LineIn(product_id=food.pk, quantity="5"),  # 400.00
        services.LineIn(product_id=medicine.pk, quantity="3"),  # 135.00
    ]
    july = _invoice(ws, client, lines, dt.date(2025, 7, 31))
    # 19 % of 2 500 = 475.00; 9 % of 400 = 36.00; 5 % of 135 = 6.75
    assert _taxes(july) == [
        (D(5), D("135.00"), D("6.75")),
        (D(9), D("400.00"), D("36.00")),
        (D(19), D("2500.00"), D("475.00")),
    ]
    assert (july.net, july.tax, july.gross) == (D("3035.00"), D("517.75"), D("3552.75"))
    august = _invoice(ws, client, lines, dt.date(2025, 8, 1))
    # from 1 August 2025: 21 % of 2 500 = 525.00; 11 % of (400 + 135) = 58.85
    assert _taxes(august) == [(D(11), D("535.00"), D("58.85")), (D(21), D("2500.00"), D("525.00"))]
    assert (august.net, august.tax, august.gross) == (D("3035.00"), D("583.85"), D("3618.85"))
    assert (july.number, august.number) == ("INV-2025-00001", "INV-2025-00002")


def test_intra_eu_business_customer_is_reverse_charged(owner_a, customer, product):
    ws = owner_a.workspace
    with workspace_scope(ws):
        client = customer(name="Budapest Kft", vat="HU12892312", country="HU")
    invoice = _invoice(
        ws, client, [services.LineIn(product_id=product().pk, quantity="2")], dt.date(2026, 3, 2)
    )
    assert invoice.tax_treatment == TaxTreatment.REVERSE_CHARGE and invoice.customer_vat == "HU12892312"
    assert (invoice.net, invoice.tax, invoice.gross) == (D("300.00"), D("0.00"), D("300.00"))
    assert _taxes(invoice) == [(D(0), D("300.00"), D("0.00"))] and invoice.taxes[0]["key"] == "RC"
