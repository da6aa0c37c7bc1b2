"""Commissions: plans, statements per person and period, and the calculator's estimate.

A plan pays a percentage of revenue or of margin, in marginal tiers ("3 % up to 50,000, 5 % above"),
per month or quarter, counted on won deals or on paid invoices. A statement is computed from the data
(deals, invoices, payments) whenever it is read, and saved again when a payment or refund arrives, so
the saved statement follows the money. Amounts are in the workspace currency.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from clientela.billing.models import (
    CommissionBasis,
    CommissionPeriod,
    CommissionPlan,
    CommissionPlanMember,
    CommissionSource,
    CommissionStatement,
    CommissionTier,
    DealLine,
    DocumentKind,
    Payment,
    PaymentKind,
)
from clientela.billing.pricing import exchange_rate_on
from clientela.core import money
from clientela.core.audit import audit_record
from clientela.core.errors import ValidationFailed
from clientela.workspaces.models import Membership, User, Workspace

ZERO = Decimal(0)


# --- periods --------------------------------------------------------------------------------------


def period_bounds(period: str, on: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of the month or quarter containing ``on``."""
    first_month = on.month if period == CommissionPeriod.MONTH else 3 * ((on.month - 1) // 3) + 1
    start = dt.date(on.year, first_month, 1)
    months = 1 if period == CommissionPeriod.MONTH else 3
    year, month = divmod(first_month - 1 + months, 12)
    return start, dt.date(on.year + year, month + 1, 1) - dt.timedelta(days=1)


def parse_period(text: str) -> dt.date:
    """A day inside the period named "2026-03" (a month) or "2026-Q1" (a quarter); today when empty."""
    text = (text or "").strip().upper()
    if not text:
        return timezone.localdate()
    if match := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12:
            return dt.date(year, month, 1)
    if match := re.fullmatch(r"(\d{4})-Q([1-4])", text):
        return dt.date(int(match[1]), 3 * int(match[2]) - 2, 1)
    raise ValidationFailed(
        _("Name a period as YYYY-MM or YYYY-Qn."), fields={"period": [_("Invalid period.")]}
    )


# --- plans ----------------------------------------------------------------------------------------


@transaction.atomic
def commission_plan_create(
    *,
    workspace: Workspace,
    actor: User | None,
    name: str,
    basis: str,
    source: str,
    period: str,
    tiers: Sequence[tuple[Any, Any]],
    member_ids: Sequence[int],
) -> CommissionPlan:
    """A plan for one salesperson or a team; tiers are (from amount, percent), the first from 0."""
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("Required.")]
    elif CommissionPlan.objects.filter(workspace=workspace, name=name.strip()).exists():
        errors["name"] = [_("Another plan has this name.")]
    for value, choices, key in (
        (basis, CommissionBasis, "basis"),
        (source, CommissionSource, "source"),
        (period, CommissionPeriod, "period"),
    ):
        if value not in choices.values:
            errors[key] = [_("Unknown value.")]
    clean_tiers: list[tuple[Decimal, Decimal]] = []
    for i, (threshold, rate) in enumerate(tiers):
        try:
            start, percent = money.to_decimal(threshold), money.to_decimal(rate)
        except money.MoneyError:
            errors[f"tiers.{i}"] = [_("Enter an amount and a percentage.")]
            continue
        if start < 0 or not ZERO <= percent <= 100:
            errors[f"tiers.{i}"] = [_("Amounts start at 0; a rate is between 0 and 100 %.")]
        clean_tiers.append((start, percent))
    if not clean_tiers:
        errors["tiers"] = [_("Add at least one tier.")]
    elif len({t for t, _r in clean_tiers}) != len(clean_tiers):
        errors["tiers"] = [_("Two tiers start at the same amount.")]
    members = list(
        Membership.objects.filter(workspace=workspace, user_id__in=list(member_ids)).select_related("user")
    )
    if len(members) != len(set(member_ids)):
        errors["members"] = [_("Every member must belong to this workspace.")]
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    plan = CommissionPlan.objects.create(
        workspace=workspace, name=name.strip(), basis=basis, source=source, period=period
    )
    CommissionTier.objects.bulk_create(
        [CommissionTier(workspace=workspace, plan=plan, threshold=t, rate=r) for t, r in clean_tiers]
    )
    CommissionPlanMember.objects.bulk_create(
        [CommissionPlanMember(workspace=workspace, plan=plan, user=m.user) for m in members]
    )
    audit_record(
        workspace=workspace, actor=actor, action="commission_plan.created", target=plan, summary=plan.name
    )
    return plan


