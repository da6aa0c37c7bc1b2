"""Writes for pipelines, stages and deals.

The rules of the sales process live here and nowhere else:

- a deal's person, company and owner belong to its workspace; its stage belongs to its pipeline and is
  not retired;
- a won deal has an amount above zero and a person or a company; a lost deal has a lost reason;
- every stage change is stored (``DealStageChange``, with time and author) and written to the
  customer's timeline;
- a deal update names the version it was based on: a stale version is a ``Conflict`` (no lost update);
- a deal qualifies its lead (lead -> opportunity) and a won deal makes a customer; both leave a
  ``Conversion`` row with time and source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from babel.numbers import list_currencies
from django.db import transaction
from django.db.models import Count, F, Max, Min, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from clientela.contacts.models import Company, LifecycleStage, Person
from clientela.contacts.services import company_update, people_set_stage
from clientela.core.audit import audit_record
from clientela.core.errors import Conflict, ValidationFailed
from clientela.sales.models import Conversion, Deal, DealStageChange, Pipeline, Stage, StageKind, StageTotal
from clientela.timeline.services import interaction_record
from clientela.timeline.text import SystemText
from clientela.workspaces.models import Membership, User, Workspace

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")
# Lifecycle stages that a deal qualifies (a blank stage is a lead nobody has classified yet).
BEFORE_OPPORTUNITY = frozenset({"", LifecycleStage.SUBSCRIBER, LifecycleStage.LEAD})
DEAL_FIELDS = frozenset(
    {
        "title",
        "person",
        "company",
        "amount",
        "currency",
        "expected_close",
        "owner",
        "source",
        "lost_reason",
        "notes",
    }
)


# The timeline's words for a deal's moves (``timeline.text``: shown in each reader's language).
DEAL_CREATED_IN = gettext_noop("Deal “%(title)s” created in %(stage)s")
DEAL_MOVED_TO = gettext_noop("Deal “%(title)s” moved to %(stage)s")


@dataclass(frozen=True)
class StageInput:
    name: str
    probability: Decimal | int | str = 0
    kind: str = StageKind.OPEN


DEFAULT_PIPELINE_NAME = gettext_lazy("New business")
DEFAULT_STAGES = (
    (gettext_lazy("Qualified"), 10, StageKind.OPEN),
    (gettext_lazy("Contact made"), 20, StageKind.OPEN),
    (gettext_lazy("Proposal sent"), 50, StageKind.OPEN),
    (gettext_lazy("Negotiation"), 75, StageKind.OPEN),
    (gettext_lazy("Won"), 100, StageKind.WON),
    (gettext_lazy("Lost"), 0, StageKind.LOST),
)


def default_stages() -> list[StageInput]:
    """The stages of a new pipeline when none are given, in the active language."""
    return [StageInput(str(name), probability, kind) for name, probability, kind in DEFAULT_STAGES]


# --- pipelines ------------------------------------------------------------------------------------


def pipeline_ensure_default(*, workspace: Workspace) -> Pipeline:
    """The workspace's default pipeline, created with sensible stages on first use.

    If pipelines exist but none is marked default, the first one is returned. Concurrent first uses
    are serialised on the workspace row, so exactly one default pipeline is created; later calls are a
    single read.
    """
    pipeline = _current_default(workspace)
    if pipeline is not None:
        return pipeline
    with transaction.atomic():
        Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
        pipeline = _current_default(workspace)
        if pipeline is not None:
            return pipeline
        with translation.override(workspace.language or None):
            return _pipeline_insert(
                workspace, name=str(DEFAULT_PIPELINE_NAME), stages=default_stages(), is_default=True
            )


@transaction.atomic
def pipeline_create(
    *,
    workspace: Workspace,
    actor: User | None,
    name: str,
    stages: Sequence[StageInput] | None = None,
    is_default: bool = False,
) -> Pipeline:
    """Create a pipeline with ``stages`` (the default stages when none are given).

    The name is unique in the workspace; the stages need at least one open, one won and one lost stage.
    """
    name = _pipeline_name(workspace, name, None)
    stages = list(stages) if stages is not None else default_stages()
    _validate_stage_set(stages)
    if is_default:
        Pipeline.objects.filter(workspace=workspace).update(is_default=False)
    pipeline = _pipeline_insert(workspace, name=name, stages=stages, is_default=is_default)
    audit_record(
        workspace=workspace, actor=actor, action="pipeline.created", target=pipeline, summary=pipeline.name
    )
    return pipeline


@transaction.atomic
def pipeline_update(
    *, pipeline: Pipeline, actor: User | None, name: str | None = None, is_default: bool | None = None
) -> Pipeline:
    """Rename a pipeline or make it the default one (the previous default stops being it)."""
    workspace = pipeline.workspace
    fields = []
    if name is not None:
        pipeline.name = _pipeline_name(workspace, name, pipeline)
        fields.append("name")
    if is_default:
        Pipeline.objects.filter(workspace=workspace).exclude(pk=pipeline.pk).update(is_default=False)
    if is_default is not None:
        pipeline.is_default = is_default
        fields.append("is_default")
    if fields:
        pipeline.save(update_fields=fields)
        audit_record(
            workspace=workspace,
            actor=actor,
            action="pipeline.updated",
            target=pipeline,
            summary=pipeline.name,
        )
    return pipeline


# --- stages ---------------------------------------------------------------------------------------


@transaction.atomic
def stage_add(
    *,
    pipeline: Pipeline,
    actor: User | None,
    name: str,
    probability: Decimal | int | str = 0,
    kind: str = StageKind.OPEN,
    position: int | None = None,
) -> Stage:
    """Add a stage at ``position`` (0 = first). By default an open stage goes after the last open
    stage (before won and lost) and a won or lost stage goes last."""
    clean = _clean_stage(StageInput(name, probability, kind), "")
    active = list(_active_stages(pipeline))
    if position is None:
        open_positions = [i for i, s in enumerate(active) if s.kind == StageKind.OPEN]
        position = open_positions[-1] + 1 if clean.kind == StageKind.OPEN and open_positions else len(active)
    stage = Stage(
        pipeline=pipeline, name=clean.name, probability=Decimal(str(clean.probability)), kind=clean.kind
    )
    stage.workspace = pipeline.workspace
    stage.save()
    active.insert(max(0, min(position, len(active))), stage)
    _renumber(active)
    audit_record(
        workspace=pipeline.workspace,
        actor=actor,
        action="stage.added",
        target=stage,
        summary=f"{pipeline.name}: {stage.name}",
    )
    return stage


@transaction.atomic
def stage_update(
    *,
    stage: Stage,
    actor: User | None,
    name: str | None = None,
    probability: Decimal | int | str | None = None,
    kind: str | None = None,
) -> Stage:
    """Rename a stage or change its probability. Its kind changes only while no deal is in it, and
    never so that the pipeline is left without an open, a won or a lost stage."""
    clean = _clean_stage(
        StageInput(
            name if name is not None else stage.name,
            probability if probability is not None else stage.probability,
            kind if kind is not None else stage.kind,
        ),
        "",
    )
    if clean.kind != stage.kind:
        if Deal.objects.filter(workspace=stage.workspace, stage=stage).exists():
            raise ValidationFailed(
                _("Move the deals out of %(stage)s before changing its kind.") % {"stage": stage.name},
                fields={"kind": [_("The stage has deals.")]},
            )
        _require_another_of_kind(stage, "kind")
    stage.name, stage.kind = clean.name, clean.kind
    stage.probability = Decimal(str(clean.probability))
    stage.save(update_fields=["name", "probability", "kind"])
    audit_record(
        workspace=stage.workspace, actor=actor, action="stage.updated", target=stage, summary=stage.name
    )
    return stage


@transaction.atomic
def stage_reorder(*, pipeline: Pipeline, actor: User | None, stage_ids: Sequence[int]) -> list[Stage]:
    """Put the pipeline's active stages in the order given; every active stage must be named once."""
    active = {s.pk: s for s in _active_stages(pipeline)}
    if sorted(stage_ids) != sorted(active):
        raise ValidationFailed(
            _("Name every active stage of the pipeline exactly once."), fields={"stages": [_("Invalid.")]}
        )
    ordered = [active[i] for i in stage_ids]
    _renumber(ordered)
    audit_record(
        workspace=pipeline.workspace,
        actor=actor,
        action="stage.reordered",
        target=pipeline,
        summary=pipeline.name,
        data={"stages": [s.name for s in ordered]},
    )
    return ordered


