"""The board, lists, timeline and forecast: right numbers, right scope, and a fixed cost in queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clientela.core.tenancy import workspace_scope
from clientela.sales import selectors, services
from clientela.sales.models import Deal, Stage
from clientela.sales.selectors import DealQuery, Money
from clientela.timeline.services import interaction_record
from clientela.workspaces.roles import Role


def column(board, name):
    return next(c for c in board.columns if c.stage.name == name)


def build_board(member, pipeline, **params):
    return selectors.board(
        workspace=member.workspace, viewer=member, pipeline=pipeline, query=DealQuery.parse(params)
    )


def test_board_columns_carry_count_amount_and_weighted_amount(owner_a, pipeline, stage, make_deal):
    make_deal("A", amount="1000")
    make_deal("B", amount="250.50")
    proposal = make_deal("C", amount="4000", stage=stage["Proposal sent"])
    make_deal("D", amount="100", currency="HUF", stage=stage["Proposal sent"])
    lost = make_deal("E", amount="9999")
    services.deal_move_stage(
        workspace=owner_a.workspace,
        actor=owner_a.user,
        deal=lost,
        stage=stage["Lost"],
        expected_version=lost.version,
        lost_reason="Price",
    )
    board = build_board(owner_a, pipeline)
    assert [c.stage.name for c in board.columns] == [
        "Qualified",
        "Contact made",
        "Proposal sent",
        "Negotiation",
        "Won",
        "Lost",
    ]
    qualified = column(board, "Qualified")
    assert qualified.count == 2 and [d.title for d in qualified.cards] == ["B", "A"]
    assert qualified.amounts == [Money(Decimal("1250.50"), "EUR")]
    assert qualified.weighted == [Money(Decimal("125.05"), "EUR")]  # 10 %
    sent = column(board, "Proposal sent")
    assert sent.amounts == [Money(Decimal("4000.00"), "EUR"), Money(Decimal("100.00"), "HUF")]
    assert sent.weighted == [Money(Decimal("2000.00"), "EUR"), Money(Decimal("50.00"), "HUF")]
    assert column(board, "Won").count == 0 and column(board, "Won").amounts == []
    assert column(board, "Lost").amounts == [Money(Decimal("9999.00"), "EUR")]
    assert board.summary.count == 4  # open and won: what the pipeline is worth, the lost aside
    assert board.summary.amounts == [Money(Decimal("5250.50"), "EUR"), Money(Decimal("100.00"), "HUF")]
    assert board.summary.weighted == [Money(Decimal("2125.05"), "EUR"), Money(Decimal("50.00"), "HUF")]
    assert proposal in sent.cards


def test_the_board_costs_the_same_queries_with_5_or_120_deals(
    owner_a, pipeline, stage, make_deal, make_person
):
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            board = build_board(owner_a, pipeline)
            for col in board.columns:
                for deal in col.cards:
                    str(deal.person), str(deal.company), str(deal.owner)
        return len(ctx.captured_queries), board

    person = make_person()
    for i in range(5):
        make_deal(f"small {i}", person=person, stage=stage["Negotiation" if i % 2 else "Qualified"])
    small, _ = queries()
    for i in range(115):
        make_deal(f"big {i}", person=person, stage=stage["Negotiation" if i % 2 else "Qualified"])
    big, board = queries()
    assert small == big == 5  # stages, open and closed totals, the cards of the two columns with deals
    qualified = column(board, "Qualified")
    assert len(qualified.cards) == 20 and qualified.count == 61 and qualified.next_cursor


def test_more_walks_a_column_page_by_page_in_board_order(owner_a, pipeline, stage, make_deal):
    for i in range(45):
        make_deal(f"D{i:02}")
    board = build_board(owner_a, pipeline)
    seen = [d.title for d in column(board, "Qualified").cards]
    cursor = column(board, "Qualified").next_cursor
    while cursor:
        page = selectors.column_page(
            workspace=owner_a.workspace,
            viewer=owner_a,
            stage=stage["Qualified"],
            query=DealQuery(),
            cursor=cursor,
        )
        seen += [d.title for d in page.cards]
        cursor = page.next_cursor
    assert seen == [f"D{i:02}" for i in reversed(range(45))]


def test_won_and_lost_columns_show_the_last_30_days_latest_first(
    owner_a, pipeline, stage, make_deal, make_person
):
    won, person = stage["Won"], make_person()
    old = make_deal("Closed long ago", stage=won, person=person)
    Deal.objects.filter(pk=old.pk).update(
        closed_at=old.closed_at - dt.timedelta(days=selectors.CLOSED_DAYS + 1)
    )
    for i in range(25):
        deal = make_deal(f"W{i:02}", stage=won, person=person)
        Deal.objects.filter(pk=deal.pk).update(closed_at=deal.closed_at - dt.timedelta(hours=25 - i))
    make_deal("Open", amount="5")
    board = build_board(owner_a, pipeline)
    won_column = column(board, "Won")
    assert won_column.count == 25 and won_column.amounts == [Money(Decimal("25000.00"), "EUR")]
    assert [d.title for d in won_column.cards][:3] == ["W24", "W23", "W22"]
    page = selectors.column_page(
        workspace=owner_a.workspace,
        viewer=owner_a,
        stage=won,
        query=DealQuery(),
        cursor=won_column.next_cursor,
    )
    assert [d.title for d in page.cards] == ["W04", "W03", "W02", "W01", "W00"] and page.next_cursor is None
    assert board.summary.count == 26  # the old one is in the list view, not on the board
    listed = selectors.deal_list(
        workspace=owner_a.workspace, viewer=owner_a, query=DealQuery.parse({"status": "won"})
    )
    assert "Closed long ago" in [d.title for d in listed.items]


def test_a_salesperson_sees_only_their_own_deals(owner_a, member_factory, pipeline, make_deal):
    seller = member_factory(owner_a.workspace, Role.SALES)
    manager = member_factory(owner_a.workspace, Role.MANAGER)
    make_deal("Mine", actor=seller.user, amount="10")
    make_deal("Theirs", amount="20")
    assert column(build_board(seller, pipeline), "Qualified").amounts == [Money(Decimal("10.00"), "EUR")]
    assert [d.title for d in column(build_board(seller, pipeline), "Qualified").cards] == ["Mine"]
    assert column(build_board(manager, pipeline), "Qualified").count == 2
    page = selectors.deal_list(workspace=owner_a.workspace, viewer=seller, query=DealQuery())
    assert [d.title for d in page.items] == ["Mine"]
    theirs = Deal.objects.get(title="Theirs")
    with pytest.raises(Deal.DoesNotExist):
        selectors.deal_get(workspace=owner_a.workspace, viewer=seller, deal_id=theirs.pk)


def test_filters_by_owner_close_date_and_customer_tag(
    owner_a, member_factory, pipeline, make_deal, make_person, make_company
):
    seller = member_factory(owner_a.workspace, Role.SALES)
    vip = make_person("Vera", "Vip", tags=["VIP"])
    fair = make_company("Fair Srl", tags=["Trade fair 2026"])
    make_deal("Vip deal", person=vip, expected_close="2027-01-10")
    make_deal("Fair deal", company=fair, expected_close="2027-02-20", owner=seller.user.pk)
    make_deal("Plain deal")

    def titles(**params):
        board = build_board(owner_a, pipeline, **params)
        return sorted(d.title for c in board.columns for d in c.cards)

    assert titles(tag="vip") == ["Vip deal"]
    assert titles(tag="Trade fair 2026") == ["Fair deal"]
    assert titles(owner=str(seller.user.pk)) == ["Fair deal"]
    assert titles(owner="me") == ["Plain deal", "Vip deal"]
    assert titles(close_from="2027-02-01") == ["Fair deal"]
    assert titles(close_to="2027-01-31") == ["Vip deal"]
    assert titles(q="plain") == ["Plain deal"]
    from clientela.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        DealQuery.parse({"close_from": "soon", "owner": "boss", "status": "maybe", "sort": "luck"})
    assert set(exc.value.fields) == {"close_from", "owner", "status", "sort"}


def test_the_list_pages_by_amount_and_filters_by_status(owner_a, stage, make_deal, make_person):
    for i in range(7):
        make_deal(f"N{i}", amount=str(100 * (i % 3)))
    move_to_lost = Deal.objects.get(title="N0")
    services.deal_move_stage(
        workspace=owner_a.workspace,
        actor=None,
        deal=move_to_lost,
        stage=stage["Lost"],
        expected_version=1,
        lost_reason="No budget",
    )
    seen, cursor = [], ""
    while True:
        page = selectors.deal_list(
            workspace=owner_a.workspace,
            viewer=owner_a,
            query=DealQuery(sort="-amount", page_size=3, cursor=cursor),
        )
        seen += [(d.amount, d.pk) for d in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == sorted(seen, key=lambda x: (-x[0], -x[1])) and len(seen) == 7
    lost = selectors.deal_list(workspace=owner_a.workspace, viewer=owner_a, query=DealQuery(status="lost"))
    assert [d.title for d in lost.items] == ["N0"]


def test_the_deal_timeline_has_the_deal_and_the_person(owner_a, make_deal, make_person, stage):
    person = make_person()
    other = make_person("Other", "Person")
    interaction_record(workspace=owner_a.workspace, kind="call", person=person, subject="Asked for a quote")
    interaction_record(workspace=owner_a.workspace, kind="call", person=other, subject="Not this one")
    deal = make_deal("Quote", person=person)
    page = selectors.deal_timeline(workspace=owner_a.workspace, deal=deal)
    assert [i.subject for i in page.items] == ["Deal “Quote” created in Qualified", "Asked for a quote"]


def test_the_card_panel_lists_open_deals_the_member_may_see(
    owner_a, member_factory, make_deal, make_person, stage
):
    seller = member_factory(owner_a.workspace, Role.SALES)
    person = make_person()
    make_deal("Open", person=person, actor=seller.user)
    make_deal("Someone else's", person=person)
    won = make_deal("Done", person=person, actor=seller.user, amount="5")
    services.deal_move_stage(
        workspace=owner_a.workspace, actor=None, deal=won, stage=stage["Won"], expected_version=1
    )
    assert [
        d.title
        for d in selectors.deals_for_customer(workspace=owner_a.workspace, viewer=seller, record=person)
    ] == ["Open"]


# --- forecast -------------------------------------------------------------------------------------


@pytest.fixture
def forecast_deals(owner_a, member_factory, pipeline, stage, make_deal, make_person):
    """Six open deals over two owners, two pipelines and two currencies, plus one won, one overdue,
    one undated: the numbers below are computed by hand."""
    with workspace_scope(owner_a.workspace):
        seller = member_factory(owner_a.workspace, Role.SALES, email="sam@alpha.test")
        seller.user.full_name = "Sam Seller"
        seller.user.save()
        owner_a.user.full_name = "Olga Owner"
        owner_a.user.save()
        renewals = services.pipeline_create(workspace=owner_a.workspace, actor=None, name="Renewals")
        renewal_stage = Stage.objects.get(pipeline=renewals, name="Negotiation")  # 75 %
        # January 2027
        make_deal("J1", amount="1000", stage=stage["Qualified"], expected_close="2027-01-05")  # 100.00
        make_deal(
            "J2", amount="2000", stage=stage["Proposal sent"], expected_close="2027-01-31", actor=seller.user
        )
        make_deal(
            "J3", amount="333.33", stage=renewal_stage, expected_close="2027-01-15"
        )  # 249.9975 -> 250.00
        # February 2027
        make_deal(
            "F1", amount="4000", stage=stage["Negotiation"], expected_close="2027-02-01", actor=seller.user
        )
        make_deal(
            "F2", amount="50000", currency="HUF", stage=stage["Contact made"], expected_close="2027-02-14"
        )
        # March: nothing. Outside the window or not open:
        make_deal("Later", amount="999", expected_close="2027-04-01")
        make_deal("Overdue", amount="300", stage=stage["Proposal sent"], expected_close="2026-12-31")
        make_deal("Undated", amount="700", stage=stage["Negotiation"])
        won = make_deal("Won", amount="5000", person=make_person(), expected_close="2027-01-20")
        services.deal_move_stage(
            workspace=owner_a.workspace, actor=None, deal=won, stage=stage["Won"], expected_version=1
        )
    return seller, renewals


def test_forecast_numbers_checked_by_hand(owner_a, forecast_deals, pipeline):
    result = selectors.forecast(
        workspace=owner_a.workspace, viewer=owner_a, query=DealQuery(), start=dt.date(2027, 1, 20), months=3
    )
    assert result.months == [dt.date(2027, 1, 1), dt.date(2027, 2, 1), dt.date(2027, 3, 1)]
    assert result.currencies == ["EUR", "HUF"]
    eur, huf = result.totals
    assert [(c.count, c.amount, c.weighted) for c in eur.cells] == [
        (3, Decimal("3333.33"), Decimal("1350.00")),  # 100 + 1000 (50 %) + 250.00 (75 % of 333.33)
        (1, Decimal("4000.00"), Decimal("3000.00")),  # 75 %
        (0, Decimal("0.00"), Decimal("0.00")),
    ]
    assert (eur.total.count, eur.total.amount, eur.total.weighted) == (
        4,
        Decimal("7333.33"),
        Decimal("4350.00"),
    )
    assert [(c.amount, c.weighted) for c in huf.cells][:2] == [
        (Decimal("0.00"), Decimal("0.00")),
        (Decimal("50000.00"), Decimal("10000.00")),  # 20 %
    ]
    owners = {(r.label, r.currency): [c.weighted for c in r.cells] for r in result.by_owner}
    assert owners == {
        ("Sam Seller", "EUR"): [Decimal("1000.00"), Decimal("3000.00"), Decimal("0.00")],
        ("Olga Owner", "EUR"): [Decimal("350.00"), Decimal("0.00"), Decimal("0.00")],
        ("Olga Owner", "HUF"): [Decimal("0.00"), Decimal("10000.00"), Decimal("0.00")],
    }
    pipelines = {(r.label, r.currency): r.total.weighted for r in result.by_pipeline}
    assert pipelines == {
        ("New business", "EUR"): Decimal("4100.00"),
        ("Renewals", "EUR"): Decimal("250.00"),
        ("New business", "HUF"): Decimal("10000.00"),
    }
    assert (result.overdue["EUR"].count, result.overdue["EUR"].weighted) == (1, Decimal("150.00"))
    assert (result.undated["EUR"].count, result.undated["EUR"].amount) == (1, Decimal("700.00"))


def test_forecast_follows_scope_and_filters(owner_a, forecast_deals, pipeline):
    seller, renewals = forecast_deals
    mine = selectors.forecast(
        workspace=owner_a.workspace, viewer=seller, query=DealQuery(), start=dt.date(2027, 1, 1), months=2
    )
    assert [(r.label, r.total.weighted) for r in mine.by_owner] == [("Sam Seller", Decimal("4000.00"))]
    only_renewals = selectors.forecast(
        workspace=owner_a.workspace,
        viewer=owner_a,
        query=DealQuery(pipeline=renewals.pk),
        start=dt.date(2027, 1, 1),
        months=2,
    )
    assert [r.total.weighted for r in only_renewals.totals] == [Decimal("250.00")]


def test_forecast_costs_a_fixed_number_of_queries(owner_a, forecast_deals, make_deal, stage):
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            selectors.forecast(
                workspace=owner_a.workspace,
                viewer=owner_a,
                query=DealQuery(),
                start=dt.date(2027, 1, 1),
                months=6,
            )
        return len(ctx.captured_queries)

    before = queries()
    with workspace_scope(owner_a.workspace):
        for i in range(40):
            make_deal(f"more {i}", amount="10", expected_close=f"2027-0{1 + i % 6}-1{i % 9}")
    assert queries() == before <= 4
