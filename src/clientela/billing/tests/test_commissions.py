"""Commission plans and statements: tiers, revenue or margin, paid invoices or won deals, recomputed
when a payment or refund arrives."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.utils import timezone

from clientela.billing import commissions, services
from clientela.billing.isolation import make_deal
from clientela.billing.models import CommissionStatement, DealLine
from clientela.core.errors import ValidationFailed


@pytest.fixture
def plan(owner_a):
    def make(basis="revenue", source="paid_invoices", period="month", tiers=(("0", "3"), ("50000", "5"))):
        return commissions.commission_plan_create(
            workspace=owner_a.workspace,
            actor=None,
            name=f"{basis} {source} {period}",
            basis=basis,
            source=source,
            period=period,
            tiers=tiers,
            member_ids=[owner_a.user_id],
        )

    return make


def test_periods():
    assert commissions.period_bounds("month", dt.date(2026, 2, 14)) == (
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 28),
    )
    assert commissions.period_bounds("quarter", dt.date(2026, 11, 3)) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 12, 31),
    )
    assert commissions.parse_period("2026-Q2") == dt.date(2026, 4, 1)
    with pytest.raises(ValidationFailed):
        commissions.parse_period("March")


def test_paid_invoices_earn_commission_on_their_net_and_a_refund_takes_it_back(owner_a, plan, quote):
    revenue = plan()
    margin = plan(basis="margin", tiers=(("0", "10"),))
    invoice = services.order_invoice(
        order=services.quote_accept(quote=quote(), actor=None).order,
        actor=None,
        issue_date=dt.date(2026, 3, 2),
    )  # 450 net (cost 3 x 90 = 270), 549 gross
    services.payment_register(invoice=invoice, actor=None, amount="274.50", paid_on="2026-03-10")  # half
    saved = CommissionStatement.objects.get(plan=revenue, user=owner_a.user)
    assert (saved.revenue, saved.commission) == (D("225.00"), D("6.75"))  # 3 % of 225
    assert CommissionStatement.objects.get(plan=margin).commission == D("9.00")  # 10 % of (225 - 135)

    services.payment_register(invoice=invoice, actor=None, amount="100", paid_on="2026-03-20", kind="refund")
    saved.refresh_from_db()
    assert saved.revenue == D("225.00") - D("81.97") and saved.commission == D("4.29")
    statement = commissions.commission_statement(
        workspace=owner_a.workspace, plan=revenue, user=owner_a.user, on=dt.date(2026, 3, 1)
    )
    assert [line.label for line in statement.lines] == [
        f"Payment of {invoice.number}",
        f"Refund of {invoice.number}",
    ]
    april = commissions.commission_statement(
        workspace=owner_a.workspace, plan=revenue, user=owner_a.user, on=dt.date(2026, 4, 1)
    )
    assert april.commission == 0


def test_won_deals_earn_commission_in_the_month_they_close_with_tiers(owner_a, plan):
    from clientela.sales.models import Stage

    won_plan = plan(source="won_deals", basis="revenue")
    big = make_deal(owner_a.workspace, owner=owner_a.user)
    small = make_deal(owner_a.workspace, owner=owner_a.user)
    for deal, amount in ((big, "45000"), (small, "15000")):
        won = Stage.objects.create(
            workspace=owner_a.workspace, pipeline=deal.pipeline, name="Won", kind="won"
        )
        deal.stage, deal.amount = won, D(amount)
        deal.closed_at = timezone.make_aware(dt.datetime(2026, 5, 12, 10))
        deal.save()
    statement = commissions.commission_statement(
        workspace=owner_a.workspace, plan=won_plan, user=owner_a.user, on=dt.date(2026, 5, 1)
    )
    # 3 % of 50 000 + 5 % of 10 000
    assert (statement.revenue, statement.commission) == (D("60000.00"), D("2000.00"))

    margin_plan = plan(source="won_deals", basis="margin", tiers=(("0", "10"),))
    DealLine.objects.create(
        workspace=owner_a.workspace,
        deal=small,
        description="Kit",
        quantity=D(10),
        unit_price=D(1500),
        unit_cost=D(1000),
    )
    statement = commissions.commission_statement(
        workspace=owner_a.workspace, plan=margin_plan, user=owner_a.user, on=dt.date(2026, 5, 1)
    )
    assert statement.margin == D("45000.00") + D("5000.00") and statement.commission == D("5000.00")


def test_the_calculator_estimates_the_added_commission(owner_a, plan, quote):
    from clientela.billing import selectors

    plan(tiers=(("0", "3"), ("300", "5")))
    given = quote()  # 450 net, cost 270
    calculation = selectors.calculation_for_document(workspace=owner_a.workspace, document=given)
    # 3 % of 300 + 5 % of 150 = 9 + 7.50
    assert calculation.commission == D("16.50")
    assert calculation.margin == D("450.00") - D("270.00") - D("16.50")
    assert calculation.margin_percent == D("36.3")


def test_a_plan_needs_tiers_and_members_of_the_workspace(owner_a, owner_b):
    with pytest.raises(ValidationFailed) as exc:
        commissions.commission_plan_create(
            workspace=owner_a.workspace,
            actor=None,
            name="Bad",
            basis="revenue",
            source="paid_invoices",
            period="week",
            tiers=[("0", "120")],
            member_ids=[owner_b.user_id],
        )
    assert set(exc.value.fields) == {"period", "tiers.0", "members"}
