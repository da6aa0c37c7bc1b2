"""Reads for the sales process: the board, deal lists, a deal with its history, the forecast.

Record scope applies here: a member whose role sees only their own records (sales) gets only the deals
they own, everywhere (board, list, card panel, forecast, API). A deal query is a plain dict (URL or API
parameters) parsed once by ``DealQuery``, so the board, the list and the API filter the same way.

The board costs a fixed number of queries whatever the number of deals: the stages, two aggregates
(the open columns; the won and lost ones) and one index range scan per column for its first cards. The
won and lost columns show what closed in the last ``CLOSED_DAYS`` days, most recent first: the board is
where open deals are worked, and the whole history of closed ones is the list view's.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from clientela.contacts.models import Company, CompanyTag, Person, PersonTag
from clientela.core.errors import ValidationFailed
from clientela.sales.models import Deal, DealStageChange, Pipeline, Stage, StageKind, StageTotal
from clientela.sales.services import pipeline_ensure_default
from clientela.timeline.models import Interaction
from clientela.workspaces.models import Membership, User, Workspace
from clientela.workspaces.roles import RECORD_SCOPE, RecordScope

CENT = Decimal("0.01")
COLUMN_SIZE = 20
CLOSED_DAYS = 30  # the won and lost columns of the board show the deals closed in these last days
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# sort name -> model fields, the last always "id" so the order is total (keyset paging needs it)
DEAL_SORTS: dict[str, tuple[str, ...]] = {
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "title": ("title", "id"),
    "-amount": ("-amount", "-id"),
    "amount": ("amount", "id"),
    "board": ("position", "id"),
    "-closed": ("-closed_at", "-id"),
}
STATUSES = tuple(StageKind.values)


# --- scope and query ------------------------------------------------------------------------------


def sees_all_deals(viewer: Membership) -> bool:
    """Whether the member's role sees every deal of the workspace (otherwise only their own)."""
    return RECORD_SCOPE.get(viewer.role) == RecordScope.ALL


def deal_scope(*, workspace: Workspace, viewer: Membership) -> QuerySet[Deal]:
    """Every deal the member may see: all of them, or the ones they own (record scope "own")."""
    deals = Deal.objects.filter(workspace=workspace)
    return deals if sees_all_deals(viewer) else deals.filter(owner_id=viewer.user_id)


@dataclass
class DealQuery:
    """Filters, sort and position of a board, a deal list or the forecast."""

    pipeline: int | None = None
    stage: int | None = None
    status: str = ""  # open, won, lost
    owner: str = ""  # a user id, "me" or "none"
    close_from: dt.date | None = None
    close_to: dt.date | None = None
    tags: list[str] = field(default_factory=list)
    q: str = ""
    sort: str = "-created"
    cursor: str = ""
    page_size: int = PAGE_SIZE

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> DealQuery:
        """Read a query from request parameters; bad values are one ValidationFailed naming them all."""

        def get(name: str) -> str:
            value = params.get(name, "")
            return str(value[-1] if isinstance(value, list) and value else value or "").strip()

        if hasattr(params, "getlist"):
            tags = [str(t).strip() for t in params.getlist("tag") if str(t).strip()]
        else:
            raw = params.get("tag", [])
            tags = [str(t).strip() for t in (raw if isinstance(raw, list) else [raw]) if str(t).strip()]
        query = cls(
            owner=get("owner"),
            tags=tags,
            q=get("q"),
            status=get("status"),
            sort=get("sort") or "-created",
            cursor=get("cursor"),
        )
        errors: dict[str, list[str]] = {}
        for name in ("pipeline", "stage"):
            if get(name):
                if not get(name).isdigit():
                    errors[name] = [_("Enter a whole number.")]
                else:
                    setattr(query, name, int(get(name)))
        for name in ("close_from", "close_to"):
            if get(name):
                parsed = parse_date(get(name))
                if parsed is None:
                    errors[name] = [_("Enter a date as YYYY-MM-DD.")]
                setattr(query, name, parsed)
        if query.owner and query.owner not in ("me", "none") and not query.owner.isdigit():
            errors["owner"] = [_("Enter a member's id, me or none.")]
        if query.status and query.status not in STATUSES:
            errors["status"] = [_("Choose open, won or lost.")]
        if query.sort not in DEAL_SORTS:
            errors["sort"] = [_("Sort by one of: %(sorts)s.") % {"sorts": ", ".join(DEAL_SORTS)}]
        if get("page_size"):
            try:
                query.page_size = max(1, min(MAX_PAGE_SIZE, int(get("page_size"))))
            except ValueError:
                errors["page_size"] = [_("Enter a whole number.")]
        if errors:
            raise ValidationFailed(_("The deal filters are invalid."), fields=errors)
        return query

    def as_params(self, *, board: bool = False) -> dict[str, Any]:
        """The filters as URL parameters (without the cursor; a board link also drops list-only ones)."""
        params: dict[str, Any] = {
            "pipeline": self.pipeline,
            "owner": self.owner,
            "tag": self.tags,
            "q": self.q,
            "close_from": self.close_from.isoformat() if self.close_from else "",
            "close_to": self.close_to.isoformat() if self.close_to else "",
        }
        if not board:
            params.update(stage=self.stage, status=self.status, sort=self.sort)
        return {
            k: v
            for k, v in params.items()
            if v not in ("", [], None) and not (k == "sort" and v == "-created")
        }

    @property
    def is_filtered(self) -> bool:
        return bool(self.owner or self.tags or self.q or self.close_from or self.close_to)


