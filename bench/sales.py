"""The sales scenarios (``--sales``): a kanban board of deals, a deal moved between stages, a 50-line quote.

``python -m bench.sales --deals N`` (run by the harness in the bench environment, after ``bench.data``)
fills the first workspace, ``bench-1``, and prints a JSON summary:

- the default pipeline (``sales.services.pipeline_ensure_default``: four open stages, won, lost) is the
  board of the scenarios; it gets ``N // 10`` open deals (100,000 of 1,000,000, the issue's board) over its
  open stages (40/30/20/10 %) and ``N // 5`` won or lost ones; a second pipeline ("Renewals", created with
  ``pipeline_create``) the rest, a fifth of them open. Amounts in EUR (85 %), USD and HUF, an owner among
  the members, a person for 60 % when there are people. Written without the ORM (``Writer``: ``COPY`` on
  PostgreSQL, ``executemany`` on SQLite), the deal indexes dropped during the load, then
  ``VACUUM (ANALYZE)`` and ``stage_totals_rebuild`` (the load ran with triggers off).
  Positions are distinct within a column (0, 1, 2, ...), as the board leaves them.
- a company and 50 products, and one quote of 50 lines made with ``billing.services.quote_create``.

Running it twice adds nothing (it reads back what exists). The HTTP scenarios (``scenarios()``) are the
board page, the API deal list of one column, the move (``POST /api/v1/deals/{id}/move``, to the top of the
other of two open stages each time, the version taken from the answer) and the quote totals with 50 lines
(``POST /api/v1/quotes/preview``, what the editor's live totals compute). ``floors()`` are their raw SQL
equivalents, for ``bench/inprocess.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    import httpx

    from bench.http import Scenario
    from bench.inprocess import RawDatabase

DEFAULT_DEALS = 20_000
QUICK_DEALS = 20_000
QUOTE_LINES = 50
BOARD_GOAL_MS = 100
MOVE_GOAL_MS = 30
QUOTE_GOAL_MS = 20
RENEWALS = "Renewals"
PRODUCT_PREFIX = "BENCH-Q-"
QUOTE_CUSTOMER = "Bench Quote Customer"
CURRENCIES = ["EUR"] * 17 + ["USD", "HUF", "HUF"]
OPEN_WEIGHTS = [40, 30, 20, 10]
TITLES = [
    "Office chairs",
    "Renewal",
    "Laptops",
    "Consulting",
    "Support plan",
    "Printers",
    "Licences",
    "Fit-out",
]
DEAL_COLUMNS = [
    "id",
    "workspace_id",
    "title",
    "person_id",
    "company_id",
    "pipeline_id",
    "stage_id",
    "amount",
    "currency",
    "expected_close",
    "owner_id",
    "source",
    "lost_reason",
    "notes",
    "position",
    "closed_at",
    "stage_entered_at",
    "version",
    "created_at",
    "updated_at",
]


# --- data ---------------------------------------------------------------------------------------------


def _stages(pipeline: Any) -> tuple[list[Any], list[Any]]:
    from clientela.sales.models import StageKind
    from clientela.sales.selectors import stage_list

    stages = list(stage_list(pipeline=pipeline))
    return [s for s in stages if s.kind == StageKind.OPEN], [s for s in stages if s.kind != StageKind.OPEN]


class DealsBuilder:
    """The deals of ``bench-1``'s two pipelines, written in one transaction; see the module docstring."""

    def __init__(self, workspace: Any, deals: int, seed: int) -> None:
        from django.db import connection
        from django.utils import timezone

        from bench.data import Writer

        self.workspace, self.deals = workspace, deals
        self.rng = random.Random(seed)
        self.writer = Writer(connection)
        self.now = timezone.now().replace(microsecond=0)
        self.positions: dict[int, int] = {}

    def run(self, board: Any, renewals: Any) -> dict[str, Any]:
        from django.db import transaction

        from clientela.contacts.models import Person
        from clientela.workspaces.models import Membership

        self.owner_ids = list(
            Membership.objects.filter(workspace=self.workspace).values_list("user_id", flat=True)
        )
        people = Person.all_workspaces.filter(workspace=self.workspace).order_by("pk")
        self.people = (
            people.values_list("pk", flat=True).first(),
            people.values_list("pk", flat=True).last(),
        )
        board_open, board_closed = self.deals // 10, self.deals // 5
        other = self.deals - board_open - board_closed
        phases: dict[str, float] = {}
        started = time.perf_counter()
        with transaction.atomic(), self.writer.fast_load(["sales_deal"]):
            first = self.writer.max_id("sales_deal") + 1
            stages = (*_stages(board), *_stages(renewals))  # read before the COPY starts
            rows = self._rows(first, stages, board_open, board_closed, other, (board, renewals))
            written = self.writer.write("sales_deal", DEAL_COLUMNS, rows)
            self.writer.sync_sequence("sales_deal")
            phases["deals"] = round(time.perf_counter() - started, 2)
        phases["indexes"] = round(time.perf_counter() - started - phases["deals"], 2)
        if self.writer.postgres:  # what autovacuum does soon after a load: statistics and the visibility map
            with self.writer.connection.cursor() as cursor:
                cursor.execute("VACUUM (ANALYZE) sales_deal")
        else:  # what the scheduler's statistics job does on SQLite
            from clientela.core.jobs import refresh_statistics

            refresh_statistics()
        phases["analyze"] = round(time.perf_counter() - started - sum(phases.values()), 2)
        # The load ran with triggers off on PostgreSQL (``fast_load``): the board's counters from the deals.
        from clientela.sales.services import stage_totals_rebuild

        stage_totals_rebuild(workspace=self.workspace)
        phases["stage totals"] = round(time.perf_counter() - started - sum(phases.values()), 2)
        return {"deals": written, "board_open": board_open, "phases_s": phases}

    def _rows(
        self,
        first: int,
        stages: tuple[list[Any], ...],
        board_open: int,
        board_closed: int,
        other: int,
        pipelines: tuple[Any, Any],
    ) -> Iterator[tuple[Any, ...]]:
        """The rows, generated as ``COPY`` takes them: no query in here (the connection is busy copying)."""
        rng = self.rng
        pk = first
        board, renewals = pipelines
        board_stages, board_done, renewal_stages, renewal_done = stages
        plan = [
            (board, board_stages, board_done, board_open, board_closed),
            (renewals, renewal_stages, renewal_done, other // 5, other - other // 5),
        ]
        for pipeline, open_stages, done_stages, open_count, closed_count in plan:
            weights = OPEN_WEIGHTS[: len(open_stages)] or [1]
            for n in range(open_count + closed_count):
                stage = rng.choices(open_stages, weights)[0] if n < open_count else rng.choice(done_stages)
                yield self._row(pk, pipeline, stage, n < open_count)
                pk += 1
                if (pk - first) % 200_000 == 0:
                    print(f"bench.sales: {pk - first:,} of {self.deals:,} deals", file=sys.stderr, flush=True)

    def _row(self, pk: int, pipeline: Any, stage: Any, is_open: bool) -> tuple[Any, ...]:
        w, rng = self.writer, self.rng
        created = self.now - dt.timedelta(seconds=rng.randint(3600, 700 * 86400))
        entered = created + (self.now - created) * rng.random() / 2
        position = self.positions.get(stage.pk, 0)
        self.positions[stage.pk] = position + 1
        person = None
        low, high = self.people
        if low is not None and high is not None and rng.random() < 0.6:
            person = rng.randint(low, high)
        closed = None if is_open else entered
        close_day = (
            (self.now + dt.timedelta(days=rng.randint(-60, 240))).date() if is_open else entered.date()
        )
        amount = Decimal(rng.randint(10_000, 5_000_000)) / 100
        return (
            pk,
            self.workspace.pk,
            f"{rng.choice(TITLES)} {pk}",
            person,
            None,
            pipeline.pk,
            stage.pk,
            amount if w.postgres else str(amount),
            rng.choice(CURRENCIES),
            w.value(close_day) if rng.random() < 0.9 else None,
            rng.choice(self.owner_ids) if self.owner_ids and rng.random() < 0.95 else None,
            "",
            "Price" if stage.kind == "lost" else "",
            "",
            float(position),
            w.value(closed),
            w.value(entered),
            1,
            w.value(created),
            w.value(entered),
        )


def _quote(workspace: Any, owner: Any) -> dict[str, Any]:
    """A company, 50 products and one quote with a line of each (made once; read back afterwards)."""
    from clientela.billing import services
    from clientela.billing.models import Document, Product
    from clientela.contacts.models import Company

    company = Company.objects.filter(workspace=workspace, name=QUOTE_CUSTOMER).first()
    if company is None:
        company = Company.objects.create(workspace=workspace, name=QUOTE_CUSTOMER)
    products = list(
        Product.objects.filter(workspace=workspace, code__startswith=PRODUCT_PREFIX).order_by("code")
    )
    if not products:
        rng = random.Random(7)
        products = []
        for n in range(1, QUOTE_LINES + 1):
            price = Decimal(rng.randint(500, 500_000)) / 100
            products.append(
                services.product_create(
                    workspace=workspace,
                    actor=None,
                    attributes={
                        "code": f"{PRODUCT_PREFIX}{n:02d}",
                        "name": f"Bench product {n}",
                        "unit": "pc",
                        "cost": (price * Decimal("0.6")).quantize(Decimal("0.01")),
                        "price": price,
                        "tax_category": "standard" if n % 5 else "reduced",
                    },
                )
            )
    lines = [
        {"product": p.pk, "quantity": str(1 + i % 12), "discount_percent": str([0, 0, 5, 10][i % 4])}
        for i, p in enumerate(products)
    ]
    quote = Document.objects.filter(workspace=workspace, kind="quote", company=company).order_by("pk").first()
    if quote is None:
        quote = services.quote_create(
            workspace=workspace,
            actor=owner,
            header=services.DocumentHeader(company_id=company.pk),
            lines=[
                services.LineIn(
                    product_id=line["product"],
                    quantity=line["quantity"],
                    discount_percent=line["discount_percent"],
                )
                for line in lines
            ],
        )
    return {"company_id": company.pk, "quote_id": quote.pk, "lines": lines, "gross": str(quote.gross)}


def generate(deals: int, seed: int = 20261123) -> dict[str, Any]:
    """The deals and the quote in ``bench-1`` (what is missing of them), and what the scenarios need."""
    from bench.data import _owner_email, _slug
    from clientela.core.tenancy import workspace_scope
    from clientela.sales import services
    from clientela.sales.models import Deal, Pipeline
    from clientela.workspaces.models import User, Workspace

    workspace = Workspace.objects.get(slug=_slug(1))
    owner = User.objects.get(email=_owner_email(1))
    started = time.perf_counter()
    with workspace_scope(workspace):
        board = services.pipeline_ensure_default(workspace=workspace)
        renewals = Pipeline.objects.filter(workspace=workspace, name=RENEWALS).first()
        if renewals is None:
            renewals = services.pipeline_create(workspace=workspace, actor=None, name=RENEWALS)
        created: dict[str, Any] = {"deals": 0, "phases_s": {}}
        if deals > 0 and not Deal.objects.filter(workspace=workspace).exists():
            created = DealsBuilder(workspace, deals, seed).run(board, renewals)
        quote = _quote(workspace, owner)
        open_stages, _done = _stages(board)
        a, b = open_stages[0], open_stages[1]
        mover = Deal.objects.filter(workspace=workspace, stage__in=[a, b]).order_by("-position", "id").first()
        in_board = Deal.objects.filter(workspace=workspace, pipeline=board)
        summary = {
            "pipeline_id": board.pk,
            "stage_ids": [a.pk, b.pk],
            "open_stage_ids": [s.pk for s in open_stages],
            "move_deal_id": mover.pk if mover else None,
            "deals_total": Deal.objects.filter(workspace=workspace).count(),
            "board_deals": in_board.count(),
            "board_open": in_board.filter(stage__kind="open").count(),
            "created": created,
            "seconds": round(time.perf_counter() - started, 2),
            **quote,
        }
    return summary


# --- scenarios ----------------------------------------------------------------------------------------


class Mover:
    """The move scenario's state: one deal going to the top of the other of two stages on each request,
    with the version of the last answer (read once with a GET before the first move of a pass)."""

    def __init__(self, deal_id: int, stage_ids: Sequence[int], headers: dict[str, str]) -> None:
        self.deal_id, self.stage_ids, self.headers = deal_id, list(stage_ids), headers
        self.version = 0
        self.stage = 0
        self.lock = threading.Lock()

    def prepare(self, client: httpx.Client) -> None:
        response = client.get(f"/api/v1/deals/{self.deal_id}", headers=self.headers)
        response.raise_for_status()
        self.on_response(response)

    def body(self, i: int) -> dict[str, Any]:
        with self.lock:
            target = self.stage_ids[1] if self.stage == self.stage_ids[0] else self.stage_ids[0]
            return {"stage": target, "position": 0, "version": self.version}

    def on_response(self, response: httpx.Response) -> None:
        data = response.json()
        with self.lock:
            self.version, self.stage = (
                data["version"],
                data["stage"]["id"] if isinstance(data["stage"], dict) else data["stage"],
            )


def scenarios(summary: dict[str, Any], token: str, session_cookie: str) -> list[Scenario]:
    from bench.http import Scenario

    bearer = {"Authorization": f"Bearer {token}"}
    session = {"Cookie": session_cookie}
    board_open = summary["board_open"]
    result = [
        Scenario(
            f"deals board page ({board_open:,} open)",
            f"/deals/?{urlencode({'pipeline': summary['pipeline_id']})}",
            headers=session,
            sql_floor="board",
            count_queries=True,
            goal_p95_ms=BOARD_GOAL_MS,
        ),
        Scenario(
            "api deals of a column (board order, 50)",
            "/api/v1/deals?"
            + urlencode({"stage": summary["stage_ids"][0], "sort": "board", "page_size": 50}),
            headers=bearer,
            sql_floor="board column",
            count_queries=True,
        ),
    ]
    if summary.get("move_deal_id"):
        mover = Mover(summary["move_deal_id"], summary["stage_ids"], bearer)
        result.append(
            Scenario(
                "api move a deal (other stage, top)",
                f"/api/v1/deals/{summary['move_deal_id']}/move",
                headers=bearer,
                method="POST",
                body=mover.body,
                prepare=mover.prepare,
                on_response=mover.on_response,
                concurrent=False,  # one deal, one version: concurrent moves would be 409s
                count_queries=True,
                goal_p95_ms=MOVE_GOAL_MS,
            )
        )
    body = {"company": summary["company_id"], "lines": summary["lines"]}
    result.append(
        Scenario(
            f"api quote totals ({len(summary['lines'])} lines)",
            "/api/v1/quotes/preview",
            headers=bearer,
            method="POST",
            body=lambda i: body,
            sql_floor="quote preview (service)",
            count_queries=True,
            goal_p95_ms=QUOTE_GOAL_MS,
        )
    )
    return result


def move_body(deal_id: int, stage_ids: Sequence[int]) -> dict[str, Any]:
    """In-process: the body of the next move of ``deal_id``, from its current stage and version."""
    from clientela.sales.models import Deal

    stage_id, version = Deal.all_workspaces.filter(pk=deal_id).values_list("stage_id", "version").get()
    return {
        "stage": stage_ids[1] if stage_id == stage_ids[0] else stage_ids[0],
        "position": 0,
        "version": version,
    }


# --- floors -------------------------------------------------------------------------------------------


def floors(
    db: RawDatabase, workspace_id: int, summary: dict[str, Any]
) -> tuple[dict[str, Callable[[int], object]], dict[str, str]]:
    """What the board reads, by hand: its totals (counts and amounts per stage and currency of the open
    stages from their counters, of the deals closed in the last ``CLOSED_DAYS`` days in the won and lost
    ones by an aggregate), the first
    cards of every column (one ``LIMIT`` query each), a column's first page, and the quote preview as a
    service call (no HTTP)."""
    from django.utils import timezone

    from clientela.sales.models import Stage, StageKind
    from clientela.sales.selectors import CLOSED_DAYS

    stages = list(
        Stage.all_workspaces.filter(pipeline_id=summary["pipeline_id"], retired_at__isnull=True)
        .order_by("position", "id")
        .values_list("pk", "kind")
    )
    open_ids = [pk for pk, kind in stages if kind == StageKind.OPEN]
    closed_ids = [pk for pk, kind in stages if kind != StageKind.OPEN]
    since: Any = timezone.now() - dt.timedelta(days=CLOSED_DAYS)
    if not db.postgres:  # as Django stores it in SQLite: UTC, no zone
        since = since.replace(tzinfo=None).isoformat(sep=" ")
    pipeline = summary["pipeline_id"]

    def marks(ids: list[int]) -> str:
        return ", ".join(["%s"] * len(ids))

    totals = [
        (  # the open columns: the counters the triggers keep (``sales.StageTotal``)
            "SELECT stage_id, currency, SUM(count), SUM(amount_cents) FROM sales_stagetotal "  # noqa: S608
            f"WHERE workspace_id = %s AND stage_id IN ({marks(open_ids)}) GROUP BY stage_id, currency",
            [workspace_id, *open_ids],
        ),
        (
            "SELECT stage_id, currency, COUNT(*), SUM(amount) FROM sales_deal "  # noqa: S608
            f"WHERE workspace_id = %s AND pipeline_id = %s AND stage_id IN ({marks(closed_ids)}) "
            "AND closed_at >= %s GROUP BY stage_id, currency",
            [workspace_id, pipeline, *closed_ids, since],
        ),
    ]
    open_cards = (
        "SELECT * FROM sales_deal WHERE workspace_id = %s AND pipeline_id = %s AND stage_id = %s "
        "ORDER BY position, id LIMIT 21"
    )
    closed_cards = (
        "SELECT * FROM sales_deal WHERE workspace_id = %s AND pipeline_id = %s AND stage_id = %s "
        "AND closed_at >= %s ORDER BY closed_at DESC, id DESC LIMIT 21"
    )
    cards = [(open_cards, [workspace_id, pipeline, pk]) for pk in open_ids] + [
        (closed_cards, [workspace_id, pipeline, pk, since]) for pk in closed_ids
    ]
    column = (
        "SELECT * FROM sales_deal WHERE workspace_id = %s AND stage_id = %s ORDER BY position, id LIMIT 51"
    )

    def run_all(statements: list[tuple[str, list[Any]]]) -> Callable[[int], object]:
        return lambda i: [db.fetch(sql, params) for sql, params in statements]

    runs: dict[str, Callable[[int], object]] = {
        "board": run_all(totals + cards),
        "board totals": run_all(totals),
        "board cards": run_all(cards),
        "board column": lambda i: db.fetch(column, [workspace_id, summary["stage_ids"][0]]),
        "quote preview (service)": _preview_call(workspace_id, summary),
    }
    texts = {
        "board": "board totals, then board cards",
        "board totals": "; ".join(sql for sql, _params in totals),
        "board cards": f"{len(open_ids)} x {open_cards}; {len(closed_ids)} x {closed_cards}",
        "board column": column,
        "quote preview (service)": "billing.services.document_preview(50 lines), in-process, no HTTP",
    }
    return runs, texts


def _preview_call(workspace_id: int, summary: dict[str, Any]) -> Callable[[int], object]:
    from clientela.billing import services
    from clientela.core.tenancy import workspace_scope
    from clientela.workspaces.models import Workspace

    workspace = Workspace.objects.get(pk=workspace_id)
    header = services.DocumentHeader(company_id=summary["company_id"])
    lines = [
        services.LineIn(
            product_id=line["product"], quantity=line["quantity"], discount_percent=line["discount_percent"]
        )
        for line in summary["lines"]
    ]

    def run(i: int) -> object:
        with workspace_scope(workspace):
            preview = services.document_preview(workspace=workspace, header=header, lines=lines)
        if preview.errors:
            raise RuntimeError(f"the quote preview has errors: {preview.errors}")
        return preview

    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sales", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--deals", type=int, default=DEFAULT_DEALS, help=f"deals (default {DEFAULT_DEALS:,})")
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clientela.config.settings")
    import django

    django.setup()
    print(json.dumps(generate(args.deals, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