@transaction.atomic
def stage_retire(*, stage: Stage, actor: User | None, move_to: Stage | None = None) -> Stage:
    """Retire a stage: it leaves the board and takes no new deals, and its history stays.

    The deals still in it move to ``move_to`` (required when there are any: a stage of the same pipeline
    and kind), each move recorded like any other. The last open, won or lost stage cannot be retired.
    """
    if stage.retired_at is not None:
        return stage
    workspace = stage.workspace
    _require_another_of_kind(stage, "stage")
    deals = list(
        Deal.objects.select_for_update(of=("self",))
        .filter(workspace=workspace, stage=stage)
        .select_related("person", "company")
        .order_by("pk")
    )
    if deals:
        if move_to is None:
            raise ValidationFailed(
                _("%(count)d deals are in %(stage)s: choose a stage to move them to.")
                % {"count": len(deals), "stage": stage.name},
                fields={"move_to": [_("Required.")]},
            )
        if (
            move_to.pipeline_id != stage.pipeline_id
            or move_to.retired_at is not None
            or move_to.pk == stage.pk
            or move_to.kind != stage.kind
        ):
            raise ValidationFailed(
                _("Move the deals to an active stage of the same pipeline and kind."),
                fields={"move_to": [_("Invalid.")]},
            )
        now = timezone.now()
        Deal.objects.filter(workspace=workspace, stage=stage).update(
            stage=move_to, stage_entered_at=now, version=F("version") + 1, updated_at=now
        )
        for deal in deals:
            _record_stage_change(workspace, actor, deal, stage, move_to, now, conversions=[])
    stage.retired_at = timezone.now()
    stage.save(update_fields=["retired_at"])
    audit_record(
        workspace=workspace,
        actor=actor,
        action="stage.retired",
        target=stage,
        summary=stage.name,
        data={"moved_deals": len(deals), "move_to": move_to.name if move_to and deals else ""},
    )
    return stage