def commission_plan_list(*, workspace: Workspace, user: User | None = None) -> QuerySet[CommissionPlan]:
    """Active plans (of one member when ``user`` is given), with their tiers and members."""
    plans = CommissionPlan.objects.filter(workspace=workspace, active=True)
    if user is not None:
        plans = plans.filter(commissionplanmember__user=user)
    return plans.prefetch_related("tiers", "members").order_by("name").distinct()


def commission_for_base(plan: CommissionPlan, base: Decimal, currency: str) -> Decimal:
    """The plan's commission on a commissionable amount (marginal tiers, rounded once)."""
    return money.tiered_amount(base, [(t.threshold, t.rate) for t in plan.tiers.all()], currency)


# --- statements -----------------------------------------------------------------------------------


@dataclass
class StatementLine:
    date: dt.date
    label: str
    revenue: Decimal
    margin: Decimal


@dataclass
class Statement:
    plan: CommissionPlan
    user: User
    period_start: dt.date
    period_end: dt.date
    currency: str
    lines: list[StatementLine] = field(default_factory=list)
    commission: Decimal = ZERO

    @property
    def revenue(self) -> Decimal:
        return sum((line.revenue for line in self.lines), ZERO)

    @property
    def margin(self) -> Decimal:
        return sum((line.margin for line in self.lines), ZERO)

    @property
    def base(self) -> Decimal:
        return self.margin if self.plan.basis == CommissionBasis.MARGIN else self.revenue


def commission_statement(*, workspace: Workspace, plan: CommissionPlan, user: User, on: dt.date) -> Statement:
    """A person's statement under ``plan`` for the period containing ``on``, computed from the data:
    payments minus refunds of their invoices (net of VAT, without the part kept as credit), or their
    deals won, in that period."""
    start, end = period_bounds(plan.period, on)
    currency = workspace.default_currency.upper()
    statement = Statement(plan=plan, user=user, period_start=start, period_end=end, currency=currency)
    if plan.source == CommissionSource.PAID_INVOICES:
        statement.lines = _paid_invoice_lines(workspace, user, start, end, currency)
    else:
        statement.lines = _won_deal_lines(workspace, user, start, end, currency)
    statement.commission = commission_for_base(plan, statement.base, currency)
    return statement


def commission_statements(*, workspace: Workspace, user: User, on: dt.date) -> list[Statement]:
    """Every plan's statement of a person for the period containing ``on``."""
    return [
        commission_statement(workspace=workspace, plan=plan, user=user, on=on)
        for plan in commission_plan_list(workspace=workspace, user=user)
    ]


@transaction.atomic
def commission_statement_refresh(
    *, workspace: Workspace, plan: CommissionPlan, user: User, on: dt.date
) -> CommissionStatement:
    """Recompute and save a statement (the record of what a person was owed, as of now)."""
    statement = commission_statement(workspace=workspace, plan=plan, user=user, on=on)
    saved, _created = CommissionStatement.objects.update_or_create(
        workspace=workspace,
        plan=plan,
        user=user,
        period_start=statement.period_start,
        defaults={
            "period_end": statement.period_end,
            "currency": statement.currency,
            "revenue": statement.revenue,
            "margin": statement.margin,
            "base": statement.base,
            "commission": statement.commission,
            "lines": [
                {
                    "date": line.date.isoformat(),
                    "label": line.label,
                    "revenue": str(line.revenue),
                    "margin": str(line.margin),
                }
                for line in statement.lines
            ],
            "computed_at": timezone.now(),
        },
    )
    return saved


