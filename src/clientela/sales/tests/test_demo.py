"""Demo deals: every stage filled, histories that end where the deal is, and idempotent."""

from django.db.models import Count

from clientela.contacts.demo import demo_customers
from clientela.sales import selectors
from clientela.sales.demo import demo_deals
from clientela.sales.models import Conversion, Deal, DealStageChange
from clientela.sales.selectors import DealQuery


def test_demo_deals_fill_every_stage_with_consistent_history(owner_a, ws, client_for):
    demo_customers(workspace=ws, owners=[owner_a.user], people=60, seed=3)
    assert demo_deals(workspace=ws, owners=[owner_a.user], count=120, seed=5) == 120
    assert demo_deals(workspace=ws, owners=[owner_a.user], count=120, seed=5) == 0
    per_stage = dict(Deal.objects.values_list("stage__name").annotate(n=Count("id")))
    assert set(per_stage) == {"Qualified", "Contact made", "Proposal sent", "Negotiation", "Won", "Lost"}
    for deal in Deal.objects.select_related("stage", "person"):
        history = selectors.deal_stage_history(workspace=ws, deal=deal)
        assert history[-1].stage == deal.stage and history[-1].entered_at == deal.stage_entered_at
        assert deal.created_at == history[0].entered_at
        assert (deal.stage.kind == "lost") == bool(deal.lost_reason)
        if deal.stage.kind == "won" and deal.person:
            assert deal.person.lifecycle_stage == "customer"
    assert Conversion.objects.count() == Deal.objects.filter(stage__kind="won", person__isnull=False).count()
    assert DealStageChange.objects.count() > 120
    board = selectors.board(
        workspace=ws,
        viewer=owner_a,
        pipeline=selectors.pipeline_get(workspace=ws, pipeline_id=None),
        query=DealQuery(),
    )
    recent = Deal.objects.filter(stage__kind="open") | Deal.objects.filter(
        stage__kind="won", closed_at__gte=selectors.closed_since()
    )
    assert board.summary.count == recent.count() < 120  # the won column: the last 30 days
    assert client_for(owner_a).get("/deals/").status_code == 200
