"""Billing over the API: happy paths, validation errors that change nothing, and permissions."""

import datetime as dt
from decimal import Decimal

from clientela.billing import services
from clientela.billing.models import Document, Payment


def _quote_payload(company_id, product_id, **extra):
    return {"company": company_id, "lines": [{"product": product_id, "quantity": "3"}], **extra}


def test_products_price_lists_and_tax_rates(owner_a, api_for):
    api = api_for(owner_a)
    product = api.post(
        "/api/v1/products", {"code": "CONS", "name": "Consulting", "price": "150", "cost": "90"}
    )
    assert product.status_code == 201 and product.json()["price"] == "150"
    duplicate = api.post("/api/v1/products", {"code": "cons", "name": "Again"})
    assert duplicate.status_code == 422 and duplicate.json()["errors"][0]["field"] == "code"
    assert api.patch(f"/api/v1/products/{product.json()['id']}", {"active": False}).json()["active"] is False

    price_list = api.post(
        "/api/v1/price-lists", {"name": "VIP", "currency": "eur", "customer_group": "VIP"}
    ).json()
    assert price_list["currency"] == "EUR"
    item = api.post(
        f"/api/v1/price-lists/{price_list['id']}/items",
        {"product": product.json()["id"], "unit_price": "120", "min_quantity": "10"},
    )
    assert item.status_code == 201
    assert api.get(f"/api/v1/price-lists/{price_list['id']}").json()["items"][0]["unit_price"] == "120.000000"
    assert api.post("/api/v1/price-lists", {"name": "Bad", "currency": "EURO"}).status_code == 422

    rates = api.get("/api/v1/tax-rates?country=RO").json()["results"]
    assert {(r["category"], r["rate"], r["valid_to"]) for r in rates} >= {
        ("standard", "19.000", "2025-07-31"),
        ("standard", "21.000", None),
        ("reduced", "11.000", None),
    }


def test_quote_to_paid_invoice_with_balance(owner_a, api_for, customer, product):
    api = api_for(owner_a)
    company, consulting = customer(), product()
    preview = api.post("/api/v1/quotes/preview", _quote_payload(company.pk, consulting.pk)).json()
    assert (preview["net"], preview["tax"], preview["gross"]) == ("450.00", "99.00", "549.00")

    quote = api.post("/api/v1/quotes", _quote_payload(company.pk, consulting.pk, issue_date="2026-03-02"))
    assert quote.status_code == 201, quote.json()
    quote = quote.json()
    assert quote["taxes"] == [{"key": "22", "rate": "22.000", "base": "450.00", "tax": "99.00"}]
    calculator = api.get(f"/api/v1/quotes/{quote['id']}/calculator").json()
    assert (calculator["cost"], calculator["margin"]) == ("270.00", "180.00")

    accepted = api.post(f"/api/v1/quotes/{quote['id']}/accept").json()
    assert accepted["warnings"] == [] and accepted["order"]["kind"] == "order"
    invoice = api.post(
        f"/api/v1/orders/{accepted['order']['id']}/invoice", {"issue_date": "2026-03-02"}
    ).json()
    assert invoice["number"] == "INV-2026-00001" and invoice["amount_due"] == "549.00"

    paid = api.post(f"/api/v1/invoices/{invoice['id']}/payments", {"amount": "200", "paid_on": "2026-03-10"})
    assert paid.status_code == 201 and paid.json()["amount"] == "200.00"
    balance = api.get(f"/api/v1/companies/{company.pk}/balance").json()
    assert (balance["invoiced"], balance["paid"], balance["balance"]) == ("549.00", "200.00", "349.00")
    assert set(balance["buckets"]) == {"0-30", "31-60", "61-90", "90+"}

    account = api.patch(
        f"/api/v1/companies/{company.pk}/account", {"credit_limit": "100", "payment_terms_days": 15}
    )
    assert account.json()["over_limit"] is True and account.json()["payment_terms_days"] == 15