def commission_statements_refresh_for_payment(*, payment: Payment) -> list[CommissionStatement]:
    """After a payment or refund: recompute the invoice salesperson's paid-invoice statements."""
    invoice = payment.invoice
    if invoice.owner is None:
        return []
    plans = commission_plan_list(workspace=invoice.workspace, user=invoice.owner).filter(
        source=CommissionSource.PAID_INVOICES
    )
    return [
        commission_statement_refresh(
            workspace=invoice.workspace, plan=plan, user=invoice.owner, on=payment.paid_on
        )
        for plan in plans
    ]


def commission_estimate(
    *, workspace: Workspace, user: User | None, net: Decimal, cost: Decimal, on: dt.date
) -> tuple[Decimal, str]:
    """What selling ``net`` (at ``cost``) would add to the person's commission this period, under their
    first plan: the commission with it minus the commission without it. (0, "") without a plan."""
    if user is None:
        return ZERO, ""
    plan = commission_plan_list(workspace=workspace, user=user).first()
    if plan is None:
        return ZERO, ""
    statement = commission_statement(workspace=workspace, plan=plan, user=user, on=on)
    added = net - cost if plan.basis == CommissionBasis.MARGIN else net
    with_it = commission_for_base(plan, statement.base + added, statement.currency)
    return with_it - statement.commission, plan.name


def _paid_invoice_lines(
    workspace: Workspace, user: User, start: dt.date, end: dt.date, currency: str
) -> list[StatementLine]:
    payments = (
        Payment.objects.filter(
            workspace=workspace,
            invoice__owner=user,
            invoice__kind=DocumentKind.INVOICE,
            paid_on__gte=start,
            paid_on__lte=end,
        )
        .select_related("invoice")
        .order_by("paid_on", "id")
    )
    lines = []
    for payment in payments:
        invoice = payment.invoice
        if not invoice.gross:
            continue
        sign = 1 if payment.kind == PaymentKind.PAYMENT else -1
        received = (payment.amount - payment.credit) * sign
        net = received * invoice.net / invoice.gross
        cost = net * invoice.cost / invoice.net if invoice.net else ZERO
        revenue = money.convert(net, invoice.exchange_rate, currency)
        label = (
            _("Payment of %(number)s") if payment.kind == PaymentKind.PAYMENT else _("Refund of %(number)s")
        ) % {"number": invoice.number}
        lines.append(
            StatementLine(
                payment.paid_on,
                label,
                revenue,
                revenue - money.convert(cost, invoice.exchange_rate, currency),
            )
        )
    return lines


def _won_deal_lines(
    workspace: Workspace, user: User, start: dt.date, end: dt.date, currency: str
) -> list[StatementLine]:
    from clientela.sales.models import Deal, StageKind

    deals = Deal.objects.filter(
        workspace=workspace,
        owner=user,
        stage__kind=StageKind.WON,
        closed_at__date__gte=start,
        closed_at__date__lte=end,
    ).order_by("closed_at", "id")
    lines = []
    for deal in deals:
        assert deal.closed_at is not None
        day = timezone.localtime(deal.closed_at).date()
        rate = exchange_rate_on(workspace, deal.currency, day) or Decimal(1)
        items = list(DealLine.objects.filter(deal=deal))
        if items:
            net = ZERO
            cost = ZERO
            for item in items:
                net += item.quantity * item.unit_price * (1 - item.discount_percent / 100)
                cost += item.quantity * item.unit_cost
        else:
            net, cost = deal.amount, ZERO  # no lines: the amount is the revenue, with no known cost
        revenue = money.convert(net, rate, currency)
        lines.append(StatementLine(day, deal.title, revenue, revenue - money.convert(cost, rate, currency)))
    return lines