@transaction.atomic
def stage_restore(*, stage: Stage, actor: User | None) -> Stage:
    """Bring a retired stage back onto the board, after the pipeline's other active stages of its kind
    (an open stage after the open ones); the deals moved out when it was retired stay where they are."""
    if stage.retired_at is None:
        return stage
    stage.retired_at = None
    stage.save(update_fields=["retired_at"])
    active = [s for s in _active_stages(stage.pipeline) if s.pk != stage.pk]
    last_of_kind = max((i for i, s in enumerate(active) if s.kind == stage.kind), default=len(active) - 1)
    active.insert(last_of_kind + 1, stage)
    _renumber(active)
    audit_record(
        workspace=stage.workspace, actor=actor, action="stage.restored", target=stage, summary=stage.name
    )
    return stage


# --- deals ----------------------------------------------------------------------------------------


@transaction.atomic
def deal_create(*, workspace: Workspace, actor: User | None, attributes: dict[str, Any]) -> Deal:
    """Create a deal. ``attributes`` are the model's fields by name; ``person``, ``company``, ``owner``,
    ``pipeline`` and ``stage`` may be ids. Without a pipeline the default one is used, without a stage
    its first open stage, without an owner the actor, without a currency the workspace's.

    A deal for a lead qualifies it (lead -> opportunity, with a ``Conversion``); a deal created in a
    won stage makes a customer, as a move there would.
    """
    attributes = dict(attributes)
    pipeline_ref, stage_ref = attributes.pop("pipeline", None), attributes.pop("stage", None)
    deal = Deal(currency=workspace.default_currency, owner=actor)
    deal.workspace = workspace
    errors: dict[str, list[str]] = {}
    _apply(workspace, deal, attributes, errors, creating=True)
    pipeline, stage = _pipeline_and_stage(workspace, pipeline_ref, stage_ref, errors)
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    assert pipeline is not None and stage is not None
    _check_stage_rules(deal, stage)
    now = timezone.now()
    top = Deal.objects.filter(workspace=workspace, stage=stage).aggregate(top=Min("position"))["top"]
    deal.pipeline, deal.stage = pipeline, stage
    deal.position = (top - 1) if top is not None else 0
    deal.stage_entered_at = now
    deal.closed_at = now if stage.kind != StageKind.OPEN else None
    deal.save()
    _store_change(workspace, actor, deal, None, stage, now)
    conversions = _convert(workspace, actor, deal, LifecycleStage.OPPORTUNITY, now)
    if stage.kind == StageKind.WON:
        conversions += _convert(workspace, actor, deal, LifecycleStage.CUSTOMER, now)
    _timeline(
        workspace,
        actor,
        deal,
        SystemText(DEAL_CREATED_IN, {"title": deal.title, "stage": stage.name}),
        conversions,
        now,
    )
    return deal


