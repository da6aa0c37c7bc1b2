"""Selling, in a real Chromium: a salesperson adds a product and a price list, opens a deal for a customer
and drags it across the board, builds the deal's quote with Italian VAT (watching the totals follow), the
customer accepts, the order is invoiced, a partial payment arrives; the balance shows on the customer's
card and the commission on the salesperson's statement."""

import datetime as dt
import os

import pytest
from playwright.sync_api import Page, expect

from clientela.billing import commissions
from clientela.contacts import services as contacts
from clientela.core.tenancy import workspace_scope
from clientela.workspaces.roles import Role
from tests.e2e.test_sales_board_journey import column, drag

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("CLIENTELA_SCREENSHOTS", "")


def shot(page: Page, tmp_path, name: str, locator=None) -> None:
    target = locator or page
    kwargs = {} if locator is not None else {"full_page": True}
    target.screenshot(path=str(tmp_path / f"{name}.png"), **kwargs)
    if SCREENSHOTS:
        target.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), **kwargs)


def test_product_price_list_quote_order_invoice_payment_balance_and_commission(
    page: Page, live_server, owner_a, member_factory, signed_in_page, tmp_path
):
    ws = owner_a.workspace
    seller = member_factory(ws, Role.SALES, email="giulia@alpha.test")
    with workspace_scope(ws):
        customer = contacts.company_create(
            workspace=ws,
            actor=None,
            attributes={"name": "Rossi Arredamenti Srl", "vat_number": "IT00743110157"},
            contact=contacts.ContactPoints(
                emails=["acquisti@rossi.example"],
                addresses=[contacts.AddressInput(city="Milano", country="IT")],
            ),
        )
        commissions.commission_plan_create(
            workspace=ws,
            actor=None,
            name="Sales team",
            basis="revenue",
            source="paid_invoices",
            period="month",
            tiers=[("0", "3"), ("50000", "5")],
            member_ids=[seller.user_id],
        )
    page.set_viewport_size({"width": 1280, "height": 900})
    signed_in_page(seller)

    # A product
    page.get_by_role("link", name="Products").click()
    page.get_by_test_id("new-product").click()
    form = page.get_by_test_id("product-form")
    form.get_by_label("Code").fill("SOFA-3")
    form.get_by_label("Name").fill("Divano tre posti")
    form.get_by_label("Unit", exact=True).fill("pc")
    form.get_by_label("Default price (net)").fill("130")
    form.get_by_label("Unit cost").fill("70")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_text("SOFA-3 · Divano tre posti saved.")).to_be_visible()

    # A price list with the product at 120 (and 110 from 10 pieces)
    page.get_by_role("link", name="Price lists").click()
    lists = page.get_by_test_id("price-list-form")
    lists.get_by_label("Name").fill("Listino 2026")
    lists.get_by_label("Currency").fill("EUR")
    lists.get_by_role("button", name="Create price list").click()
    expect(page.locator("h1")).to_have_text("Listino 2026")
    item = page.get_by_test_id("price-item-form")
    item.get_by_label("Product").select_option(label="SOFA-3 · Divano tre posti")
    item.get_by_label("Unit price").fill("120")
    item.get_by_role("button", name="Save price").click()
    item = page.get_by_test_id("price-item-form")
    item.get_by_label("From quantity").fill("10")
    item.get_by_label("Unit price").fill("110")
    item.get_by_role("button", name="Save price").click()
    expect(page.get_by_test_id("price-items")).to_contain_text("€110.00")

    # A deal for the customer, dragged on the board from Qualified to Proposal sent
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Deals").click()
    page.get_by_test_id("new-deal").click()
    deal_form = page.get_by_test_id("deal-form")
    deal_form.get_by_label("Title").fill("Showroom sofas")
    deal_form.get_by_test_id("search-company").fill("Rossi")
    expect(deal_form.get_by_label("Company", exact=True)).to_contain_text("Rossi Arredamenti Srl")
    deal_form.get_by_label("Company", exact=True).select_option(label="Rossi Arredamenti Srl")
    deal_form.get_by_label("Amount").fill("600")
    deal_form.get_by_test_id("save").click()
    expect(page.get_by_test_id("deal-stage")).to_have_text("Qualified")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Deals").click()
    deal_card = page.get_by_role("article", name="Showroom sofas")
    drag(page, deal_card, column(page, "Proposal sent").locator(".board-cards"))
    expect(column(page, "Proposal sent").get_by_test_id("column-count")).to_have_text("1")
    expect(column(page, "Proposal sent").get_by_test_id("column-amount")).to_have_text("€600.00")
    shot(page, tmp_path, "board")

    # The deal's quote, with live totals: 5 sofas at 120 = 600 + 22 % VAT 132 = 732
    deal_card.get_by_role("link", name="Showroom sofas").click()
    page.get_by_test_id("deal-new-quote").click()
    expect(page.get_by_test_id("customer")).to_have_value(f"company:{customer.pk}")
    line = page.get_by_test_id("quote-line").first
    line.get_by_label("Product").select_option(label="SOFA-3 · Divano tre posti")
    line = page.get_by_test_id("quote-line").first
    expect(line.get_by_label("Unit price")).to_have_attribute("placeholder", "120")
    line.get_by_label("Qty").fill("5")
    totals = page.get_by_test_id("totals")
    expect(totals.get_by_test_id("total-net")).to_have_text("€600.00")
    expect(totals.get_by_test_id("total-tax")).to_have_text("€132.00")
    expect(totals.get_by_test_id("total-gross")).to_have_text("€732.00")
    expect(page.get_by_test_id("treatment")).to_have_text("Domestic VAT")
    line.get_by_label("Qty").fill("12")  # the quantity break applies: 12 x 110 = 1,320 + 290.40
    expect(totals.get_by_test_id("total-gross")).to_have_text("€1,610.40")
    line.get_by_label("Qty").fill("5")
    expect(totals.get_by_test_id("total-gross")).to_have_text("€732.00")
    expect(page.get_by_test_id("calculator").get_by_test_id("margin")).to_contain_text(
        "€232.00"
    )  # 600 - 5 x 70 cost - 3 % commission (18)
    shot(page, tmp_path, "quote-editor")
    page.get_by_test_id("save-quote").click()

    expect(page.get_by_test_id("document-title")).to_contain_text("Quote Q-")
    expect(page.get_by_test_id("totals").get_by_test_id("total-gross")).to_have_text("€732.00")
    quote_url = page.url
    page.goto(f"{live_server.url}/deals/")
    page.get_by_role("article", name="Showroom sofas").get_by_role("link", name="Showroom sofas").click()
    expect(page.get_by_test_id("deal-quotes")).to_contain_text("€732.00")
    page.goto(quote_url)
    page.get_by_test_id("accept-quote").click()
    expect(page.get_by_test_id("document-title")).to_contain_text("Order O-")
    page.get_by_test_id("invoice-order").click()
    year = dt.date.today().year
    expect(page.get_by_test_id("document-title")).to_contain_text(f"Invoice INV-{year}-00001")
    expect(page.get_by_test_id("amount-due")).to_have_text("€732.00")

    payment = page.get_by_test_id("payment-form")
    payment.get_by_label("Amount").fill("800")
    payment.get_by_role("button", name="Register").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("mark the excess as credit")
    payment = page.get_by_test_id("payment-form")
    payment.get_by_label("Amount").fill("300")
    payment.get_by_role("button", name="Register").click()
    expect(page.get_by_text("Payment of 300.00 EUR registered.")).to_be_visible()
    expect(page.get_by_test_id("amount-due")).to_have_text("€432.00")
    expect(page.get_by_test_id("payments")).to_contain_text("€300.00")
    shot(page, tmp_path, "invoice")

    # The customer's card: balance and purchase history
    page.goto(f"{live_server.url}/companies/{customer.pk}/")
    panel = page.get_by_test_id("billing-panel")
    expect(panel.get_by_test_id("balance")).to_have_text("€432.00")
    expect(panel).to_contain_text("€732.00 invoiced, €300.00 paid")
    expect(page.get_by_test_id("timeline")).to_contain_text(f"Invoice INV-{year}-00001: €732.00")
    shot(page, tmp_path, "card-panel", panel)

    # The salesperson's statement: 3 % of the net part of 300 (300 x 600/732 = 245.90) = 7.38
    page.get_by_role("link", name="Commissions").click()
    statement = page.get_by_test_id("statement")
    expect(statement.get_by_test_id("commission")).to_have_text("€7.38")
    expect(statement).to_contain_text(f"Payment of INV-{year}-00001")

    # One sofa comes back: a credit note of 1 of the 5 (120 + 26.40 VAT), the rest still due
    page.goto(f"{live_server.url}/invoices/")
    page.get_by_role("link", name=f"INV-{year}-00001").first.click()
    credit = page.get_by_test_id("credit-note")
    credit.locator("summary").click()
    expect(credit.get_by_label("Divano tre posti")).to_have_value("5")
    credit.get_by_label("Divano tre posti").fill("1")
    credit.get_by_label("Reason").fill("Returned: damaged in transport")
    credit.get_by_role("button", name="Issue credit note").click()
    expect(page.get_by_test_id("document-title")).to_contain_text(f"Credit note CN-{year}")
    expect(page.get_by_test_id("totals").get_by_test_id("total-gross")).to_have_text("€146.40")
    page.go_back()
    page.reload()
    expect(page.get_by_test_id("amount-due")).to_have_text("€285.60")  # 732 - 300 paid - 146.40 credited
    page.get_by_test_id("credit-note").locator("summary").click()
    expect(page.get_by_test_id("credit-note").get_by_label("Divano tre posti")).to_have_value("4")

    # On a phone, the quote editor still works
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/quotes/new/?company={customer.pk}")
    page.get_by_test_id("quote-line").first.get_by_label("Description").fill("Consegna")
    page.get_by_test_id("quote-line").first.get_by_label("Unit price").fill("50")
    expect(page.get_by_test_id("totals").get_by_test_id("total-gross")).to_have_text("€61.00")
    shot(page, tmp_path, "quote-editor-phone")
