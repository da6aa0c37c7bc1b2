"""Demo deals: the default pipeline with deals in every stage, linked to the demo people and companies,
each with a believable stage history, timeline entries and, for the won ones, a conversion.

Rows are written in bulk, so a few hundred deals with their history load in well under a second.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from clientela.contacts.models import LifecycleStage, Person
from clientela.sales.models import Conversion, Deal, DealStageChange, Stage, StageKind
from clientela.sales.selectors import stage_list
from clientela.sales.services import DEAL_CREATED_IN, DEAL_MOVED_TO, pipeline_ensure_default
from clientela.timeline.models import Interaction, Kind
from clientela.timeline.text import SystemText
from clientela.workspaces.models import User, Workspace

PRODUCTS = [
    "Solar panels",
    "Heat pump",
    "Maintenance contract",
    "Office furniture",
    "Software licences",
    "Consulting days",
    "Fleet renewal",
    "Staff training",
    "Website redesign",
    "Security audit",
]
LOST_REASONS = [
    "Too expensive",
    "Chose a competitor",
    "No budget this year",
    "No answer",
    "Project cancelled",
]
# How the deals spread over the stages of the default pipeline (open ones first, then won, then lost).
OPEN_WEIGHTS = [30, 22, 16, 12]
WON_SHARE, LOST_SHARE = 0.12, 0.08


@transaction.atomic
def demo_deals(*, workspace: Workspace, owners: list[User], count: int = 400, seed: int = 7) -> int:
    """Create ``count`` deals in the default pipeline for the workspace's demo customers (once)."""
    if Deal.objects.filter(workspace=workspace).exists():
        return 0
    rng = random.Random(seed)
    now = timezone.now()
    pipeline = pipeline_ensure_default(workspace=workspace)
    stages = list(stage_list(pipeline=pipeline))
    open_stages = [s for s in stages if s.kind == StageKind.OPEN]
    won = next(s for s in stages if s.kind == StageKind.WON)
    lost = next(s for s in stages if s.kind == StageKind.LOST)
    people = list(
        Person.objects.filter(workspace=workspace)
        .select_related("company")
        .order_by("id")
        .only(
            "id", "first_name", "last_name", "company", "source_channel", "source_campaign", "lifecycle_stage"
        )[: count * 3]
    )
    weights = (OPEN_WEIGHTS + [10] * len(open_stages))[: len(open_stages)]
    deals, paths = [], []
    for i in range(count):
        person = rng.choice(people) if people else None
        roll = rng.random()
        if roll < WON_SHARE:
            target = won
        elif roll < WON_SHARE + LOST_SHARE:
            target = lost
        else:
            target = rng.choices(open_stages, weights=weights)[0]
        path = _path(rng, open_stages, target)
        times = _times(rng, now, len(path))
        closed_at = times[-1] if target.kind != StageKind.OPEN else None
        expected = (closed_at or now + timedelta(days=rng.randint(-20, 180))).date()
        deal = Deal(
            workspace=workspace,
            title=f"{rng.choice(PRODUCTS)} · {person.last_name if person else i + 1}",
            person=person,
            company=person.company if person and rng.random() < 0.8 else None,
            pipeline=pipeline,
            stage=target,
            amount=Decimal(rng.randrange(5, 400) * 100),
            currency=workspace.default_currency,
            expected_close=expected,
            owner=rng.choice(owners) if owners else None,
            source=person.source_channel if person else "",
            lost_reason=rng.choice(LOST_REASONS) if target == lost else "",
            position=float(i),
            closed_at=closed_at,
            stage_entered_at=times[-1],
        )
        deals.append(deal)
        paths.append((path, times))
    Deal.objects.bulk_create(deals, batch_size=500)
    for deal, (_path_stages, times) in zip(deals, paths, strict=True):
        deal.created_at = times[0]
    Deal.objects.bulk_update(deals, ["created_at"], batch_size=500)

    changes, interactions, conversions = [], [], []
    for deal, (path, times) in zip(deals, paths, strict=True):
        previous: Stage | None = None
        for stage, moment in zip(path, times, strict=True):
            changes.append(
                DealStageChange(
                    workspace=workspace,
                    deal=deal,
                    from_stage=previous,
                    to_stage=stage,
                    changed_by=deal.owner,
                    changed_at=moment,
                )
            )
            if deal.person is not None:
                message = DEAL_CREATED_IN if previous is None else DEAL_MOVED_TO
                subject = SystemText(message, {"title": deal.title, "stage": stage.name})
                interactions.append(
                    Interaction(
                        workspace=workspace,
                        kind=Kind.SYSTEM,
                        person=deal.person,
                        company_id=deal.person.company_id,
                        subject=subject.english(),
                        actor=deal.owner,
                        occurred_at=moment,
                        source_type=Deal._meta.label_lower,
                        source_id=str(deal.pk),
                        data={
                            "deal": deal.pk,
                            "to_stage": stage.name,
                            "texts": {"subject": [subject.as_data()]},
                        },
                    )
                )
            previous = stage
        if deal.stage == won and deal.person is not None:
            conversions.append(_conversion(workspace, deal, times[-1]))
    DealStageChange.objects.bulk_create(changes, batch_size=1000)
    Interaction.objects.bulk_create(interactions, batch_size=1000)
    Conversion.objects.bulk_create(conversions, batch_size=1000)
    _lifecycles(workspace, deals, won)
    return len(deals)


def _path(rng: random.Random, open_stages: list[Stage], target: Stage) -> list[Stage]:
    """The stages a deal went through to reach ``target``: open stages in order, then won or lost."""
    if target.kind == StageKind.OPEN:
        return open_stages[: open_stages.index(target) + 1]
    if target.kind == StageKind.WON:
        return [*open_stages, target]
    return [*open_stages[: rng.randint(1, len(open_stages))], target]


def _times(rng: random.Random, now: datetime, steps: int) -> list[datetime]:
    """When each stage was entered: a start up to eight months ago, then a few days to weeks apart."""
    start = now - timedelta(days=rng.randint(steps * 12, 240), minutes=rng.randint(0, 1440))
    times = [start]
    for _ in range(steps - 1):
        times.append(min(now, times[-1] + timedelta(days=rng.randint(2, 25), hours=rng.randint(0, 23))))
    return times


def _conversion(workspace: Workspace, deal: Deal, moment: datetime) -> Conversion:
    assert deal.person is not None
    return Conversion(
        workspace=workspace,
        person=deal.person,
        deal=deal,
        from_stage=LifecycleStage.OPPORTUNITY,
        to_stage=LifecycleStage.CUSTOMER,
        converted_at=moment,
        converted_by=deal.owner,
        source_channel=deal.person.source_channel or deal.source,
        source_campaign=deal.person.source_campaign,
    )


def _lifecycles(workspace: Workspace, deals: list[Deal], won: Stage) -> None:
    """Won deals' people are customers; leads with an open deal are opportunities."""
    customers = {d.person_id for d in deals if d.stage == won and d.person_id}
    prospects = {d.person_id for d in deals if d.stage.kind == StageKind.OPEN and d.person_id} - customers
    Person.objects.filter(workspace=workspace, pk__in=customers).update(
        lifecycle_stage=LifecycleStage.CUSTOMER
    )
    Person.objects.filter(
        workspace=workspace,
        pk__in=prospects,
        lifecycle_stage__in=["", LifecycleStage.SUBSCRIBER, LifecycleStage.LEAD],
    ).update(lifecycle_stage=LifecycleStage.OPPORTUNITY)