@transaction.atomic
def lead_qualify(
    *,
    workspace: Workspace,
    actor: User | None,
    record: Person | Company,
    attributes: dict[str, Any] | None = None,
) -> Deal:
    """Turn a lead into an opportunity by opening a deal for it (titled after the lead unless given).

    Only leads (lifecycle stage blank, subscriber or lead) can be qualified; for anyone else create a
    deal directly.
    """
    if record.workspace_id != workspace.pk:
        raise ValidationFailed(_("Unknown customer."))
    if record.lifecycle_stage not in BEFORE_OPPORTUNITY:
        raise ValidationFailed(
            _("%(name)s is already %(stage)s: create a deal instead.")
            % {"name": record, "stage": record.get_lifecycle_stage_display().lower()},
            fields={"lifecycle_stage": [_("Not a lead.")]},
        )
    data = dict(attributes or {})
    data.setdefault("title", str(record))
    if isinstance(record, Person):
        data["person"] = record
        data.setdefault("company", record.company)
    else:
        data["company"] = record
    if not data.get("source"):
        data["source"] = record.source_channel
    return deal_create(workspace=workspace, actor=actor, attributes=data)


@transaction.atomic
def deal_update(
    *,
    workspace: Workspace,
    actor: User | None,
    deal: Deal,
    attributes: dict[str, Any],
    expected_version: int,
) -> Deal:
    """Change the given attributes of a deal (not its stage: see ``deal_move_stage``).

    Refused when ``expected_version`` is not the deal's version (someone changed it meanwhile), and when
    the change would break the rules of the stage the deal is in (a won deal keeps an amount and a
    customer, a lost deal its reason).
    """
    unknown = set(attributes) - DEAL_FIELDS
    if unknown:
        raise ValidationFailed(
            _("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))},
            fields={name: [_("Unknown field.")] for name in unknown},
        )
    _check_version(deal, expected_version)
    before = {name: getattr(deal, name) for name in attributes}
    errors: dict[str, list[str]] = {}
    _apply(workspace, deal, attributes, errors, creating=False)
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    _check_stage_rules(deal, deal.stage)
    changes = {name: getattr(deal, name) for name in attributes}
    now = timezone.now()
    updated = Deal.objects.filter(workspace=workspace, pk=deal.pk, version=expected_version).update(
        **changes, version=F("version") + 1, updated_at=now
    )
    if not updated:
        raise _conflict()
    deal.version, deal.updated_at = expected_version + 1, now
    changed = {k: [str(v), str(changes[k])] for k, v in before.items() if v != changes[k]}
    if changed:
        audit_record(
            workspace=workspace,
            actor=actor,
            action="deal.updated",
            target=deal,
            summary=deal.title,
            data={"changed": changed},
        )
    return deal


@transaction.atomic
def deal_move_stage(
    *,
    workspace: Workspace,
    actor: User | None,
    deal: Deal,
    stage: Stage,
    position: int | None = None,
    expected_version: int,
    lost_reason: str | None = None,
) -> Deal:
    """Move a deal to ``stage`` at ``position`` (0 = top of the column, counted over every deal in it;
    ``None`` = the top for a new stage, the same place within the same stage).

    Refused (``ValidationFailed``) for a stage of another pipeline or a retired stage, for a won stage
    without an amount above zero or without a person or company, for a lost stage without a lost
    reason (``lost_reason`` may bring one); refused (``Conflict``) when ``expected_version`` is stale.
    A stage change is stored with its time and author and written to the customer's timeline; a win
    makes the person and company customers.
    """
    _check_version(deal, expected_version)
    if stage.workspace_id != workspace.pk or stage.pipeline_id != deal.pipeline_id:
        raise ValidationFailed(
            _("%(stage)s belongs to another pipeline.") % {"stage": stage.name},
            fields={"stage": [_("Choose a stage of the deal's pipeline.")]},
        )
    if stage.retired_at is not None:
        raise ValidationFailed(
            _("%(stage)s is retired and takes no deals.") % {"stage": stage.name},
            fields={"stage": [_("Retired stage.")]},
        )
    from_stage = deal.stage
    moving = stage.pk != from_stage.pk
    if lost_reason is not None and lost_reason.strip():
        deal.lost_reason = lost_reason.strip()[:200]
    if moving:
        _check_stage_rules(deal, stage, moving=True)
    now = timezone.now()
    changes: dict[str, Any] = {"version": F("version") + 1, "updated_at": now}
    if moving or position is not None:
        changes["position"] = _position_in(workspace, deal, stage, position)
    if moving:
        changes.update(
            stage=stage,
            stage_entered_at=now,
            closed_at=now if stage.kind != StageKind.OPEN else None,
            lost_reason=deal.lost_reason,
        )
    updated = Deal.objects.filter(workspace=workspace, pk=deal.pk, version=expected_version).update(**changes)
    if not updated:
        raise _conflict()
    deal.version, deal.updated_at = expected_version + 1, now
    deal.position = changes.get("position", deal.position)
    if moving:
        deal.stage, deal.stage_entered_at, deal.closed_at = stage, now, changes["closed_at"]
        conversions = (
            _convert(workspace, actor, deal, LifecycleStage.CUSTOMER, now)
            if stage.kind == StageKind.WON
            else []
        )
        _record_stage_change(workspace, actor, deal, from_stage, stage, now, conversions)
    return deal


@transaction.atomic
def stage_totals_rebuild(*, workspace: Workspace) -> int:
    """Recompute the workspace's ``StageTotal`` rows from its deals (the triggers keep them otherwise:
    run this after a restore or a bulk load with triggers off, while nobody writes deals). Returns the
    number of rows written."""
    StageTotal.objects.filter(workspace=workspace).delete()
    groups = (
        Deal.objects.filter(workspace=workspace)
        .values("stage_id", "currency", owner_key=Coalesce("owner_id", 0))
        .annotate(count=Count("*"), amount=Sum("amount"))
        .order_by()
    )
    rows = []
    for group in groups:
        total = StageTotal(
            stage_id=group["stage_id"],
            owner_key=group["owner_key"],
            currency=group["currency"],
            count=group["count"],
            amount_cents=int((Decimal(group["amount"] or 0) * 100).quantize(Decimal(1), ROUND_HALF_UP)),
        )
        total.workspace = workspace
        rows.append(total)
    StageTotal.objects.bulk_create(rows)
    return len(rows)


# --- helpers: pipelines and stages ----------------------------------------------------------------


def _current_default(workspace: Workspace) -> Pipeline | None:
    return (
        Pipeline.objects.filter(workspace=workspace, archived_at__isnull=True)
        .order_by("-is_default", "position", "id")
        .first()
    )


def _pipeline_insert(
    workspace: Workspace, *, name: str, stages: Sequence[StageInput], is_default: bool
) -> Pipeline:
    last = Pipeline.objects.filter(workspace=workspace).aggregate(last=Max("position"))["last"]
    pipeline = Pipeline(name=name, is_default=is_default, position=(last + 1) if last is not None else 0)
    pipeline.workspace = workspace
    pipeline.save()
    rows = []
    for position, item in enumerate(stages):
        clean = _clean_stage(item, f"stages.{position}.")
        stage = Stage(
            pipeline=pipeline,
            name=clean.name,
            position=position,
            probability=Decimal(str(clean.probability)),
            kind=clean.kind,
        )
        stage.workspace = workspace
        rows.append(stage)
    Stage.objects.bulk_create(rows)
    return pipeline


def _pipeline_name(workspace: Workspace, name: str, pipeline: Pipeline | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed(_("A pipeline needs a name."), fields={"name": [_("Required.")]})
    if len(name) > 100:
        raise ValidationFailed(_("The name is too long."), fields={"name": [_("At most 100 characters.")]})
    taken = Pipeline.objects.filter(workspace=workspace, name__iexact=name)
    if pipeline is not None:
        taken = taken.exclude(pk=pipeline.pk)
    if taken.exists():
        raise ValidationFailed(
            _("There is already a pipeline called %(name)s.") % {"name": name},
            fields={"name": [_("Already taken.")]},
        )
    return name


def _clean_stage(item: StageInput, prefix: str) -> StageInput:
    """A stage's name, probability (0-100; won is 100 and lost is 0) and kind, or ValidationFailed."""
    errors: dict[str, list[str]] = {}
    name = " ".join((item.name or "").split())
    if not name:
        errors[f"{prefix}name"] = [_("A stage needs a name.")]
    elif len(name) > 100:
        errors[f"{prefix}name"] = [_("At most 100 characters.")]
    if item.kind not in StageKind.values:
        errors[f"{prefix}kind"] = [_("Choose open, won or lost.")]
    probability = Decimal(0)
    try:
        probability = Decimal(str(item.probability).replace(",", ".").strip() or "0")
        if not probability.is_finite() or not Decimal(0) <= probability <= Decimal(100):
            raise InvalidOperation
    except InvalidOperation:
        errors[f"{prefix}probability"] = [_("Enter a percentage from 0 to 100.")]
    if errors:
        raise ValidationFailed(_("The stage is invalid."), fields=errors)
    if item.kind == StageKind.WON:
        probability = Decimal(100)
    elif item.kind == StageKind.LOST:
        probability = Decimal(0)
    return StageInput(name, probability.quantize(CENT), item.kind)


def _validate_stage_set(stages: Sequence[StageInput]) -> None:
    kinds = {s.kind for s in stages}
    missing = [k for k in (StageKind.OPEN, StageKind.WON, StageKind.LOST) if k not in kinds]
    if missing:
        raise ValidationFailed(
            _("A pipeline needs at least one open, one won and one lost stage."),
            fields={"stages": [_("Missing: %(kinds)s.") % {"kinds": ", ".join(missing)}]},
        )


def _active_stages(pipeline: Pipeline) -> Any:
    return Stage.objects.filter(
        workspace=pipeline.workspace, pipeline=pipeline, retired_at__isnull=True
    ).order_by("position", "id")


def _renumber(stages: Sequence[Stage]) -> None:
    for position, stage in enumerate(stages):
        stage.position = position
    Stage.objects.bulk_update(stages, ["position"])


def _require_another_of_kind(stage: Stage, field: str) -> None:
    others = (
        Stage.objects.filter(
            workspace=stage.workspace, pipeline_id=stage.pipeline_id, kind=stage.kind, retired_at__isnull=True
        )
        .exclude(pk=stage.pk)
        .exists()
    )
    if not others:
        raise ValidationFailed(
            _("%(stage)s is the pipeline's last %(kind)s stage.")
            % {"stage": stage.name, "kind": stage.get_kind_display().lower()},
            fields={field: [_("A pipeline needs an open, a won and a lost stage.")]},
        )


# --- helpers: deals -------------------------------------------------------------------------------


def _apply(
    workspace: Workspace, deal: Deal, attributes: dict[str, Any], errors: dict[str, list[str]], creating: bool
) -> None:
    """Set and validate deal attributes, collecting every error by field."""
    for name, value in attributes.items():
        if name not in DEAL_FIELDS:
            errors[name] = [_("Unknown field.")]
            continue
        if name == "title":
            value = " ".join(str(value or "").split())
            if not value:
                errors[name] = [_("A deal needs a title.")]
            elif len(value) > 200:
                errors[name] = [_("At most 200 characters.")]
        elif name == "person":
            value = _related(workspace, Person, value, name, errors)
        elif name == "company":
            value = _related(workspace, Company, value, name, errors)
        elif name == "owner":
            value = _owner(workspace, value, errors)
        elif name == "amount":
            value = _amount(value, errors)
        elif name == "currency":
            value = str(value or "").strip().upper()
            if value not in list_currencies():
                errors[name] = [_("Enter a currency code such as EUR, HUF or RON.")]
        elif name == "expected_close":
            if isinstance(value, str):
                parsed = parse_date(value) if value.strip() else None
                if value.strip() and parsed is None:
                    errors[name] = [_("Enter a date as YYYY-MM-DD.")]
                value = parsed
            elif value is not None and not isinstance(value, dt.date):
                errors[name] = [_("Enter a date as YYYY-MM-DD.")]
        else:  # source, lost_reason, notes
            value = str(value or "").strip()
            limit = {"source": 120, "lost_reason": 200}.get(name)
            if limit and len(value) > limit:
                errors[name] = [_("At most %(limit)d characters.") % {"limit": limit}]
        setattr(deal, name, value)
    if creating and "title" not in attributes:
        errors["title"] = [_("A deal needs a title.")]


def _related(
    workspace: Workspace,
    model: type[Person] | type[Company],
    value: Any,
    name: str,
    errors: dict[str, list[str]],
) -> Any:
    if value in (None, ""):
        return None
    if isinstance(value, model):
        pk: Any = value.pk if value.workspace_id == workspace.pk else None
    else:
        pk = value
    try:
        record = model.objects.filter(workspace=workspace, pk=int(pk)).first() if pk is not None else None
    except (TypeError, ValueError):
        record = None
    if record is None:
        errors[name] = [
            _("Unknown person.") if model is Person else _("Unknown company."),
        ]
    return record


def _owner(workspace: Workspace, value: Any, errors: dict[str, list[str]]) -> User | None:
    if value in (None, ""):
        return None
    user_id = value.pk if isinstance(value, User) else value
    try:
        membership = (
            Membership.objects.select_related("user")
            .filter(workspace=workspace, user_id=int(user_id), is_active=True)
            .first()
        )
    except (TypeError, ValueError):
        membership = None
    if membership is None:
        errors["owner"] = [_("The owner must be a member of this workspace.")]
        return None
    return membership.user


def _amount(value: Any, errors: dict[str, list[str]]) -> Decimal:
    if value in (None, ""):
        return Decimal("0.00")
    try:
        amount = Decimal(str(value).replace(",", ".").strip())
        if not amount.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        errors["amount"] = [_("Enter an amount such as 1200.50.")]
        return Decimal("0.00")
    if amount < 0:
        errors["amount"] = [_("The amount cannot be negative.")]
    elif amount > MAX_AMOUNT:
        errors["amount"] = [_("The amount is too large.")]
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _pipeline_and_stage(
    workspace: Workspace, pipeline_ref: Any, stage_ref: Any, errors: dict[str, list[str]]
) -> tuple[Pipeline | None, Stage | None]:
    """The deal's pipeline and stage from ids or instances: a stage alone names its pipeline, neither
    gives the default pipeline's first open stage."""
    stage: Stage | None = None
    if stage_ref not in (None, ""):
        stage = _by_id(Stage.objects.select_related("pipeline").filter(workspace=workspace), stage_ref)
        if stage is None or stage.retired_at is not None:
            errors["stage"] = [_("Choose an active stage of the pipeline.")]
            return None, None
    pipeline: Pipeline | None
    if pipeline_ref not in (None, ""):
        pipeline = _by_id(Pipeline.objects.filter(workspace=workspace), pipeline_ref)
    elif stage is not None:
        pipeline = stage.pipeline
    else:
        pipeline = pipeline_ensure_default(workspace=workspace)
    if pipeline is None or pipeline.archived_at is not None:
        errors["pipeline"] = [_("Unknown pipeline.")]
        return None, None
    if stage is None:
        stage = _active_stages(pipeline).filter(kind=StageKind.OPEN).first()
    if stage is None or stage.pipeline_id != pipeline.pk:
        errors["stage"] = [_("Choose an active stage of the pipeline.")]
        return None, None
    return pipeline, stage


def _by_id(queryset: Any, ref: Any) -> Any:
    """The row of ``queryset`` that ``ref`` (an instance or an id) names, or None."""
    try:
        return queryset.filter(pk=int(ref.pk if hasattr(ref, "pk") else ref)).first()
    except (TypeError, ValueError):
        return None


def _check_stage_rules(deal: Deal, stage: Stage, moving: bool = False) -> None:
    """A won deal has an amount and a customer; a lost deal has a reason."""
    errors: dict[str, list[str]] = {}
    if stage.kind == StageKind.WON:
        if deal.amount is None or deal.amount <= 0:
            errors["amount"] = [_("A won deal needs an amount above zero.")]
        if deal.person_id is None and deal.company_id is None:
            errors["person"] = [_("A won deal needs a person or a company.")]
    elif stage.kind == StageKind.LOST and not deal.lost_reason.strip():
        errors["lost_reason"] = [_("Give the reason why the deal was lost.")]
    if errors:
        reasons = " ".join(m for messages in errors.values() for m in messages)
        if moving:
            message = _("“%(deal)s” cannot move to %(stage)s. %(reasons)s") % {
                "deal": deal.title,
                "stage": stage.name,
                "reasons": reasons,
            }
        else:
            message = reasons
        raise ValidationFailed(message, code="stage_rules", fields=errors)


def _check_version(deal: Deal, expected_version: int) -> None:
    if deal.version != expected_version:
        raise _conflict()


def _conflict() -> Conflict:
    return Conflict(_("This deal was changed by someone else; reload."), code="version_conflict")


def _position_in(workspace: Workspace, deal: Deal, stage: Stage, index: int | None) -> float:
    """A position that puts the deal at ``index`` in ``stage``'s column (order: position, id)."""
    column = (
        Deal.objects.filter(workspace=workspace, stage=stage).exclude(pk=deal.pk).order_by("position", "id")
    )
    if index is None:
        if stage.pk == deal.stage_id:
            return deal.position
        index = 0
    index = max(0, index)
    for _attempt in range(2):
        window = list(column.values_list("position", flat=True)[max(index - 1, 0) : index + 1])
        if not window:
            last = column.values_list("position", flat=True).last()
            return 0.0 if last is None else last + 1.0
        if index == 0:
            return window[0] - 1.0
        if len(window) == 1:
            return window[0] + 1.0
        before, after = window
        middle = (before + after) / 2
        if before < middle < after:
            return middle
        _respace(column)  # equal or exhausted positions: spread the column out once, then retry
    raise Conflict(_("The column could not be reordered; try again."))


def _respace(column: Any) -> None:
    deals = list(column.only("id", "position"))
    for number, item in enumerate(deals):
        item.position = float(number)
    Deal.objects.bulk_update(deals, ["position"], batch_size=500)


def _store_change(
    workspace: Workspace,
    actor: User | None,
    deal: Deal,
    from_stage: Stage | None,
    to_stage: Stage,
    now: dt.datetime,
) -> DealStageChange:
    change = DealStageChange(
        deal=deal, from_stage=from_stage, to_stage=to_stage, changed_by=actor, changed_at=now
    )
    change.workspace = workspace
    change.save()
    return change


def _record_stage_change(
    workspace: Workspace,
    actor: User | None,
    deal: Deal,
    from_stage: Stage,
    to_stage: Stage,
    now: dt.datetime,
    conversions: list[Conversion],
) -> None:
    _store_change(workspace, actor, deal, from_stage, to_stage, now)
    values = {"title": deal.title, "stage": to_stage.name}
    subject = SystemText(DEAL_MOVED_TO, values)
    if to_stage.kind == StageKind.LOST and deal.lost_reason:
        values = {**values, "reason": deal.lost_reason}
        subject = SystemText(gettext_noop("Deal “%(title)s” moved to %(stage)s (%(reason)s)"), values)
    _timeline(workspace, actor, deal, subject, conversions, now, from_stage=from_stage, to_stage=to_stage)


def _timeline(
    workspace: Workspace,
    actor: User | None,
    deal: Deal,
    subject: SystemText,
    conversions: list[Conversion],
    now: dt.datetime,
    from_stage: Stage | None = None,
    to_stage: Stage | None = None,
) -> None:
    """Write the event to the customer's timeline (a deal with no customer has none)."""
    if deal.person_id is None and deal.company_id is None:
        return
    lines = []
    for conversion in conversions:
        record = conversion.person or conversion.company
        with translation.override("en"):  # the label's English text is its message
            stage = SystemText(str(LifecycleStage(conversion.to_stage).label), lower=True)
        lines.append(
            SystemText(gettext_noop("%(name)s became %(stage)s."), {"name": str(record), "stage": stage})
        )
    interaction_record(
        workspace=workspace,
        kind="system",
        person=deal.person,
        company=deal.company,
        subject=subject,
        body=lines,
        actor=actor,
        occurred_at=now,
        source=deal,
        data={
            "deal": deal.pk,
            "from_stage": from_stage.name if from_stage else "",
            "to_stage": (to_stage or deal.stage).name,
        },
    )


def _convert(
    workspace: Workspace, actor: User | None, deal: Deal, to_stage: str, now: dt.datetime
) -> list[Conversion]:
    """Move the deal's person and company forward in the lifecycle and keep a Conversion for each."""
    conversions = []
    for record in (deal.person, deal.company):
        if record is None:
            continue
        current = record.lifecycle_stage or ""
        if to_stage == LifecycleStage.OPPORTUNITY and current not in BEFORE_OPPORTUNITY:
            continue
        if to_stage == LifecycleStage.CUSTOMER and current == LifecycleStage.CUSTOMER:
            continue
        if isinstance(record, Person):
            people_set_stage(workspace=workspace, actor=actor, people=[record], stage=to_stage)
        else:
            company_update(company=record, actor=actor, attributes={"lifecycle_stage": to_stage})
        conversion = Conversion(
            person=record if isinstance(record, Person) else None,
            company=record if isinstance(record, Company) else None,
            deal=deal,
            from_stage=current,
            to_stage=to_stage,
            converted_at=now,
            converted_by=actor,
            source_channel=(record.source_channel or deal.source)[:120],
            source_campaign=record.source_campaign[:120],
        )
        conversion.workspace = workspace
        conversion.save()
        conversions.append(conversion)
    return conversions
