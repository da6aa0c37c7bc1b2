"""The sales process rules: pipelines, moves and their refusals, optimistic locking, conversions,
time in stage (given/when/then)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from clientela.contacts.models import Company, Person
from clientela.core.errors import Conflict, ValidationFailed
from clientela.sales import selectors, services
from clientela.sales.models import Conversion, Deal, DealStageChange, Pipeline, Stage
from clientela.timeline.models import Interaction


def move(deal, stage, *, actor=None, version=None, **kwargs):
    return services.deal_move_stage(
        workspace=deal.workspace,
        actor=actor,
        deal=deal,
        stage=stage,
        expected_version=deal.version if version is None else version,
        **kwargs,
    )


def fresh(deal):
    return Deal.objects.select_related("stage", "person", "company").get(pk=deal.pk)


# --- pipelines and stages -------------------------------------------------------------------------


def test_a_default_pipeline_with_sensible_stages_is_created_once(ws):
    first = services.pipeline_ensure_default(workspace=ws)
    again = services.pipeline_ensure_default(workspace=ws)
    assert first == again and first.is_default and first.name == "New business"
    stages = list(selectors.stage_list(pipeline=first))
    assert [(s.name, s.probability, s.kind) for s in stages] == [
        ("Qualified", Decimal("10.00"), "open"),
        ("Contact made", Decimal("20.00"), "open"),
        ("Proposal sent", Decimal("50.00"), "open"),
        ("Negotiation", Decimal("75.00"), "open"),
        ("Won", Decimal("100.00"), "won"),
        ("Lost", Decimal("0.00"), "lost"),
    ]
    assert Pipeline.objects.count() == 1


def test_pipelines_need_a_unique_name_and_open_won_lost_stages(ws, owner_a, pipeline):
    renewals = services.pipeline_create(workspace=ws, actor=owner_a.user, name="Renewals")
    assert renewals.stages.count() == 6 and not renewals.is_default
    with pytest.raises(ValidationFailed) as exc:
        services.pipeline_create(workspace=ws, actor=None, name="renewals")
    assert "name" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        services.pipeline_create(
            workspace=ws, actor=None, name="Odd", stages=[services.StageInput("Only", 10, "open")]
        )
    assert "stages" in exc.value.fields
    services.pipeline_update(pipeline=renewals, actor=None, name="Renewals 2027", is_default=True)
    pipeline.refresh_from_db()
    assert not pipeline.is_default and services.pipeline_ensure_default(workspace=ws) == renewals


def test_admins_add_rename_reorder_and_retire_stages(ws, owner_a, pipeline, stage):
    demo = services.stage_add(pipeline=pipeline, actor=owner_a.user, name="Demo", probability="35,5")
    names = [s.name for s in selectors.stage_list(pipeline=pipeline)]
    assert names == ["Qualified", "Contact made", "Proposal sent", "Negotiation", "Demo", "Won", "Lost"]
    assert demo.probability == Decimal("35.50")

    services.stage_update(stage=demo, actor=None, name="Live demo", probability=40)
    ids = [s.pk for s in selectors.stage_list(pipeline=pipeline)]
    reordered = [ids[4], *ids[:4], *ids[5:]]
    services.stage_reorder(pipeline=pipeline, actor=None, stage_ids=reordered)
    assert [s.name for s in selectors.stage_list(pipeline=pipeline)][:2] == ["Live demo", "Qualified"]
    with pytest.raises(ValidationFailed):
        services.stage_reorder(pipeline=pipeline, actor=None, stage_ids=ids[:3])

    with pytest.raises(ValidationFailed):
        services.stage_add(pipeline=pipeline, actor=None, name="Bad", probability=120)
    won_again = services.stage_add(pipeline=pipeline, actor=None, name="Signed", probability=30, kind="won")
    assert won_again.probability == Decimal(100)  # won is certain, whatever was typed


def test_retiring_a_stage_moves_its_deals_and_keeps_its_history(ws, owner_a, stage, make_deal, make_person):
    deal = make_deal("Boiler", person=make_person())
    deal = move(fresh(deal), stage["Contact made"])
    with pytest.raises(ValidationFailed) as exc:
        services.stage_retire(stage=stage["Contact made"], actor=owner_a.user)
    assert "move_to" in exc.value.fields
    with pytest.raises(ValidationFailed):  # a won stage cannot take open deals
        services.stage_retire(stage=stage["Contact made"], actor=None, move_to=stage["Won"])

    services.stage_retire(stage=stage["Contact made"], actor=owner_a.user, move_to=stage["Proposal sent"])
    deal = fresh(deal)
    assert deal.stage == stage["Proposal sent"] and deal.version == 3
    assert "Contact made" not in [s.name for s in selectors.stage_list(pipeline=deal.pipeline)]
    history = selectors.deal_stage_history(workspace=ws, deal=deal)
    assert [s.stage.name for s in history] == ["Qualified", "Contact made", "Proposal sent"]
    with pytest.raises(ValidationFailed) as exc:
        move(deal, Stage.objects.get(pk=stage["Contact made"].pk))
    assert "retired" in exc.value.message

    services.stage_restore(stage=Stage.objects.get(pk=stage["Contact made"].pk), actor=owner_a.user)
    names = [s.name for s in selectors.stage_list(pipeline=deal.pipeline)]
    assert names == ["Qualified", "Proposal sent", "Negotiation", "Contact made", "Won", "Lost"]  # last open
    assert fresh(deal).stage == stage["Proposal sent"]  # the deals moved out stay where they went
    assert move(fresh(deal), Stage.objects.get(pk=stage["Contact made"].pk)).stage.name == "Contact made"


def test_the_last_won_or_lost_stage_cannot_be_retired_nor_change_kind(stage):
    for name in ("Won", "Lost"):
        with pytest.raises(ValidationFailed):
            services.stage_retire(stage=stage[name], actor=None)
    with pytest.raises(ValidationFailed):
        services.stage_update(stage=stage["Won"], actor=None, kind="open")


# --- creating deals, qualifying leads -------------------------------------------------------------


def test_a_deal_for_a_lead_qualifies_it_with_a_conversion_and_a_timeline_entry(
    ws, owner_a, make_deal, make_person, stage
):
    lead = make_person("Ana", "Pop", source_channel="web form", source_campaign="spring-promo")
    deal = make_deal("Solar panels", person=lead, amount="12500.5", expected_close="2027-03-15")
    assert (deal.stage, deal.owner, deal.currency) == (stage["Qualified"], owner_a.user, "EUR")
    assert deal.amount == Decimal("12500.50") and deal.expected_close == dt.date(2027, 3, 15)
    assert Person.objects.get(pk=lead.pk).lifecycle_stage == "opportunity"
    conversion = Conversion.objects.get(person=lead)
    assert (conversion.from_stage, conversion.to_stage, conversion.deal) == ("lead", "opportunity", deal)
    assert (conversion.source_channel, conversion.source_campaign) == ("web form", "spring-promo")
    entry = Interaction.objects.get(person=lead)
    assert entry.kind == "system" and entry.subject == "Deal “Solar panels” created in Qualified"
    assert (entry.source_type, entry.source_id) == ("sales.deal", str(deal.pk))
    assert "Ana Pop became opportunity." in entry.body
    assert DealStageChange.objects.get(deal=deal).to_stage == stage["Qualified"]


def test_lead_qualify_opens_a_deal_named_after_the_lead_and_refuses_customers(ws, owner_a, make_person):
    lead = make_person("Zsófia", "Szabó")
    deal = services.lead_qualify(workspace=ws, actor=owner_a.user, record=lead, attributes={"amount": "900"})
    assert deal.title == "Zsófia Szabó" and deal.person == lead
    customer = make_person("Old", "Customer", lifecycle_stage="customer")
    with pytest.raises(ValidationFailed) as exc:
        services.lead_qualify(workspace=ws, actor=owner_a.user, record=customer)
    assert "create a deal instead" in exc.value.message


def test_deal_attributes_are_validated_all_at_once(ws, owner_a, owner_b, make_person, pipeline):
    stranger = make_person("Other", "Tenant", workspace=owner_b.workspace)
    with pytest.raises(ValidationFailed) as exc:
        services.deal_create(
            workspace=ws,
            actor=owner_a.user,
            attributes={
                "title": " ",
                "person": stranger.pk,
                "company": 999999,
                "amount": "-5",
                "currency": "EURO",
                "expected_close": "next week",
                "owner": owner_b.user.pk,
                "stage": 999999,
            },
        )
    assert set(exc.value.fields) == {
        "title",
        "person",
        "company",
        "amount",
        "currency",
        "expected_close",
        "owner",
        "stage",
    }
    assert not Deal.objects.exists()


# --- moving ---------------------------------------------------------------------------------------


def test_a_move_is_stored_with_time_and_author_and_written_to_the_timeline(
    ws, owner_a, make_deal, make_person, stage, at
):
    person = make_person()
    deal = make_deal("Roof", person=person)
    moment = timezone.now() + dt.timedelta(hours=3)
    with at(moment):
        deal = move(deal, stage["Proposal sent"], actor=owner_a.user)
    assert (deal.version, deal.stage_entered_at) == (2, moment)
    stored = fresh(deal)
    assert stored.stage == stage["Proposal sent"] and stored.version == 2 and stored.closed_at is None
    change = DealStageChange.objects.filter(deal=deal).latest("changed_at")
    assert (change.from_stage, change.to_stage, change.changed_by, change.changed_at) == (
        stage["Qualified"],
        stage["Proposal sent"],
        owner_a.user,
        moment,
    )
    entry = Interaction.objects.filter(person=person).latest("occurred_at")
    assert entry.subject == "Deal “Roof” moved to Proposal sent" and entry.actor == owner_a.user


@pytest.mark.parametrize(
    ("attributes", "target", "fields"),
    [
        ({"amount": "0"}, "Won", {"amount"}),
        ({"amount": "10", "person": None}, "Won", {"person"}),
        ({"amount": "0", "person": None}, "Won", {"amount", "person"}),
        ({}, "Lost", {"lost_reason"}),
    ],
)
def test_moves_that_break_the_stage_rules_are_refused_and_change_nothing(
    make_deal, make_person, stage, attributes, target, fields
):
    attributes = {"person": make_person(), **attributes}
    deal = make_deal("Kitchen", **attributes)
    with pytest.raises(ValidationFailed) as exc:
        move(fresh(deal), stage[target])
    assert set(exc.value.fields) == fields
    assert exc.value.message.startswith(f"“Kitchen” cannot move to {target}.")
    stored = fresh(deal)
    assert (stored.stage, stored.version) == (stage["Qualified"], 1)
    assert DealStageChange.objects.filter(deal=deal).count() == 1


def test_a_stage_of_another_pipeline_is_refused(ws, make_deal, stage):
    other = services.pipeline_create(workspace=ws, actor=None, name="Renewals")
    deal = make_deal("Maintenance")
    with pytest.raises(ValidationFailed) as exc:
        move(fresh(deal), other.stages.get(name="Won"))
    assert exc.value.fields == {"stage": ["Choose a stage of the deal's pipeline."]}


def test_lost_needs_a_reason_that_the_move_may_bring(make_deal, stage):
    deal = move(fresh(make_deal("Windows")), stage["Lost"], lost_reason="  Too expensive ")
    stored = fresh(deal)
    assert stored.lost_reason == "Too expensive" and stored.closed_at is not None
    reopened = move(stored, stage["Negotiation"])
    assert fresh(reopened).closed_at is None


def test_a_stale_version_is_a_conflict_and_the_first_writer_wins(ws, owner_a, make_deal, stage):
    deal = make_deal("Heat pump")
    alice_copy, bob_copy = fresh(deal), fresh(deal)
    move(alice_copy, stage["Contact made"], actor=owner_a.user)
    with pytest.raises(Conflict) as exc:
        move(bob_copy, stage["Negotiation"])
    assert exc.value.message == "This deal was changed by someone else; reload."
    with pytest.raises(Conflict):
        services.deal_update(
            workspace=ws, actor=None, deal=bob_copy, attributes={"amount": "5"}, expected_version=1
        )
    stored = fresh(deal)
    assert (stored.stage, stored.version, stored.amount) == (stage["Contact made"], 2, Decimal("1000.00"))


def test_the_version_is_checked_in_the_update_itself(make_deal, stage):
    """Even when the caller's copy looks current, the UPDATE ... WHERE version=... decides."""
    deal = fresh(make_deal("Race"))
    Deal.objects.filter(pk=deal.pk).update(version=7)  # someone else saved between our read and write
    with pytest.raises(Conflict):
        move(deal, stage["Contact made"])
    assert fresh(deal).stage == stage["Qualified"]


