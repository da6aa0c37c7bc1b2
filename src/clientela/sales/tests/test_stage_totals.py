"""The board's stage totals kept by database triggers: whatever writes the deals (services, a queryset
update or delete, a user removed), the counters equal an aggregate over the deals, on SQLite and on
PostgreSQL, and the board reads the same numbers from them as from the deals."""

from decimal import Decimal

import pytest
from django.db.models import Count, Sum
from django.db.models.functions import Coalesce

from clientela.core.tenancy import workspace_scope
from clientela.sales import selectors, services
from clientela.sales.models import Deal, StageTotal
from clientela.sales.selectors import DealQuery
from clientela.workspaces.roles import Role

pytestmark = pytest.mark.django_db(transaction=True)  # the triggers run where the application's SQL runs


def counters(workspace):
    return {
        (t.stage_id, t.owner_key, t.currency): (t.count, Decimal(t.amount_cents).scaleb(-2))
        for t in StageTotal.all_workspaces.filter(workspace=workspace)
        if t.count
    }


def aggregate(workspace):
    rows = (
        Deal.all_workspaces.filter(workspace=workspace)
        .values("stage_id", "currency", owner_key=Coalesce("owner_id", 0))
        .annotate(count=Count("*"), amount=Sum("amount"))
        .order_by()
    )
    return {
        (r["stage_id"], r["owner_key"], r["currency"]): (
            r["count"],
            Decimal(r["amount"]).quantize(Decimal("0.01")),
        )
        for r in rows
    }


def test_every_kind_of_write_keeps_the_counters_equal_to_the_deals(
    owner_a, owner_b, member_factory, stage, make_deal, make_person
):
    ws = owner_a.workspace
    seller = member_factory(ws, Role.SALES)
    person = make_person()
    a = make_deal("A", amount="1000.10")
    b = make_deal("B", amount="0.29", actor=seller.user, currency="HUF")
    c = make_deal("C", amount="250", stage=stage["Negotiation"])
    make_deal("Other workspace", amount="7", workspace=owner_b.workspace, actor=owner_b.user)
    assert counters(ws) == aggregate(ws) and len(counters(ws)) == 3
    with workspace_scope(ws):
        a = services.deal_move_stage(
            workspace=ws, actor=owner_a.user, deal=a, stage=stage["Contact made"], expected_version=a.version
        )
        a = services.deal_move_stage(  # within the column: no change of totals
            workspace=ws, actor=owner_a.user, deal=a, stage=a.stage, position=0, expected_version=a.version
        )
        b = services.deal_update(
            workspace=ws,
            actor=owner_a.user,
            deal=b,
            attributes={"amount": "99.99", "currency": "EUR", "owner": owner_a.user_id},
            expected_version=b.version,
        )
        c = services.deal_update(
            workspace=ws,
            actor=owner_a.user,
            deal=c,
            attributes={"person": person.pk},
            expected_version=c.version,
        )
        c = services.deal_move_stage(
            workspace=ws, actor=owner_a.user, deal=c, stage=stage["Won"], expected_version=c.version
        )
        c.save()  # a full save writes every column: the totals stay as they are
        Deal.objects.filter(pk=c.pk).update(amount=Decimal("300.45"))
        assert counters(ws) == aggregate(ws)
        Deal.objects.filter(pk=a.pk).delete()
    seller.user.delete()  # owner -> NULL by the foreign key, "no owner" in the totals
    assert counters(ws) == aggregate(ws)
    assert counters(owner_b.workspace) == aggregate(owner_b.workspace)


def test_rebuild_gives_what_the_triggers_keep(owner_a, stage, make_deal):
    ws = owner_a.workspace
    for i in range(7):
        make_deal(f"D{i}", amount=f"{i}.3{i}", stage=stage["Qualified" if i % 2 else "Proposal sent"])
    kept = counters(ws)
    StageTotal.all_workspaces.filter(workspace=ws).update(count=0, amount_cents=0)
    with workspace_scope(ws):
        assert services.stage_totals_rebuild(workspace=ws) == 2
    assert counters(ws) == kept == aggregate(ws)


def test_the_board_reads_the_same_totals_from_the_counters_as_from_the_deals(
    owner_a, member_factory, pipeline, stage, make_deal
):
    ws = owner_a.workspace
    seller = member_factory(ws, Role.SALES)
    for i in range(6):
        make_deal(
            f"D{i}",
            amount=f"{100 + i}.25",
            currency="EUR" if i % 3 else "USD",
            actor=seller.user if i % 2 else owner_a.user,
            stage=stage["Qualified" if i < 4 else "Negotiation"],
        )
    with workspace_scope(ws):
        for viewer, params in [
            (owner_a, {}),
            (owner_a, {"owner": "me"}),
            (seller, {}),
            (owner_a, {"owner": "none"}),
        ]:
            query = DealQuery.parse(params)
            stages = list(selectors.stage_list(pipeline=pipeline))
            open_ids = [s.pk for s in stages if s.kind == "open"]
            counted = selectors._counted_totals(ws, viewer, query, open_ids)
            deals = selectors._board_deals(ws, viewer, query).filter(stage__in=open_ids)
            assert counted is not None
            assert sorted((r["stage_id"], r["currency"], r["count"], r["amount"]) for r in counted) == sorted(
                (r["stage_id"], r["currency"], r["count"], r["amount"]) for r in selectors._aggregate(deals)
            )
        assert selectors._counted_totals(ws, owner_a, DealQuery.parse({"tag": "vip"}), open_ids) is None