def test_bad_input_is_a_clear_error_and_changes_nothing(owner_a, api_for, customer, product):
    api = api_for(owner_a)
    company, consulting = customer(), product()
    negative = api.post(
        "/api/v1/quotes", {"company": company.pk, "lines": [{"product": consulting.pk, "quantity": "-1"}]}
    )
    assert negative.status_code == 422
    assert negative.json()["errors"][0]["field"] == "lines.0.quantity"
    huf = api.post("/api/v1/price-lists", {"name": "HUF", "currency": "HUF"}).json()
    other_currency = api.post(
        "/api/v1/quotes", _quote_payload(company.pk, consulting.pk, price_list=huf["id"])
    )
    assert other_currency.status_code == 422 and other_currency.json()["errors"][0]["field"] == "price_list"
    ro_rates = api.get("/api/v1/tax-rates?country=RO").json()["results"]
    ro_19 = next(r for r in ro_rates if r["rate"] == "19.000")
    services.billing_settings_update(workspace=owner_a.workspace, actor=None, attributes={"country": "RO"})
    stale = api.post(
        "/api/v1/quotes",
        {
            "company": customer(name="Dacia SRL", vat="RO18547290", country="RO").pk,
            "currency": "EUR",
            "issue_date": "2026-01-10",
            "lines": [{"description": "Audit", "unit_price": "100", "tax_rate": ro_19["id"]}],
        },
    )
    assert stale.status_code == 422 and "not valid on 2026-01-10" in stale.json()["errors"][0]["message"]
    assert not Document.all_workspaces.exists()

    services.billing_settings_update(workspace=owner_a.workspace, actor=None, attributes={"country": "IT"})
    quote = api.post("/api/v1/quotes", _quote_payload(company.pk, consulting.pk)).json()
    order = api.post(f"/api/v1/quotes/{quote['id']}/accept").json()["order"]
    invoice = api.post(f"/api/v1/orders/{order['id']}/invoice", {}).json()
    too_much = api.post(f"/api/v1/invoices/{invoice['id']}/payments", {"amount": "1000"})
    assert too_much.status_code == 422 and "mark the excess as credit" in too_much.json()["title"]
    assert not Payment.all_workspaces.exists()
    edited = api.patch(f"/api/v1/invoices/{invoice['id']}", {"notes": "changed"})
    assert edited.status_code == 409 and edited.json()["code"] == "invoice_issued"
    assert "credit note" in edited.json()["title"]
    assert api.get(f"/api/v1/invoices/{invoice['id']}").json()["notes"] == ""
    line = invoice["lines"][0]
    too_many = api.post(
        f"/api/v1/invoices/{invoice['id']}/credit-note",
        {"lines": [{"line": line["id"], "quantity": str(Decimal(line["quantity"]) + 1)}]},
    )
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "lines.0.quantity"
    part = api.post(
        f"/api/v1/invoices/{invoice['id']}/credit-note",
        {"reason": "One hour less", "lines": [{"line": line["id"], "quantity": "1"}]},
    )
    assert part.status_code == 201 and part.json()["lines"][0]["credits_line"] == line["id"]
    assert Decimal(part.json()["lines"][0]["quantity"]) == 1
    note = api.post(f"/api/v1/invoices/{invoice['id']}/credit-note", {"reason": "Wrong price"})
    assert note.status_code == 201 and note.json()["kind"] == "credit_note"
    assert Decimal(note.json()["lines"][0]["quantity"]) == Decimal(line["quantity"]) - 1  # what was left
    assert api.post(f"/api/v1/invoices/{invoice['id']}/credit-note", {}).status_code == 409
    assert api.post(f"/api/v1/quotes/{quote['id']}/accept").status_code == 409