def test_winning_makes_the_person_and_company_customers_with_conversions(
    ws, owner_a, make_deal, make_person, make_company, stage
):
    company = make_company("Acme Impianti", lifecycle_stage="lead", source_channel="trade fair")
    person = make_person("Mario", "Rossi", company=company.pk, source_channel="referral")
    deal = make_deal("Plant upgrade", person=person, company=company, amount="48000")
    deal = move(fresh(deal), stage["Won"], actor=owner_a.user)
    assert Person.objects.get(pk=person.pk).lifecycle_stage == "customer"
    assert Company.objects.get(pk=company.pk).lifecycle_stage == "customer"
    won = Conversion.objects.filter(to_stage="customer").order_by("id")
    assert [(c.person_id, c.company_id, c.from_stage, c.source_channel) for c in won] == [
        (person.pk, None, "opportunity", "referral"),
        (None, company.pk, "opportunity", "trade fair"),
    ]
    assert all(c.deal == deal and c.converted_by == owner_a.user for c in won)
    entry = Interaction.objects.filter(source_id=str(deal.pk)).latest("id")
    assert entry.subject == "Deal “Plant upgrade” moved to Won"
    assert "Mario Rossi became customer." in entry.body

    repeat = make_deal("Second order", person=person, amount="100")
    move(fresh(repeat), stage["Won"])
    assert Conversion.objects.filter(to_stage="customer").count() == 2  # already a customer: no new one


