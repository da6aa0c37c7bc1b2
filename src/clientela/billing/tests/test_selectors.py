"""Reads stay cheap: a balance or a document costs the same few queries for one invoice or many."""

import datetime as dt

from clientela.billing import selectors, services


def test_balance_and_document_query_counts_do_not_grow(
    owner_a, quote, customer, django_assert_max_num_queries
):
    company = customer()
    for day in (dt.date(2026, 1, 5), dt.date(2026, 2, 5), dt.date(2026, 3, 5)):
        order = services.quote_accept(quote=quote(company=company), actor=None).order
        invoice = services.order_invoice(order=order, actor=None, issue_date=day)
        services.payment_register(invoice=invoice, actor=None, amount="100", paid_on=day)
    services.quote_accept(quote=quote(company=company), actor=None)  # an open order
    with django_assert_max_num_queries(4):
        balance = selectors.customer_balance(
            workspace=owner_a.workspace, customer=company, today=dt.date(2026, 3, 20)
        )
    assert balance.open_orders and len(balance.open_invoices) == 3
    with django_assert_max_num_queries(5):
        document = selectors.document_get(workspace=owner_a.workspace, document_id=invoice.pk)
        assert len(document.lines.all()) == 1 and len(document.payments.all()) == 1 and document.company.name
    with django_assert_max_num_queries(2):
        rows = list(selectors.document_list(workspace=owner_a.workspace, kind="invoice"))
        assert {str(d.company) for d in rows} == {"Rossi Srl"}
