"""Demo billing data: a catalogue with price lists, exchange rates, a commission plan, and quotes,
orders, invoices and payments for existing demo customers over the last months.

Everything goes through the services, so numbering, totals, balances, commissions and the customers'
timelines are what real use would produce. Running it again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clientela.billing import commissions, services
from clientela.billing.models import Document, Product
from clientela.contacts.models import Company
from clientela.core.errors import ValidationFailed
from clientela.workspaces.models import Membership, User, Workspace
from clientela.workspaces.roles import Role

# code, name, unit, cost, price, tax category, kind
CATALOGUE = [
    ("CONS-H", "Consulting hour", "h", "55", "95", "standard", "service"),
    ("TRAIN-D", "Training day", "day", "380", "890", "standard", "service"),
    ("SUP-M", "Support plan (monthly)", "month", "40", "149", "standard", "service"),
    ("LIC-Y", "CRM licence (yearly)", "pc", "120", "480", "standard", "product"),
    ("INST", "On-site installation", "pc", "210", "450", "standard", "service"),
    ("TAB-10", 'Tablet 10"', "pc", "165", "289", "standard", "product"),
    ("SCAN", "Barcode scanner", "pc", "48", "99", "standard", "product"),
    ("PAPER", "Thermal paper (box)", "box", "9.40", "18.90", "standard", "product"),
    ("MAN-IT", "User manual (print)", "pc", "6.10", "14.50", "super_reduced", "product"),
    ("COFFEE", "Coffee service (event)", "pc", "3.20", "7.50", "reduced", "service"),
]
RATES = {"HUF": Decimal("0.00253"), "RON": Decimal("0.1966"), "USD": Decimal("0.9210")}


@transaction.atomic
def demo_billing(*, workspace: Workspace, owners: list[User], seed: int = 7, customers: int = 40) -> int:
    """Fill ``workspace`` with a catalogue and documents for up to ``customers`` demo companies.
    Returns how many invoices were made (0 when the workspace already has a catalogue)."""
    if Product.objects.filter(workspace=workspace).exists():
        return 0
    rng = random.Random(seed)
    today = timezone.localdate()
    services.billing_settings_update(
        workspace=workspace,
        actor=None,
        attributes={
            "quote_terms": "Prices valid 30 days. Delivery within 10 working days. Payment by bank transfer."
        },
    )
    for currency, rate in RATES.items():
        if currency == workspace.default_currency.upper():
            continue
        for months_back in range(0, 13):
            day = (today.replace(day=1) - dt.timedelta(days=30 * months_back)).replace(day=1)
            wobble = Decimal(1) + Decimal(rng.randint(-200, 200)) / Decimal(10000)
            services.exchange_rate_set(
                workspace=workspace, currency=currency, valid_on=day, rate=rate * wobble
            )
    products = [
        services.product_create(
            workspace=workspace,
            actor=None,
            attributes={
                "code": code,
                "name": name,
                "unit": unit,
                "cost": Decimal(cost),
                "price": Decimal(price),
                "tax_category": category,
                "kind": kind,
            },
        )
        for code, name, unit, cost, price, category, kind in CATALOGUE
    ]
    _price_lists(workspace, products)
    sellers = [
        m.user for m in Membership.objects.filter(workspace=workspace, role__in=[Role.SALES, Role.MANAGER])
    ]
    sellers = sellers or owners
    commissions.commission_plan_create(
        workspace=workspace,
        actor=None,
        name="Sales team",
        basis="revenue",
        source="paid_invoices",
        period="month",
        tiers=[("0", "3"), ("50000", "5")],
        member_ids=[u.pk for u in sellers],
    )
    to_invoice: list[_ToInvoice] = []
    companies = list(Company.objects.filter(workspace=workspace).order_by("id")[:customers])
    for company in companies:
        to_invoice += _customer_history(workspace, company, products, sellers, rng, today)
    # Invoices are numbered in the order of their dates, as the law asks: issue them in that order.
    for planned in sorted(to_invoice, key=lambda p: (p.day, p.order.pk)):
        _invoice_and_pay(planned, today)
    return len(to_invoice)


@dataclass
class _ToInvoice:
    order: Document
    day: dt.date
    payment: float  # below 0.55: paid in full; below 0.75: in part; else unpaid
    share: int  # the part paid, in percent
    delay: int  # days between the due date and the payment


def _price_lists(workspace: Workspace, products: list[Product]) -> None:
    base = workspace.default_currency.upper()
    standard = services.price_list_create(
        workspace=workspace, actor=None, attributes={"name": f"Price list {base}", "currency": base}
    )
    vip = services.price_list_create(
        workspace=workspace,
        actor=None,
        attributes={"name": "Key accounts", "currency": base, "customer_group": "Key account"},
    )
    for product in products:
        services.price_list_item_set(price_list=standard, product_id=product.pk, unit_price=product.price)
        services.price_list_item_set(
            price_list=vip,
            product_id=product.pk,
            unit_price=(product.price * Decimal("0.9")).quantize(Decimal("0.01")),
        )
        if product.unit in ("pc", "box"):
            services.price_list_item_set(
                price_list=standard,
                product_id=product.pk,
                unit_price=(product.price * Decimal("0.92")).quantize(Decimal("0.01")),
                min_quantity=10,
            )
    if base != "HUF" and "HUF" in RATES:
        forint = services.price_list_create(
            workspace=workspace,
            actor=None,
            attributes={"name": "Árlista HUF (bruttó)", "currency": "HUF", "prices_include_tax": True},
        )
        for product in products:
            gross = product.price / RATES["HUF"] * Decimal("1.27")
            services.price_list_item_set(
                price_list=forint, product_id=product.pk, unit_price=gross.quantize(Decimal(10))
            )


def _customer_history(
    workspace: Workspace,
    company: Company,
    products: list[Product],
    sellers: list[User],
    rng: random.Random,
    today: dt.date,
) -> list[_ToInvoice]:
    """One to three quotes for a company, most accepted; the orders to invoice, with how they are paid."""
    to_invoice: list[_ToInvoice] = []
    if rng.random() < 0.25:
        services.customer_account_update(
            workspace=workspace,
            actor=None,
            record=company,
            attributes={
                "customer_group": "Key account" if rng.random() < 0.5 else "",
                "credit_limit": Decimal(rng.choice([5000, 10000, 25000])),
                "payment_terms_days": rng.choice([30, 60]),
            },
        )
    for _ in range(rng.randint(1, 3)):
        day = today - dt.timedelta(days=rng.randint(5, 200))
        chosen = rng.sample(products, rng.randint(1, 4))
        lines = [
            services.LineIn(
                product_id=p.pk,
                quantity=str(rng.choice([1, 1, 2, 3, 5, 10, 12])),
                discount_percent=str(rng.choice([0, 0, 0, 5, 10])),
            )
            for p in chosen
        ]
        try:
            quote = services.quote_create(
                workspace=workspace,
                actor=None,
                header=services.DocumentHeader(
                    company_id=company.pk, issue_date=day, owner_id=rng.choice(sellers).pk
                ),
                lines=lines,
            )
        except ValidationFailed:
            continue  # e.g. a customer abroad in a currency without a rate: skip it
        roll = rng.random()
        if roll < 0.15:
            continue  # still open
        if roll < 0.25:
            services.quote_decline(quote=quote, actor=None)
            continue
        order = services.quote_accept(
            quote=quote, actor=None, on=day + dt.timedelta(days=rng.randint(1, 6))
        ).order
        if rng.random() < 0.15:
            continue  # ordered, not invoiced yet
        to_invoice.append(
            _ToInvoice(
                order=order,
                day=min(today, order.issue_date + dt.timedelta(days=rng.randint(0, 10))),
                payment=rng.random(),
                share=rng.choice([30, 50, 70]),
                delay=rng.randint(-20, 15),
            )
        )
    return to_invoice


def _invoice_and_pay(planned: _ToInvoice, today: dt.date) -> None:
    invoice = services.order_invoice(order=planned.order, actor=None, issue_date=planned.day)
    assert invoice.due_date is not None
    paid_on = max(invoice.issue_date, min(today, invoice.due_date + dt.timedelta(days=planned.delay)))
    if planned.payment < 0.55:
        services.payment_register(
            invoice=invoice, actor=None, amount=invoice.gross, paid_on=paid_on, method="bank transfer"
        )
    elif planned.payment < 0.75:
        part = (invoice.gross * Decimal(planned.share) / 100).quantize(Decimal("0.01"))
        services.payment_register(
            invoice=invoice, actor=None, amount=part, paid_on=paid_on, method="bank transfer"
        )
    # else: unpaid (overdue when its due date has passed)