def test_time_in_stage_is_computed_from_the_stage_changes(ws, make_deal, stage, at):
    start = timezone.now().replace(microsecond=0)
    with at(start):
        deal = make_deal("Timed")
    with at(start + dt.timedelta(days=2)):
        deal = move(fresh(deal), stage["Proposal sent"])
    with at(start + dt.timedelta(days=5, hours=6)):
        deal = move(fresh(deal), stage["Negotiation"])
    with at(start + dt.timedelta(days=6)):
        spans = selectors.deal_stage_history(workspace=ws, deal=deal)
        assert [(s.stage.name, s.duration) for s in spans] == [
            ("Qualified", dt.timedelta(days=2)),
            ("Proposal sent", dt.timedelta(days=3, hours=6)),
            ("Negotiation", dt.timedelta(hours=18)),
        ]
        assert selectors.time_in_stage(fresh(deal)) == dt.timedelta(hours=18)


def test_positions_order_a_column_and_moves_within_it_keep_the_stage(make_deal, stage):
    a, _b, c = (make_deal(name) for name in "ABC")  # new deals go on top: C, B, A

    def column():
        return list(
            Deal.objects.filter(stage=stage["Qualified"])
            .order_by("position", "id")
            .values_list("title", flat=True)
        )

    assert column() == ["C", "B", "A"]
    move(fresh(a), stage["Qualified"], position=0)
    assert column() == ["A", "C", "B"]
    moved = move(fresh(c), stage["Qualified"], position=2)
    assert column() == ["A", "B", "C"] and moved.version == 2
    assert DealStageChange.objects.filter(deal=c).count() == 1  # reordering is not a stage change
    Deal.objects.filter(stage=stage["Qualified"]).update(position=5)  # collapsed positions get respaced
    move(fresh(c), stage["Qualified"], position=1)
    assert column()[1] == "C"


def test_updates_keep_the_rules_of_the_current_stage(ws, make_deal, make_person, stage):
    deal = move(fresh(make_deal("Won one", person=make_person(), amount="10")), stage["Won"])
    with pytest.raises(ValidationFailed) as exc:
        services.deal_update(
            workspace=ws, actor=None, deal=fresh(deal), attributes={"amount": "0"}, expected_version=2
        )
    assert "amount" in exc.value.fields
    updated = services.deal_update(
        workspace=ws,
        actor=None,
        deal=fresh(deal),
        attributes={"notes": "Signed on paper"},
        expected_version=2,
    )
    assert updated.version == 3 and fresh(deal).notes == "Signed on paper"
    with pytest.raises(ValidationFailed):
        services.deal_update(
            workspace=ws, actor=None, deal=fresh(deal), attributes={"stage": 1}, expected_version=3
        )