def test_exchange_rates_and_csv_import(owner_a, api_for):
    api = api_for(owner_a)
    assert (
        api.post(
            "/api/v1/exchange-rates", {"currency": "HUF", "valid_on": "2026-03-01", "rate": "0.0025"}
        ).status_code
        == 201
    )
    imported = api.post(
        "/api/v1/exchange-rates/import", {"csv": "date,currency,rate\n2026-03-02,RON,0.1966\n"}
    )
    assert imported.json() == {"imported": 1}
    bad = api.post("/api/v1/exchange-rates/import", {"csv": "2026-03-02,RON,abc\n"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "row.1"
    assert {r["currency"] for r in api.get("/api/v1/exchange-rates").json()["results"]} == {"HUF", "RON"}


def test_a_salesperson_sees_their_own_commission_only(owner_a, member_factory, api_for, customer, product):
    sales = member_factory(owner_a.workspace, "sales", email="sales@alpha.test")
    manager = member_factory(owner_a.workspace, "manager", email="manager@alpha.test")
    owner_api = api_for(owner_a)
    plan = owner_api.post(
        "/api/v1/commission-plans",
        {
            "name": "Team",
            "tiers": [{"threshold": "0", "rate": "3"}, {"threshold": "50000", "rate": "5"}],
            "members": [sales.user_id],
        },
    )
    assert plan.status_code == 201
    assert (
        api_for(manager)
        .post("/api/v1/commission-plans", {"name": "x", "tiers": [], "members": []})
        .status_code
        == 403
    )

    sales_api = api_for(sales)
    quote = sales_api.post("/api/v1/quotes", _quote_payload(customer().pk, product().pk)).json()
    order = sales_api.post(f"/api/v1/quotes/{quote['id']}/accept").json()["order"]
    invoice = sales_api.post(f"/api/v1/orders/{order['id']}/invoice", {}).json()
    sales_api.post(f"/api/v1/invoices/{invoice['id']}/payments", {"amount": "549"})
    period = dt.date.today().strftime("%Y-%m")

    own = sales_api.get(f"/api/v1/commission-statements?period={period}").json()
    assert [(s["plan"], s["revenue"], s["commission"]) for s in own] == [("Team", "450.00", "13.50")]
    assert sales_api.get(f"/api/v1/commission-statements?user={owner_a.user_id}").status_code == 403
    seen_by_manager = api_for(manager).get(
        f"/api/v1/commission-statements?user={sales.user_id}&period={period}"
    )
    assert seen_by_manager.json()[0]["commission"] == "13.50"
    assert sales_api.get("/api/v1/commission-statements?period=soon").status_code == 422


def test_other_workspaces_documents_are_not_found(owner_a, owner_b, api_for, customer, product):
    quote = api_for(owner_a).post("/api/v1/quotes", _quote_payload(customer().pk, product().pk)).json()
    intruder = api_for(owner_b)
    assert intruder.get(f"/api/v1/quotes/{quote['id']}").status_code == 404
    assert intruder.post(f"/api/v1/quotes/{quote['id']}/accept").status_code == 404
    assert intruder.get("/api/v1/quotes").json()["results"] == []


def _every_page(api, url):
    """The results of a cursor-paginated list, following ``next`` to the end; and the page sizes."""
    results, sizes = [], []
    while url:
        page = api.get(url).json()
        results += page["results"]
        sizes.append(len(page["results"]))
        url = page["next"]
    return results, sizes


def test_lists_are_cursor_paginated_and_keep_their_filters(owner_a, api_for, customer, product):
    api = api_for(owner_a)
    for code in ("D", "B", "E", "A", "C"):
        api.post("/api/v1/products", {"code": code, "name": f"Product {code}", "price": "10"})
    products, sizes = _every_page(api, "/api/v1/products?page_size=2")
    assert [p["code"] for p in products] == ["A", "B", "C", "D", "E"] and sizes == [2, 2, 1]

    company, consulting = customer(), product()
    for day in ("2026-03-03", "2026-03-01", "2026-03-02"):
        payload = _quote_payload(company.pk, consulting.pk, issue_date=day)
        assert api.post("/api/v1/quotes", payload).status_code == 201
    quotes, sizes = _every_page(api, "/api/v1/quotes?page_size=2")
    assert [q["issue_date"] for q in quotes] == ["2026-03-03", "2026-03-02", "2026-03-01"] and sizes == [2, 1]
    first = quotes[0]["number"]
    assert [q["number"] for q in _every_page(api, f"/api/v1/quotes?page_size=1&q={first}")[0]] == [first]
    bad = api.get("/api/v1/invoices?cursor=not-a-cursor!")
    assert bad.status_code == 422 and bad.json()["title"] == "The page cursor is invalid."
    assert bad.json()["errors"] == [{"field": "cursor", "message": "Invalid."}]
    assert len(api.get("/api/v1/products?page_size=500").json()["results"]) == 6  # up to 200 a page
