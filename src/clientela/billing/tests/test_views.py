"""Billing pages: every page renders for its role, the editor's live totals, actions and their refusals."""

import datetime as dt
import re
from decimal import Decimal as D

from clientela.billing import services
from clientela.billing.models import Document, DocumentKind, DocumentStatus
from clientela.core.tenancy import workspace_scope


def test_the_pages_render(owner_a, client_for, quote, product):
    given = quote()
    order = services.quote_accept(quote=quote(), actor=None).order
    invoice = services.order_invoice(order=services.quote_accept(quote=quote(), actor=None).order, actor=None)
    price_list = services.price_list_create(
        workspace=owner_a.workspace, actor=None, attributes={"name": "List", "currency": "EUR"}
    )
    client = client_for(owner_a)
    pages = [
        "/products/",
        "/products/new/",
        f"/products/{product().pk}/",
        "/price-lists/",
        f"/price-lists/{price_list.pk}/",
        "/settings/billing/",
        "/quotes/",
        "/quotes/new/",
        f"/quotes/{given.pk}/",
        f"/quotes/{given.pk}/edit/",
        "/orders/",
        f"/orders/{order.pk}/",
        "/invoices/",
        f"/invoices/{invoice.pk}/",
        "/commissions/",
        f"/customers/company/{invoice.company_id}/account/",
        f"/companies/{invoice.company_id}/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        ids = re.findall(r'\sid="([^"]+)"', response.content.decode())
        assert not {i for i in ids if ids.count(i) > 1}, url  # a label points at one field
    assert client.get(f"/documents/{invoice.pk}/pdf/").content.startswith(b"%PDF")


def test_the_editor_previews_totals_as_the_user_types(owner_a, client_for, product, customer):
    company, consulting = customer(), product()
    response = client_for(owner_a).post(
        "/quotes/preview/",
        {
            "customer": f"company:{company.pk}",
            "currency": "EUR",
            "row": ["a1", "b2", "c3"],
            "product": [str(consulting.pk), "", ""],
            "description": ["", "Travel", ""],
            "quantity": ["3", "1", "1"],
            "unit_price": ["", "80", ""],
            "discount": ["", "", ""],
        },
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "€530.00" in html and "€116.60" in html and "€646.60" in html  # (450 + 80) net, 22 % VAT
    assert 'id="amount-a1"' in html and 'id="amount-b2"' in html and 'id="amount-c3"' not in html
    assert 'id="calculator"' in html


def test_saving_a_quote_from_the_editor_and_walking_it_to_a_paid_invoice(
    owner_a, client_for, product, customer
):
    company, consulting = customer(), product()
    client = client_for(owner_a)
    response = client.post(
        "/quotes/new/",
        {
            "customer": f"company:{company.pk}",
            "currency": "EUR",
            "issue_date": "2026-03-02",
            "owner": str(owner_a.user_id),
            "row": ["a1"],
            "product": [str(consulting.pk)],
            "description": [""],
            "quantity": ["2"],
            "unit_price": [""],
            "discount": ["10"],
        },
    )
    with workspace_scope(owner_a.workspace):
        quote = Document.objects.get(kind=DocumentKind.QUOTE)
    assert response.status_code == 302 and response["Location"] == f"/quotes/{quote.pk}/"
    assert (quote.net, quote.gross) == (D("270.00"), D("329.40"))

    response = client.post(f"/quotes/{quote.pk}/accept/")
    with workspace_scope(owner_a.workspace):
        order = Document.objects.get(kind=DocumentKind.ORDER)
    assert response["Location"] == f"/orders/{order.pk}/"
    client.post(f"/orders/{order.pk}/invoice/")
    with workspace_scope(owner_a.workspace):
        invoice = Document.objects.get(kind=DocumentKind.INVOICE)
    too_much = client.post(
        f"/invoices/{invoice.pk}/payments/", {"kind": "payment", "amount": "500", "paid_on": "2026-03-05"}
    )
    assert too_much.status_code == 422 and "mark the excess as credit" in too_much.content.decode()
    client.post(
        f"/invoices/{invoice.pk}/payments/", {"kind": "payment", "amount": "329.40", "paid_on": "2026-03-05"}
    )
    invoice.refresh_from_db()
    assert invoice.status == DocumentStatus.PAID


def test_an_editor_with_errors_keeps_what_was_typed(owner_a, client_for, customer):
    company = customer()
    response = client_for(owner_a).post(
        "/quotes/new/",
        {
            "customer": f"company:{company.pk}",
            "currency": "EUR",
            "row": ["a1"],
            "product": [""],
            "description": ["Widget"],
            "quantity": ["-1"],
            "unit_price": ["10"],
            "discount": [""],
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'value="Widget"' in html and "The quantity must be above zero" in html
    with workspace_scope(owner_a.workspace):
        assert not Document.objects.exists()


def test_a_salesperson_sees_only_their_own_statement(owner_a, member_factory, client_for):
    sales = member_factory(owner_a.workspace, "sales")
    page = client_for(sales).get(f"/commissions/?user={owner_a.user_id}").content.decode()
    assert 'name="user"' not in page and str(sales.user) in page


def test_the_card_panel_shows_the_balance(owner_a, client_for, quote, member_factory):
    invoice = services.order_invoice(
        order=services.quote_accept(quote=quote(), actor=None).order,
        actor=None,
        issue_date=dt.date(2026, 1, 1),
    )
    services.payment_register(invoice=invoice, actor=None, amount="49", paid_on="2026-01-10")
    page = client_for(owner_a).get(f"/companies/{invoice.company_id}/").content.decode()
    assert 'data-testid="billing-panel"' in page and "€500.00" in page
    support = member_factory(owner_a.workspace, "marketing")
    assert (
        'data-testid="billing-panel"'
        in client_for(support).get(f"/companies/{invoice.company_id}/").content.decode()
    )


def test_rates_are_written_the_readers_way():
    from django.utils import translation

    from clientela.billing.templatetags.billing import percent

    expected = {"en": "39.3%", "it": "39,3%", "hu": "39,3%", "ro": "39,3\u00a0%"}
    for language, text in expected.items():
        with translation.override(language):
            assert percent("39.300") == text
            assert percent(22) == text.replace("39,3", "22").replace("39.3", "22")