def _filtered(workspace: Workspace, viewer: Membership, query: DealQuery) -> QuerySet[Deal]:
    deals = deal_scope(workspace=workspace, viewer=viewer)
    if query.owner == "me":
        deals = deals.filter(owner_id=viewer.user_id)
    elif query.owner == "none":
        deals = deals.filter(owner__isnull=True)
    elif query.owner.isdigit():
        deals = deals.filter(owner_id=int(query.owner))
    if query.close_from:
        deals = deals.filter(expected_close__gte=query.close_from)
    if query.close_to:
        deals = deals.filter(expected_close__lte=query.close_to)
    for tag in query.tags:
        deals = deals.filter(
            Exists(PersonTag.objects.filter(person_id=OuterRef("person_id"), tag__name__iexact=tag))
            | Exists(CompanyTag.objects.filter(company_id=OuterRef("company_id"), tag__name__iexact=tag))
        )
    if query.q:
        deals = deals.filter(title__icontains=query.q)
    if query.pipeline:
        deals = deals.filter(pipeline_id=query.pipeline)
    if query.stage:
        deals = deals.filter(stage_id=query.stage)
    if query.status:
        deals = deals.filter(stage__kind=query.status)
    return deals


def _board_deals(workspace: Workspace, viewer: Membership, query: DealQuery) -> QuerySet[Deal]:
    """The deals a board reads, filtered; its queries name the pipeline's stages, which are enough (a
    deal is always in a stage of its pipeline), so the pipeline is left out: the planner then sees how
    many rows the stages hold and chooses better (a parallel index-only scan for the totals)."""
    return _filtered(workspace, viewer, replace(query, pipeline=None))


def _board_cards(deals: QuerySet[Deal]) -> QuerySet[Deal]:
    """What a board card shows (``sales_tags.deal_card``) and its keyset needs, nothing more: people and
    companies carry custom fields and search text that 120 cards would otherwise read and decode."""
    return deals.select_related("person", "company", "owner").only(
        "workspace_id",
        "title",
        "version",
        "amount",
        "currency",
        "stage_id",
        "pipeline_id",
        "position",
        "closed_at",
        "stage_entered_at",
        "expected_close",
        "person__first_name",
        "person__last_name",
        "company__name",
        "owner__full_name",
        "owner__email",
    )


def _card_relations(deals: QuerySet[Deal]) -> QuerySet[Deal]:
    return deals.select_related("person", "company", "owner", "stage")


# --- pipelines ------------------------------------------------------------------------------------


