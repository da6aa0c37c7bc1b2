"""Billing rules, given/when/then: quote -> order -> invoice -> payments, numbering, prices, taxes,
refusals that change nothing, credit, and the purchase history on the customer's timeline."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from clientela.billing import selectors, services
from clientela.billing.models import (
    Document,
    DocumentKind,
    DocumentStatus,
    NumberCounter,
    Payment,
    TaxTreatment,
)
from clientela.billing.pdf import document_html
from clientela.core.errors import Conflict, ValidationFailed
from clientela.timeline.models import Interaction


def test_a_quote_becomes_an_order_an_invoice_and_is_paid_in_part(owner_a, ws, quote):
    given = quote()
    assert (given.net, given.tax, given.gross) == (D("450.00"), D("99.00"), D("549.00"))
    assert given.number.startswith("Q-") and given.status == DocumentStatus.DRAFT

    accepted = services.quote_accept(quote=given, actor=owner_a.user)
    order = accepted.order
    invoice = services.order_invoice(order=order, actor=owner_a.user, issue_date=dt.date(2026, 3, 10))
    payment = services.payment_register(
        invoice=invoice, actor=owner_a.user, amount="200", paid_on="2026-03-20"
    )

    invoice.refresh_from_db()
    order.refresh_from_db()
    assert order.status == DocumentStatus.INVOICED and order.gross == D("549.00")
    assert invoice.number == "INV-2026-00001" and invoice.status == DocumentStatus.ISSUED
    assert invoice.due_date == dt.date(2026, 4, 9) and invoice.amount_due == D("349.00")
    assert payment.amount == D("200.00")
    balance = selectors.customer_balance(workspace=ws, customer=given.company, today=dt.date(2026, 3, 21))
    assert (balance.invoiced, balance.paid, balance.balance, balance.overdue) == (
        D("549.00"),
        D("200.00"),
        D("349.00"),
        D("0"),
    )
    history = Interaction.objects.filter(company=given.company, kind="order").order_by("id")
    assert [i.subject for i in history] == ["Order O-2026-00001: €549.00", "Invoice INV-2026-00001: €549.00"]


def test_overdue_amounts_fall_into_age_buckets(owner_a, ws, quote):
    def invoice_on(day):
        order = services.quote_accept(quote=quote(), actor=None).order
        return services.order_invoice(order=order, actor=None, issue_date=day)

    company = invoice_on(dt.date(2026, 1, 1)).company  # due 31 Jan
    for day in (dt.date(2026, 1, 20), dt.date(2025, 9, 1), dt.date(2025, 12, 1)):  # in date order
        order = services.quote_accept(quote=quote(company=company), actor=None).order
        services.order_invoice(order=order, actor=None, issue_date=day)
    balance = selectors.customer_balance(workspace=ws, customer=company, today=dt.date(2026, 3, 1))
    # due dates: 31 Jan (29 days late), 19 Feb (10), 31 Dec (60), 1 Oct (151)
    assert balance.buckets == {"0-30": D("1098.00"), "31-60": D("549.00"), "61-90": D(0), "90+": D("549.00")}
    assert balance.overdue == D("2196.00")


def test_numbers_follow_each_other_per_series_and_year_and_a_rollback_gives_one_back(owner_a, ws, quote):
    def invoice(day):
        return services.order_invoice(
            order=services.quote_accept(quote=quote(), actor=None).order, actor=None, issue_date=day
        )

    assert invoice(dt.date(2026, 1, 5)).number == "INV-2026-00001"
    assert invoice(dt.date(2026, 2, 5)).number == "INV-2026-00002"
    assert invoice(dt.date(2027, 1, 2)).number == "INV-2027-00001"
    order = services.quote_accept(quote=quote(), actor=None).order

    def fail_after_taking_a_number():
        with transaction.atomic():
            services.order_invoice(order=order, actor=None, issue_date=dt.date(2026, 3, 1))
            raise RuntimeError("the request failed after the number was taken")

    with pytest.raises(RuntimeError):
        fail_after_taking_a_number()
    assert NumberCounter.objects.get(series="INV", year=2026).last_number == 2
    assert invoice(dt.date(2026, 3, 1)).number == "INV-2026-00003"
    numbers = sorted(Document.objects.filter(kind="invoice", year=2026).values_list("sequence", flat=True))
    assert numbers == [1, 2, 3]

    with pytest.raises(ValidationFailed) as refused:  # numbers follow dates
        invoice(dt.date(2026, 2, 28))
    assert "INV-2026-00003" in refused.value.fields["issue_date"][0]
    assert NumberCounter.objects.get(series="INV", year=2026).last_number == 3
    assert invoice(dt.date(2026, 3, 1)).number == "INV-2026-00004"  # the same day is fine


def test_the_number_counter_row_is_locked_while_a_number_is_taken(owner_a, ws, quote):
    order = services.quote_accept(quote=quote(), actor=None).order
    with CaptureQueriesContext(connection) as queries:
        services.order_invoice(order=order, actor=None, issue_date=dt.date(2026, 1, 5))
    counter_reads = [
        q["sql"] for q in queries if "billing_numbercounter" in q["sql"] and "SELECT" in q["sql"]
    ]
    assert counter_reads
    if connection.features.has_select_for_update:
        assert all("FOR UPDATE" in sql for sql in counter_reads)


def test_an_issued_invoice_cannot_be_edited_only_credited(owner_a, ws, quote):
    invoice = services.order_invoice(order=services.quote_accept(quote=quote(), actor=None).order, actor=None)
    with pytest.raises(Conflict) as exc:
        services.document_update(
            document=invoice, actor=None, header=services.DocumentHeader(notes="changed"), lines=None
        )
    assert "credit note" in exc.value.message
    invoice.refresh_from_db()
    assert invoice.notes == "" and invoice.gross == D("549.00")

    note = services.invoice_credit(invoice=invoice, actor=None, reason="Wrong customer")
    invoice.refresh_from_db()
    assert (
        note.kind == DocumentKind.CREDIT_NOTE and note.number.startswith("CN-") and note.gross == D("549.00")
    )
    assert invoice.amount_due == 0 and invoice.status == DocumentStatus.PAID
    with pytest.raises(Conflict):
        services.invoice_credit(invoice=invoice, actor=None)


def test_a_partial_credit_note_takes_back_part_of_a_line_and_the_next_what_is_left(
    owner_a, ws, quote, product
):
    lines = [
        services.LineIn(product_id=product().pk, quantity="3"),  # 3 x 150 = 450 + 99
        services.LineIn(description="Travel", quantity="1", unit_price="100"),  # 100 + 22
    ]
    invoice = services.order_invoice(
        order=services.quote_accept(quote=quote(lines=lines), actor=None).order, actor=None
    )
    consulting, travel = invoice.lines.order_by("position")
    services.payment_register(invoice=invoice, actor=None, amount="200")

    # Bad choices: a line of another document, more than invoiced, nothing at all: refused, nothing stored.
    for bad, field in [
        ([services.CreditLineIn(line_id=0, quantity="1")], "lines.0.line"),
        ([services.CreditLineIn(line_id=consulting.pk, quantity="4")], "lines.0.quantity"),
        ([services.CreditLineIn(line_id=travel.pk, quantity="-1")], "lines.0.quantity"),
        ([services.CreditLineIn(line_id=travel.pk, quantity="0")], "lines"),
    ]:
        with pytest.raises(ValidationFailed) as exc:
            services.invoice_credit(invoice=invoice, actor=None, lines=bad)
        assert field in exc.value.fields
    assert not Document.objects.filter(kind=DocumentKind.CREDIT_NOTE).exists()

    # One hour of consulting back: 150 + 33 VAT = 183.
    note = services.invoice_credit(
        invoice=invoice,
        actor=None,
        reason="One hour not done",
        lines=[services.CreditLineIn(consulting.pk, "1")],
    )
    invoice.refresh_from_db()
    assert (note.net, note.tax, note.gross) == (D("150.00"), D("33.00"), D("183.00"))
    assert [(n.credits_line_id, n.quantity) for n in note.lines.all()] == [(consulting.pk, D("1"))]
    assert invoice.amount_credited == D("183.00") and invoice.amount_due == D("288.00")  # 671 - 200 - 183
    assert services.creditable_quantities(invoice) == {consulting.pk: D("2"), travel.pk: D("1")}
    with pytest.raises(ValidationFailed) as exc:
        services.invoice_credit(
            invoice=invoice, actor=None, lines=[services.CreditLineIn(consulting.pk, "3")]
        )
    assert exc.value.fields == {"lines.0.quantity": ["At most 2 is left to credit."]}

    # Without lines: the rest (2 hours and the travel), and the invoice is closed.
    rest = services.invoice_credit(invoice=invoice, actor=None)
    invoice.refresh_from_db()
    assert rest.gross == D("488.00") and invoice.amount_credited == invoice.gross == D("671.00")
    assert invoice.amount_due == D("-200.00")  # what was paid is the customer's credit
    with pytest.raises(Conflict):
        services.invoice_credit(invoice=invoice, actor=None)


def test_payments_beyond_the_amount_due_need_to_be_marked_as_credit(owner_a, ws, quote):
    invoice = services.order_invoice(order=services.quote_accept(quote=quote(), actor=None).order, actor=None)
    with pytest.raises(ValidationFailed) as exc:
        services.payment_register(invoice=invoice, actor=None, amount="600")
    assert exc.value.fields == {"amount": ["More than the amount due."]}
    assert not Payment.objects.exists()

    payment = services.payment_register(invoice=invoice, actor=None, amount="600", as_credit=True)
    invoice.refresh_from_db()
    assert payment.credit == D("51.00") and invoice.amount_due == D("-51.00")
    assert invoice.status == DocumentStatus.PAID
    assert selectors.customer_balance(workspace=ws, customer=invoice.company).balance == D("-51.00")

    with pytest.raises(ValidationFailed):
        services.payment_register(invoice=invoice, actor=None, amount="700", kind="refund")
    services.payment_register(invoice=invoice, actor=None, amount="51", kind="refund")
    invoice.refresh_from_db()
    assert invoice.amount_due == 0 and invoice.amount_paid == D("549.00")
    with pytest.raises(ValidationFailed):
        services.payment_register(invoice=invoice, actor=None, amount="-5")


def test_bad_lines_are_refused_and_nothing_is_saved(owner_a, ws, quote, product, customer):
    services.billing_settings_for(ws)
    consulting = product()
    with pytest.raises(ValidationFailed) as exc:
        quote(lines=[services.LineIn(product_id=consulting.pk, quantity="-2")])
    assert "lines.0.quantity" in exc.value.fields
    huf = services.price_list_create(
        workspace=ws, actor=None, attributes={"name": "Forint", "currency": "HUF"}
    )
    with pytest.raises(ValidationFailed) as exc:
        quote(price_list_id=huf.pk)
    assert exc.value.fields["price_list"] == ["The price list is in HUF, the document in EUR."]
    rates = selectors.tax_rate_list(workspace=ws, country="RO")
    old_ro = rates.get(category="standard", valid_from=dt.date(2017, 1, 1))
    with pytest.raises(ValidationFailed) as exc:
        quote(lines=[services.LineIn(product_id=consulting.pk, tax_rate_id=old_ro.pk)])
    assert "lines.0.tax_rate" in exc.value.fields
    assert not Document.objects.exists()


def test_a_tax_rate_not_valid_on_the_document_date_is_refused(owner_a, ws, quote, product, customer):
    services.billing_settings_update(workspace=ws, actor=None, attributes={"country": "RO"})
    services.exchange_rate_set(workspace=ws, currency="RON", valid_on="2025-01-01", rate="0.2")
    client = customer(name="Carpați SRL", vat="RO18547290", country="RO")
    ro_19 = selectors.tax_rate_list(workspace=ws, country="RO").get(category="standard", rate=19)
    line = services.LineIn(product_id=product().pk, tax_rate_id=ro_19.pk, unit_price="150", quantity="3")
    with pytest.raises(ValidationFailed) as exc:
        quote(lines=[line], company=client, currency="RON", issue_date=dt.date(2025, 9, 1))
    assert exc.value.fields["lines.0.tax_rate"] == [
        "The rate RO Standard rate 19% is not valid on 2025-09-01."
    ]
    assert not Document.objects.exists()
    assert quote(lines=[line], company=client, currency="RON", issue_date=dt.date(2025, 7, 1)).tax == D(
        "85.50"
    )


def test_prices_come_from_the_customers_group_list_with_quantity_breaks(
    owner_a, ws, quote, product, customer
):
    consulting = product()
    company = customer()
    services.customer_account_update(
        workspace=ws, actor=None, record=company, attributes={"customer_group": "VIP"}
    )
    everyone = services.price_list_create(
        workspace=ws, actor=None, attributes={"name": "List", "currency": "EUR"}
    )
    vip = services.price_list_create(
        workspace=ws,
        actor=None,
        attributes={"name": "VIP", "currency": "EUR", "customer_group": " vip", "valid_from": "2026-01-01"},
    )
    assert vip.customer_group == "VIP"  # the group as the workspace already writes it
    expired = services.price_list_create(
        workspace=ws,
        actor=None,
        attributes={"name": "Old VIP", "currency": "EUR", "customer_group": "VIP", "valid_to": "2025-12-31"},
    )
    services.price_list_item_set(price_list=everyone, product_id=consulting.pk, unit_price="140")
    services.price_list_item_set(price_list=vip, product_id=consulting.pk, unit_price="130")
    services.price_list_item_set(
        price_list=vip, product_id=consulting.pk, unit_price="120", min_quantity="10"
    )
    services.price_list_item_set(price_list=expired, product_id=consulting.pk, unit_price="1")

    def price(qty, company=company):
        line = services.LineIn(product_id=consulting.pk, quantity=qty)
        return quote(lines=[line], company=company, issue_date=dt.date(2026, 3, 1)).lines.get().unit_price

    assert price("3") == D("130") and price("12") == D("120")
    assert price("3", company=customer(name="Bianchi Spa", vat="", email="")) == D("140")


@pytest.mark.parametrize("currency", ["EUR", "USD"])
def test_pricing_reads_the_same_few_rows_for_3_lines_as_for_30(ws, product, customer, currency):
    """Products, price lists, their items, tax rates and the exchange rate are read once per document,
    never once per line: the live totals of a long quote cost what a short one costs."""
    services.billing_settings_for(ws)  # made, with the statutory rates, on first use
    services.exchange_rate_set(workspace=ws, currency="USD", valid_on="2026-01-01", rate="0.9")
    company = customer()
    services.customer_account_update(
        workspace=ws, actor=None, record=company, attributes={"customer_group": "VIP"}
    )
    everyone = services.price_list_create(
        workspace=ws, actor=None, attributes={"name": "List", "currency": currency}
    )
    vip = services.price_list_create(
        workspace=ws, actor=None, attributes={"name": "VIP", "currency": currency, "customer_group": "VIP"}
    )
    reduced = selectors.tax_rate_list(workspace=ws, country="IT").get(category="reduced")
    lines = []
    for n in range(30):
        item = product(code=f"P{n}", price="100", tax_category="reduced" if n % 4 else "standard")
        if n % 3 == 0:  # the others take the catalogue price
            services.price_list_item_set(price_list=everyone, product_id=item.pk, unit_price="90")
            services.price_list_item_set(
                price_list=vip, product_id=item.pk, unit_price="80", min_quantity="5"
            )
        lines.append(
            services.LineIn(
                product_id=item.pk,
                quantity=str(1 + n % 8),
                discount_percent=str(n % 3),
                tax_rate_id=reduced.pk if n % 5 == 0 else None,
            )
        )
    header = services.DocumentHeader(company_id=company.pk, currency=currency, issue_date="2026-03-02")

    def preview(lines):
        with CaptureQueriesContext(connection) as queries:
            result = services.document_preview(workspace=ws, header=header, lines=lines)
        assert not result.errors
        return result, len(queries)

    (_result, few), (result, many) = preview(lines[:3]), preview(lines)
    assert few == many <= 10
    catalogue = D("100") if currency == "EUR" else D("111.111111")  # 100 EUR at 0.9 EUR per USD
    assert [result.lines[n].unit_price for n in (0, 1, 6)] == [D("90"), catalogue, D("80")]


def test_gross_prices_keep_their_gross_for_domestic_customers_and_lose_vat_for_reverse_charge(
    owner_a, ws, quote, product, customer
):
    consulting = product()
    gross = services.price_list_create(
        workspace=ws, actor=None, attributes={"name": "Shop", "currency": "EUR", "prices_include_tax": True}
    )
    services.price_list_item_set(price_list=gross, product_id=consulting.pk, unit_price="122")
    domestic = quote(lines=[services.LineIn(product_id=consulting.pk)], price_list_id=gross.pk)
    assert (domestic.net, domestic.tax, domestic.gross) == (D("100.00"), D("22.00"), D("122.00"))

    hungarian = customer(name="Duna Kft", vat="HU12892312", country="HU")
    reverse = quote(
        lines=[services.LineIn(product_id=consulting.pk)], price_list_id=gross.pk, company=hungarian
    )
    assert reverse.tax_treatment == TaxTreatment.REVERSE_CHARGE
    assert (reverse.net, reverse.tax, reverse.gross) == (D("100.00"), D("0.00"), D("100.00"))
    assert "Art. 196" in reverse.lines.get().tax_note


def test_tax_treatment_follows_the_customer_and_reverse_charge_needs_a_valid_vat_number(
    owner_a, ws, quote, customer
):
    assert quote(company=customer(name="US Inc", vat="", country="US")).tax_treatment == TaxTreatment.EXPORT
    consumer = customer(name="Kovács Anna", vat="", country="HU")
    assert quote(company=consumer).tax_treatment == TaxTreatment.DOMESTIC
    with pytest.raises(ValidationFailed) as exc:
        quote(company=consumer, tax_treatment=TaxTreatment.REVERSE_CHARGE)
    assert "tax_treatment" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        quote(tax_treatment=TaxTreatment.EXEMPT)
    assert "exemption_reason" in exc.value.fields
    exempt = quote(tax_treatment=TaxTreatment.EXEMPT, exemption_reason="Art. 8-bis DPR 633/72")
    assert exempt.tax == 0 and exempt.lines.get().tax_note == "Art. 8-bis DPR 633/72"


def test_an_invoice_applies_the_vat_rate_in_force_on_its_date_romania_august_2025(
    owner_a, ws, quote, product, customer
):
    services.billing_settings_update(workspace=ws, actor=None, attributes={"country": "RO"})
    services.exchange_rate_set(workspace=ws, currency="RON", valid_on="2025-07-01", rate="0.1970")
    client = customer(name="Carpați SRL", vat="RO18547290", country="RO")
    lines = [
        services.LineIn(product_id=product().pk, quantity="2", unit_price="500"),
        services.LineIn(
            product_id=product(code="CARTE", tax_category="reduced").pk, quantity="1", unit_price="100"
        ),
    ]
    july = quote(lines=lines, company=client, currency="RON", issue_date=dt.date(2025, 7, 20))
    # 1000 RON at 19 % = 190; 100 RON at 9 % = 9
    assert (july.net, july.tax, july.gross) == (D("1100.00"), D("199.00"), D("1299.00"))
    order = services.quote_accept(quote=july, actor=None).order
    invoice = services.order_invoice(order=order, actor=None, issue_date=dt.date(2025, 8, 4))
    # from 1 August: 21 % and 11 %
    assert [(t["rate"], t["tax"]) for t in invoice.taxes] == [("11.000", "11.00"), ("21.000", "210.00")]
    assert (invoice.net, invoice.tax, invoice.gross) == (D("1100.00"), D("221.00"), D("1321.00"))
    assert invoice.exchange_rate == D("0.19700000")


def test_exchange_rates_import_all_or_nothing_and_balances_convert(owner_a, ws, quote, customer):
    with pytest.raises(ValidationFailed) as exc:
        services.exchange_rates_import(
            workspace=ws, text="date,currency,rate\n2026-03-01,HUF,0.0025\nbad,XXX,0\n"
        )
    assert set(exc.value.fields) == {"row.2"}
    assert not selectors.exchange_rate_list(workspace=ws).exists()
    count = services.exchange_rates_import(
        workspace=ws, text="2026-03-01;HUF;0,0025\n2026-03-01;RON;0.1965\n"
    )
    assert count == 2
    invoice = services.order_invoice(
        order=services.quote_accept(
            quote=quote(
                currency="HUF",
                issue_date=dt.date(2026, 3, 2),
                lines=[services.LineIn(description="Audit", unit_price="100000")],
            ),
            actor=None,
        ).order,
        actor=None,
        issue_date=dt.date(2026, 3, 5),
    )
    assert invoice.gross == D("122000.00") and invoice.currency == "HUF"
    assert selectors.customer_balance(workspace=ws, customer=invoice.company).invoiced == D("305.00")
    with pytest.raises(ValidationFailed):
        quote(currency="USD")  # no rate for USD


def test_a_new_order_over_the_credit_limit_warns(owner_a, ws, quote, customer):
    company = customer()
    services.customer_account_update(
        workspace=ws,
        actor=None,
        record=company,
        attributes={"credit_limit": "1000", "payment_terms_days": "60"},
    )
    first = services.quote_accept(quote=quote(company=company), actor=None)
    assert first.warnings == []
    second = services.quote_accept(quote=quote(company=company, lines=None), actor=None)
    assert second.warnings == [
        "This order takes Rossi Srl to €1,098.00, over their credit limit of €1,000.00."
    ]
    invoice = services.order_invoice(order=first.order, actor=None, issue_date=dt.date(2026, 1, 1))
    assert invoice.due_date == dt.date(2026, 3, 2)  # the customer's 60 days


def test_sending_a_quote_emails_its_pdf_and_notes_it_on_the_timeline(
    owner_a, ws, quote, django_capture_on_commit_callbacks
):
    given = quote()
    with django_capture_on_commit_callbacks(execute=True):
        services.quote_send(quote=given, actor=owner_a.user)
    given.refresh_from_db()
    assert given.status == DocumentStatus.SENT
    message = mail.outbox[-1]
    assert message.to == ["acquisti@rossi.it"] and given.number in message.subject
    filename, content, mimetype = message.attachments[0]
    assert filename == f"{given.number}.pdf" and mimetype == "application/pdf" and content.startswith(b"%PDF")
    assert Interaction.objects.filter(
        kind="email", company=given.company, subject__contains=given.number
    ).exists()
    with pytest.raises(ValidationFailed):
        services.quote_send(quote=given, actor=None, to="not an email")


def test_tax_rates_are_seeded_and_may_not_overlap(owner_a, ws):
    services.billing_settings_for(ws)
    it = {r.category: r.rate for r in selectors.tax_rate_list(workspace=ws, country="IT")}
    assert it == {"standard": D(22), "reduced": D(10), "reduced_2": D(5), "super_reduced": D(4)}
    hu = sorted(r.rate for r in selectors.tax_rate_list(workspace=ws, country="HU"))
    assert hu == [D(5), D(18), D(27)]
    ro = [(r.category, r.rate, r.valid_to) for r in selectors.tax_rate_list(workspace=ws, country="RO")]
    assert ("standard", D(19), dt.date(2025, 7, 31)) in ro and ("standard", D(21), None) in ro
    new = services.tax_rate_create(
        workspace=ws, actor=None, country="HU", category="standard", rate="26", valid_from="2027-01-01"
    )
    assert selectors.tax_rate_list(workspace=ws, country="HU").get(rate=27).valid_to == dt.date(2026, 12, 31)
    with pytest.raises(ValidationFailed):
        services.tax_rate_create(
            workspace=ws,
            actor=None,
            country="HU",
            category="standard",
            rate="25",
            valid_from="2026-06-01",
            valid_to="2026-07-01",
        )
    assert new.rate == D(26)


def test_an_invoice_names_both_parties_and_a_credit_note_the_invoice_it_corrects(owner_a, ws, quote):
    services.billing_settings_update(
        workspace=ws,
        actor=None,
        attributes={
            "seller_name": "Clientela Demo S.r.l.",
            "seller_address": "Via Torino 2\n20123 Milano",
            "seller_vat_number": "00743110157",  # the IT prefix comes from the tax country
        },
    )
    with pytest.raises(ValidationFailed) as bad:
        services.billing_settings_update(workspace=ws, actor=None, attributes={"seller_vat_number": "IT123"})
    assert "seller_vat_number" in bad.value.fields
    invoice = services.order_invoice(order=services.quote_accept(quote=quote(), actor=None).order, actor=None)
    html = document_html(document=invoice, language="en")
    assert "Clientela Demo S.r.l." in html and "Via Torino 2" in html and "IT00743110157" in html
    assert "Rossi Srl" in html and "IT" in html  # the customer and its address
    assert "Terms" not in html  # the quote's terms are the quote's
    services.payment_register(invoice=invoice, actor=None, amount=invoice.gross)
    note = services.invoice_credit(invoice=invoice, actor=None)
    note_html = document_html(document=note, language="en")
    assert f"Corrects invoice {invoice.number}" in note_html
    assert "Credit in your favour" in document_html(document=Document.objects.get(pk=invoice.pk))


def test_a_quote_cannot_expire_before_its_own_date(owner_a, ws, quote):
    for bad in ("2026-03-01", "soon"):
        with pytest.raises(ValidationFailed) as refused:
            quote(issue_date=dt.date(2026, 3, 10), valid_until=bad)
        assert "valid_until" in refused.value.fields
    assert not Document.objects.exists()
    same_day = quote(issue_date=dt.date(2026, 3, 10), valid_until="2026-03-10")
    assert same_day.valid_until == dt.date(2026, 3, 10)