def pipeline_list(*, workspace: Workspace, include_archived: bool = False) -> QuerySet[Pipeline]:
    """The workspace's pipelines in their order (the default one is created on first use)."""
    pipelines = Pipeline.objects.filter(workspace=workspace).order_by("position", "id")
    if include_archived:
        pipeline_ensure_default(workspace=workspace)
        return pipelines
    active = pipelines.filter(archived_at__isnull=True)
    if not active:  # evaluates (and keeps) the list: a single query once the workspace has pipelines
        pipeline_ensure_default(workspace=workspace)
        active = active.all()
    return active


def pipeline_get(*, workspace: Workspace, pipeline_id: int | None) -> Pipeline:
    """A pipeline by id (Pipeline.DoesNotExist -> 404), or the default one when ``pipeline_id`` is None."""
    if pipeline_id is None:
        return pipeline_ensure_default(workspace=workspace)
    return Pipeline.objects.get(workspace=workspace, pk=pipeline_id)


def stage_list(*, pipeline: Pipeline, include_retired: bool = False) -> QuerySet[Stage]:
    """A pipeline's stages in board order (retired ones last, when asked for)."""
    stages = Stage.objects.filter(workspace_id=pipeline.workspace_id, pipeline=pipeline)
    if include_retired:
        return stages.order_by(F("retired_at").asc(nulls_first=True), "position", "id")
    return stages.filter(retired_at__isnull=True).order_by("position", "id")


def stage_get(*, workspace: Workspace, stage_id: int) -> Stage:
    return Stage.objects.select_related("pipeline").get(workspace=workspace, pk=stage_id)


# --- board ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str


@dataclass
class Column:
    stage: Stage
    cards: list[Deal] = field(default_factory=list)
    next_cursor: str | None = None
    count: int = 0
    amounts: list[Money] = field(default_factory=list)
    weighted: list[Money] = field(default_factory=list)


@dataclass
class Summary:
    count: int
    amounts: list[Money]
    weighted: list[Money]


@dataclass
class Board:
    pipeline: Pipeline
    columns: list[Column]
    summary: Summary


def board(
    *,
    workspace: Workspace,
    viewer: Membership,
    pipeline: Pipeline,
    query: DealQuery,
    per_column: int = COLUMN_SIZE,
) -> Board:
    """A pipeline's kanban board: each active stage with its totals and the first page of its cards.

    The same queries whatever the number of deals: the stages, one aggregate for the totals (count and
    amount per stage and currency; weighted = amount x the stage's probability), then one query per
    column for its first ``per_column`` cards, each an index range scan of ``deal_ws_board`` that stops
    after ``per_column + 1`` rows (a window over the whole pipeline reads every deal in it).
    """
    stages = list(stage_list(pipeline=pipeline))
    columns = board_totals(workspace=workspace, viewer=viewer, pipeline=pipeline, query=query, stages=stages)
    deals = _board_cards(_board_deals(workspace, viewer, query))
    for column in columns:
        if not column.count:
            continue  # the totals already say it is empty
        order = column_order(column.stage)
        rows = list(_in_column(deals, column.stage).order_by(*order)[: per_column + 1])
        column.cards = rows[:per_column]
        if len(rows) > per_column:
            column.next_cursor = _encode_cursor(column.cards[-1], order)
    return Board(pipeline=pipeline, columns=columns, summary=summarize(columns))


def summarize(columns: list[Column]) -> Summary:
    """The board's count, amount and weighted amount (per currency) from its columns: the open and won
    deals, what the pipeline is worth; the lost column keeps its own totals."""
    columns = [column for column in columns if column.stage.kind != StageKind.LOST]
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    weighted: dict[str, Decimal] = defaultdict(Decimal)
    for column in columns:
        for money in column.amounts:
            amounts[money.currency] += money.amount
        for money in column.weighted:
            weighted[money.currency] += money.amount
    return Summary(sum(c.count for c in columns), _moneys(amounts), _moneys(weighted))


def board_totals(
    *,
    workspace: Workspace,
    viewer: Membership,
    pipeline: Pipeline,
    query: DealQuery,
    stages: list[Stage] | None = None,
) -> list[Column]:
    """Every active stage's count, amount and weighted amount per currency.

    The open columns are read from ``StageTotal`` (kept by triggers) when the query filters on nothing
    but the owner, else aggregated from the deals; the won and lost columns (the last ``CLOSED_DAYS``
    days) are always aggregated, through ``deal_ws_stage_closed_cov``.
    """
    stages = stages if stages is not None else list(stage_list(pipeline=pipeline))
    deals = _board_deals(workspace, viewer, query)
    open_ids = [stage.pk for stage in stages if stage.kind == StageKind.OPEN]
    closed_ids = [stage.pk for stage in stages if stage.kind != StageKind.OPEN]
    rows: list[Any] = []
    if open_ids:
        counted = _counted_totals(workspace, viewer, query, open_ids)
        rows += counted if counted is not None else _aggregate(deals.filter(stage__in=open_ids))
    if closed_ids:
        rows += _aggregate(deals.filter(stage__in=closed_ids, closed_at__gte=closed_since()))
    columns = {stage.pk: Column(stage=stage) for stage in stages}
    amounts: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        columns[row["stage_id"]].count += row["count"]
        amounts[row["stage_id"]][row["currency"]] = row["amount"] or Decimal(0)
    for stage_id, by_currency in amounts.items():
        column = columns[stage_id]
        column.amounts = _moneys(by_currency)
        column.weighted = [
            Money(weigh(m.amount, column.stage.probability), m.currency) for m in column.amounts
        ]
    return list(columns.values())


def _aggregate(deals: QuerySet[Deal]) -> list[dict[str, Any]]:
    """Count and amount per stage and currency (COUNT(*): the covering index answers without the table)."""
    rows = deals.values("stage_id", "currency").annotate(count=Count("*"), amount=Sum("amount")).order_by()
    return [dict(row) for row in rows]


def _counted_totals(
    workspace: Workspace, viewer: Membership, query: DealQuery, stage_ids: list[int]
) -> list[dict[str, Any]] | None:
    """The totals of ``stage_ids`` from ``StageTotal``, as ``_aggregate`` gives them; None when the query
    filters on more than the owner (the counters know nothing else of the deals)."""
    if query.tags or query.q or query.close_from or query.close_to or query.stage or query.status:
        return None
    totals = StageTotal.objects.filter(workspace=workspace, stage_id__in=stage_ids)
    if not sees_all_deals(viewer):
        totals = totals.filter(owner_key=viewer.user_id)
    if query.owner == "me":
        totals = totals.filter(owner_key=viewer.user_id)
    elif query.owner == "none":
        totals = totals.filter(owner_key=0)
    elif query.owner.isdigit():
        totals = totals.filter(owner_key=int(query.owner))
    rows = (
        totals.values("stage_id", "currency")
        .annotate(count=Sum("count"), cents=Sum("amount_cents"))
        .order_by()
    )
    return [{**row, "amount": Decimal(row["cents"]).scaleb(-2)} for row in rows if row["count"]]


def column_page(
    *,
    workspace: Workspace,
    viewer: Membership,
    stage: Stage,
    query: DealQuery,
    cursor: str,
    per_column: int = COLUMN_SIZE,
) -> Column:
    """The next page of a board column after ``cursor`` ("more")."""
    order = column_order(stage)
    deals = _in_column(_filtered(workspace, viewer, query), stage).order_by(*order)
    if cursor:
        deals = deals.filter(_after(order, _decode_cursor(cursor, order)))
    rows = list(_board_cards(deals)[: per_column + 1])
    next_cursor = _encode_cursor(rows[per_column - 1], order) if len(rows) > per_column else None
    return Column(stage=stage, cards=rows[:per_column], next_cursor=next_cursor)


def closed_since(now: dt.datetime | None = None) -> dt.datetime:
    """Since when the board's won and lost columns show closed deals."""
    return (now or timezone.now()) - dt.timedelta(days=CLOSED_DAYS)


def column_order(stage: Stage) -> tuple[str, ...]:
    """A board column's order: where the cards were put for an open stage, the latest closed first else."""
    return DEAL_SORTS["board"] if stage.kind == StageKind.OPEN else DEAL_SORTS["-closed"]


def _in_column(deals: QuerySet[Deal], stage: Stage) -> QuerySet[Deal]:
    deals = deals.filter(stage_id=stage.pk)
    return deals if stage.kind == StageKind.OPEN else deals.filter(closed_at__gte=closed_since())


def column_index_after(*, workspace: Workspace, stage: Stage, after: Deal | None, moving: Deal) -> int:
    """The index (over every deal in ``stage``, ``moving`` left out) just below ``after``; 0 = top.

    Turns "dropped under that card" into the position ``deal_move_stage`` takes, whatever the viewer's
    scope and filters hide.
    """
    if after is None or after.stage_id != stage.pk:
        return 0
    return (
        Deal.objects.filter(workspace=workspace, stage=stage)
        .exclude(pk=moving.pk)
        .filter(Q(position__lt=after.position) | Q(position=after.position, id__lte=after.pk))
        .count()
    )


def weigh(amount: Decimal, probability: Decimal) -> Decimal:
    """The weighted amount: amount x probability (a percentage), to the cent."""
    return (amount * probability / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def _moneys(by_currency: Mapping[str, Decimal]) -> list[Money]:
    return [Money(by_currency[c].quantize(CENT), c) for c in sorted(by_currency)]


# --- lists and single deals -----------------------------------------------------------------------


@dataclass
class Page:
    items: list[Deal]
    next_cursor: str | None


def deal_list(*, workspace: Workspace, viewer: Membership, query: DealQuery) -> Page:
    """One page of the deals matching ``query``, keyset-paginated on the sort key."""
    order = DEAL_SORTS[query.sort]
    deals = _filtered(workspace, viewer, query).order_by(*order)
    if query.cursor:
        deals = deals.filter(_after(order, _decode_cursor(query.cursor, order)))
    rows = list(_card_relations(deals).select_related("pipeline")[: query.page_size + 1])
    next_cursor = _encode_cursor(rows[query.page_size - 1], order) if len(rows) > query.page_size else None
    return Page(rows[: query.page_size], next_cursor)


def deal_get(*, workspace: Workspace, viewer: Membership, deal_id: int, customers: bool = True) -> Deal:
    """A deal the member may see, with its relations (Deal.DoesNotExist -> 404, also for others' deals).

    ``customers=False`` leaves the person and the company to be read when used (the API shows their
    ids only): two joins of wide tables fewer, which PostgreSQL spends a millisecond planning.
    """
    relations = ("pipeline", "stage", "owner") + (("person", "company") if customers else ())
    return deal_scope(workspace=workspace, viewer=viewer).select_related(*relations).get(pk=deal_id)


def deals_for_customer(*, workspace: Workspace, viewer: Membership, record: Person | Company) -> list[Deal]:
    """The open deals of a person or company that the member may see (the card panel)."""
    key = "person" if isinstance(record, Person) else "company"
    return list(
        deal_scope(workspace=workspace, viewer=viewer)
        .filter(**{key: record}, stage__kind=StageKind.OPEN)
        .select_related("stage", "pipeline", "owner")
        .order_by("expected_close", "id")[:20]
    )


@dataclass
class StageSpan:
    """A stay of a deal in a stage: entered, left (None while it is there), and for how long."""

    stage: Stage
    entered_at: dt.datetime
    left_at: dt.datetime | None
    changed_by: User | None

    @property
    def duration(self) -> dt.timedelta:
        return (self.left_at or timezone.now()) - self.entered_at


def deal_stage_history(*, workspace: Workspace, deal: Deal) -> list[StageSpan]:
    """The deal's stages in the order it went through them, with the time spent in each."""
    changes = list(
        DealStageChange.objects.filter(workspace=workspace, deal=deal)
        .select_related("to_stage", "changed_by")
        .order_by("changed_at", "id")
    )
    spans = []
    for i, change in enumerate(changes):
        left_at = changes[i + 1].changed_at if i + 1 < len(changes) else None
        spans.append(StageSpan(change.to_stage, change.changed_at, left_at, change.changed_by))
    return spans


def time_in_stage(deal: Deal, now: dt.datetime | None = None) -> dt.timedelta:
    return (now or timezone.now()) - deal.stage_entered_at


@dataclass
class TimelinePage:
    items: list[Interaction]
    next_cursor: str | None


def deal_timeline(*, workspace: Workspace, deal: Deal, cursor: str = "", page_size: int = 25) -> TimelinePage:
    """The deal's own interactions and its customer's (the person's, else the company's), newest first."""
    condition = Q(source_type=Deal._meta.label_lower, source_id=str(deal.pk))
    if deal.person_id:
        condition |= Q(person_id=deal.person_id)
    elif deal.company_id:
        condition |= Q(company_id=deal.company_id)
    order = ("-occurred_at", "-id")
    interactions = (
        Interaction.objects.filter(condition, workspace=workspace).select_related("actor").order_by(*order)
    )
    if cursor:
        interactions = interactions.filter(_after(order, _decode_cursor(cursor, order)))
    rows = list(interactions[: page_size + 1])
    next_cursor = _encode_cursor(rows[page_size - 1], order) if len(rows) > page_size else None
    return TimelinePage(rows[:page_size], next_cursor)


# --- forecast -------------------------------------------------------------------------------------


@dataclass
class Cell:
    count: int = 0
    amount: Decimal = Decimal("0.00")
    weighted: Decimal = Decimal("0.00")

    def add(self, count: int, amount: Decimal, weighted: Decimal) -> None:
        self.count += count
        self.amount += amount
        self.weighted += weighted


@dataclass
class ForecastRow:
    key: str
    label: str
    currency: str
    cells: list[Cell]
    total: Cell = field(default_factory=Cell)


@dataclass
class Forecast:
    """Open deals' amounts and weighted amounts (amount x stage probability) by expected close month."""

    months: list[dt.date]
    currencies: list[str]
    totals: list[ForecastRow]  # one per currency
    by_owner: list[ForecastRow]
    by_pipeline: list[ForecastRow]
    overdue: dict[str, Cell]  # expected before the first month, still open
    undated: dict[str, Cell]  # no expected close date


def forecast(
    *,
    workspace: Workspace,
    viewer: Membership,
    query: DealQuery,
    start: dt.date | None = None,
    months: int = 6,
) -> Forecast:
    """The weighted pipeline of open deals by expected close month, in total, per owner and per pipeline.

    Amounts are not converted: every row is in one currency, and several currencies give several rows.
    Four queries: the month buckets, the overdue and undated deals, the owners' and pipelines' names.
    """
    first = (start or timezone.localdate()).replace(day=1)
    month_list = [_add_months(first, i) for i in range(max(1, months))]
    end = _add_months(first, len(month_list))
    open_deals = _filtered(workspace, viewer, query).filter(stage__kind=StageKind.OPEN)
    rows = (
        open_deals.filter(expected_close__gte=first, expected_close__lt=end)
        .annotate(month=TruncMonth("expected_close"))
        .values("month", "owner_id", "pipeline_id", "currency", "stage__probability")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by()
    )
    index = {month: i for i, month in enumerate(month_list)}
    totals: dict[str, ForecastRow] = {}
    owners: dict[tuple[str, str], ForecastRow] = {}
    pipelines: dict[tuple[str, str], ForecastRow] = {}

    def row_for(table: dict[tuple[str, str], ForecastRow], key: str, currency: str) -> ForecastRow:
        if (key, currency) not in table:
            table[(key, currency)] = ForecastRow(key, "", currency, [Cell() for _ in month_list])
        return table[(key, currency)]

    for row in rows:
        month = row["month"].date() if isinstance(row["month"], dt.datetime) else row["month"]
        i, currency = index[month], row["currency"]
        amount = row["amount"] or Decimal(0)
        weighted = amount * row["stage__probability"] / 100
        if currency not in totals:
            totals[currency] = ForecastRow("total", _("Total"), currency, [Cell() for _ in month_list])
        targets = (
            totals[currency],
            row_for(owners, str(row["owner_id"] or ""), currency),
            row_for(pipelines, str(row["pipeline_id"]), currency),
        )
        for target in targets:
            target.cells[i].add(row["count"], amount, weighted)
            target.total.add(row["count"], amount, weighted)
    overdue: dict[str, Cell] = defaultdict(Cell)
    undated: dict[str, Cell] = defaultdict(Cell)
    outside = (
        open_deals.filter(Q(expected_close__lt=first) | Q(expected_close__isnull=True))
        .annotate(
            undated=Case(
                When(expected_close__isnull=True, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .values("undated", "currency", "stage__probability")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by()
    )
    for group in outside:
        amount = group["amount"] or Decimal(0)
        bucket = undated if group["undated"] else overdue
        bucket[group["currency"]].add(group["count"], amount, amount * group["stage__probability"] / 100)
    _label_rows(workspace, owners, pipelines)
    result = Forecast(
        months=month_list,
        currencies=sorted(set(totals) | set(overdue) | set(undated)),
        totals=[totals[c] for c in sorted(totals)],
        by_owner=sorted(owners.values(), key=lambda r: (r.currency, -r.total.weighted, r.label)),
        by_pipeline=sorted(pipelines.values(), key=lambda r: (r.currency, -r.total.weighted, r.label)),
        overdue=dict(overdue),
        undated=dict(undated),
    )
    _round(result)
    return result


def _label_rows(
    workspace: Workspace,
    owners: dict[tuple[str, str], ForecastRow],
    pipelines: dict[tuple[str, str], ForecastRow],
) -> None:
    owner_ids = {int(key) for key, _c in owners if key}
    users = {str(u.pk): str(u) for u in User.objects.filter(pk__in=owner_ids)} if owner_ids else {}
    for (key, _c), row in owners.items():
        row.label = users.get(key, _("Nobody"))
    pipeline_ids = {int(key) for key, _c in pipelines}
    names = (
        {str(p.pk): p.name for p in Pipeline.objects.filter(workspace=workspace, pk__in=pipeline_ids)}
        if pipeline_ids
        else {}
    )
    for (key, _c), row in pipelines.items():
        row.label = names.get(key, "")


def _round(result: Forecast) -> None:
    cells = [
        c for rows in (result.totals, result.by_owner, result.by_pipeline) for r in rows for c in r.cells
    ]
    cells += [r.total for rows in (result.totals, result.by_owner, result.by_pipeline) for r in rows]
    cells += list(result.overdue.values()) + list(result.undated.values())
    for cell in cells:
        cell.amount = cell.amount.quantize(CENT, rounding=ROUND_HALF_UP)
        cell.weighted = cell.weighted.quantize(CENT, rounding=ROUND_HALF_UP)


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return dt.date(day.year + month // 12, month % 12 + 1, 1)


# --- keyset paging --------------------------------------------------------------------------------


def _encode_cursor(row: Any, order: tuple[str, ...]) -> str:
    values = []
    for name in order:
        value = getattr(row, name.lstrip("-"))
        if isinstance(value, dt.datetime | dt.date):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        values.append(value)
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, order: tuple[str, ...]) -> list[Any]:
    invalid = ValidationFailed(_("The page cursor is invalid."), fields={"cursor": [_("Invalid.")]})
    try:
        values = list(json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))))
        if len(values) != len(order):
            raise invalid
        decoded = []
        for name, value in zip(order, values, strict=True):
            field_name = name.lstrip("-")
            if field_name in ("created_at", "occurred_at"):
                value = dt.datetime.fromisoformat(value)
            elif field_name == "amount":
                value = Decimal(value)
            elif field_name == "position":
                value = float(value)
            elif field_name == "id":
                value = int(value)
            else:
                value = str(value)
            decoded.append(value)
        return decoded
    except (ValueError, TypeError, ArithmeticError):
        raise invalid from None


def _after(order: tuple[str, ...], values: list[Any]) -> Q:
    """Rows strictly after ``values`` in ``order``: (a > x) or (a = x and b > y) or ..."""
    condition = Q()
    for i, name in enumerate(order):
        op = "lt" if name.startswith("-") else "gt"
        step = Q(**{f"{name.lstrip('-')}__{op}": values[i]})
        for prev_name, prev_value in zip(order[:i], values[:i], strict=True):
            step &= Q(**{prev_name.lstrip("-"): prev_value})
        condition |= step
    return condition
