"""``python -m bench`` (``make bench``): Clientela's HTTP scenarios and memory against a real server.

1. A throwaway data directory; SQLite in it, or the PostgreSQL database of ``--database-url``.
2. ``clientela migrate``, the generated data (``bench/data.py``: ``--scale`` workspaces, ``--people`` and
   ``--interactions`` in the first), an API token and a signed-in session.
3. ``clientela serve --web-only``: each scenario (``bench/scenarios.py``), sequential then from
   ``--concurrency`` threads; the first scenario is the floor the others are compared with. Then the
   memory of the web processes.
4. In-process (``bench/inprocess.py``): the raw SQL floor of each customers scenario, with the database
   driver alone, and the SQL queries of one request of each.
5. ``clientela demo``, then local mode (web + task worker running the scheduler): the scenarios again,
   then the resident memory of every process, against the 300 MB goal (and 200 MB per web worker).
6. The CSV import (``bench/csv_import.py``), when ``contacts.importing`` offers it: ``import_run`` on
   ``--import-rows`` generated rows, beside a ``COPY`` (or ``executemany``) floor of the same rows.
7. The tables on stdout, the numbers in ``bench/results/latest.json``. Every process started is stopped.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from bench import report, sales
from bench.data import DEFAULT_PEOPLE, INTERACTIONS_PER_PERSON
from bench.http import Scenario, measure
from bench.scenarios import Context, Customers, http_scenarios
from bench.server import (
    REPO_DIR,
    BenchError,
    ProcessMemory,
    Server,
    bench_environment,
    run_clientela,
    run_command,
    serving,
)

LOCAL_MODE_ROLES = {"web worker (granian)", "task worker + scheduler"}
QUICK = {"people": 10_000, "requests": 50, "warmup": 5, "import_rows": 10_000}
DEFAULTS = {"people": DEFAULT_PEOPLE, "requests": 100, "warmup": 10, "import_rows": 100_000}
IMPORT_GOAL_ROWS_PER_S = 10_000
LONG_STEP_TIMEOUT = 4 * 3600  # data generation and the import at a million rows


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmark Clientela over HTTP against a real server."
    )
    parser.add_argument(
        "--scale", type=int, default=1, help="data size: 1 is one workspace with ~50 members (default 1)"
    )
    parser.add_argument(
        "--people",
        type=int,
        help=f"people in the first workspace (default {DEFAULTS['people']:,}; --quick {QUICK['people']:,}; "
        "0 skips the customers scenarios)",
    )
    parser.add_argument(
        "--interactions",
        type=int,
        help=f"interactions spread over them (default {INTERACTIONS_PER_PERSON} per person), "
        "besides the heavy person's 10,000",
    )
    parser.add_argument(
        "--import-rows",
        type=int,
        help=f"rows of the CSV import (default {DEFAULTS['import_rows']:,}; "
        f"--quick {QUICK['import_rows']:,}; 0 skips it)",
    )
    parser.add_argument(
        "--import-seed",
        type=int,
        default=20261124,
        help="seed of the CSV's rows; on a database kept from an earlier run, give another one, or the "
        "rows it imported then are skipped as duplicates now",
    )
    parser.add_argument(
        "--requests", type=int, help=f"timed requests per scenario (default {DEFAULTS['requests']})"
    )
    parser.add_argument("--warmup", type=int, help=f"untimed requests first (default {DEFAULTS['warmup']})")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short run: "
        + ", ".join(f"{key.replace('_', '-')} {value:,}" for key, value in QUICK.items()),
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, help="threads of the concurrent pass; 1 skips it (default 4)"
    )
    parser.add_argument(
        "--sales",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the sales scenarios: deals board, move, quote of 50 lines (default on; --no-sales skips them)",
    )
    parser.add_argument(
        "--deals",
        type=int,
        default=sales.DEFAULT_DEALS,
        help=f"deals in the first workspace with --sales, a tenth of them open on the board "
        f"(default {sales.DEFAULT_DEALS:,})",
    )
    parser.add_argument("--workers", type=int, default=1, help="web worker processes (default 1)")
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="run on this PostgreSQL database (postgres://...), which it fills: use a throwaway one; "
        "default: SQLite in the temporary data directory",
    )
    parser.add_argument("--memory-limit-mb", type=float, default=300, help="local-mode goal (default 300)")
    parser.add_argument(
        "--web-worker-limit-mb", type=float, default=200, help="goal for each web worker (default 200)"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when a memory goal is missed (speed goals only print)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=report.RESULTS_DIR / "latest.json",
        help="where to write the JSON results (default bench/results/latest.json)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory and logs")
    args = parser.parse_args(argv)
    for key, default in DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, QUICK[key] if args.quick else default)
    if args.database_url and urlsplit(args.database_url).scheme not in {"postgres", "postgresql"}:
        parser.error("--database-url must be a postgres:// URL")
    if args.scale < 1 or args.requests < 1 or args.warmup < 0 or args.concurrency < 1 or args.workers < 1:
        parser.error("--scale, --requests, --concurrency and --workers must be positive")
    if (
        args.people < 0
        or args.import_rows < 0
        or args.deals < 0
        or (args.interactions is not None and args.interactions < 0)
    ):
        parser.error("--people, --interactions, --deals and --import-rows cannot be negative")
    return args


def _database_label(database_url: str | None) -> str:
    if not database_url:
        return "SQLite"
    url = urlsplit(database_url)
    return f"PostgreSQL {url.hostname}:{url.port or 5432}{url.path}"  # never the password


@contextmanager
def step(message: str) -> Iterator[None]:
    print(f"bench: {message} ...", end="", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        yield
    except BaseException:
        print(" failed", file=sys.stderr, flush=True)
        raise
    print(f" {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)


def run_scenarios(
    server: Server, scenarios: list[Scenario], args: argparse.Namespace, *, concurrent_customers: bool = True
) -> list[dict[str, Any]]:
    """Every scenario, sequential then concurrent; the ratio is to the floor at the same concurrency.
    ``concurrent_customers=False`` leaves the customers scenarios (those with a SQL floor) out of the
    concurrent pass (local mode: the web-only run has their concurrent numbers; it saves minutes).

    A scenario answering an unexpected status is not timed: its row says ERROR (and the bench goes on
    with the others, so that one broken page does not lose a long run); a broken floor stops the bench.
    """
    rows: list[dict[str, Any]] = []
    for concurrency in sorted({1, args.concurrency}):
        floor_median = None
        for scenario in scenarios:
            if concurrency > 1 and (
                not scenario.concurrent or (scenario.sql_floor and not concurrent_customers)
            ):
                continue
            try:
                timing = measure(
                    server.base_url,
                    scenario,
                    requests=args.requests,
                    warmup=args.warmup,
                    concurrency=concurrency,
                )
            except BenchError as exc:
                if scenario.floor:
                    raise
                cause = _last_exception(server.log_tail(300))
                message = " ".join((f"{cause} (server log); {exc}" if cause else str(exc)).split())[:500]
                print(f"\nbench: {message}", file=sys.stderr)
                rows.append({"scenario": scenario.name, "concurrency": concurrency, "error": message})
                continue
            if scenario.floor:
                floor_median = timing.median_ms
            rows.append(timing.summary(floor_median))
    return rows


def _last_exception(log: str) -> str:
    """The last ``SomeError: message`` line of a server log (the cause of a 500), or ``""``."""
    lines = [
        line for line in log.splitlines() if re.match(r"^[\w.]+(Error|Exception|DoesNotExist)\b.*:", line)
    ]
    return lines[-1].strip()[:300] if lines else ""


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_DIR, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def _customers(data: dict[str, Any]) -> Customers | None:
    summary = data.get("customers")
    if not summary:
        return None
    session = data["session"]
    return Customers(
        heavy_person_id=summary["heavy_person_id"],
        session_cookie=f"{session['cookie_name']}={session['key']}",
        name_fragments=summary["name_fragments"],
        phones=summary["phones_national"],
        emails=summary["emails"],
    )


def measure_in_process(
    env: dict[str, str],
    data_dir: Path,
    ctx: Context,
    scenarios: list[Scenario],
    data: dict[str, Any],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Raw SQL floors and queries per request (``bench/inprocess.py``), with no server running."""
    spec = {
        "workspace_slug": ctx.workspace_slug,
        "requests": args.requests,
        "warmup": args.warmup,
        "customers": data["customers"],
        "sales": data.get("sales"),
        "scenarios": [
            {
                "name": s.name,
                "paths": list(s.paths or (s.path,)),
                "headers": dict(s.headers),
                "method": s.method,
                # The move's body depends on the deal's current version: inprocess reads it (``move``).
                "body": s.body(0) if s.body is not None and s.prepare is None else None,
                "move": "move" in s.path and s.method == "POST",
            }
            for s in scenarios
            if s.count_queries
        ],
    }
    spec_path = data_dir / "inprocess.json"
    spec_path.write_text(json.dumps(spec))
    result: dict[str, Any] = json.loads(
        run_command([sys.executable, "-m", "bench.inprocess", str(spec_path)], env, timeout=LONG_STEP_TIMEOUT)
    )
    return result


def csv_import(env: dict[str, str], data_dir: Path, ctx: Context, args: argparse.Namespace) -> dict[str, Any]:
    """The CSV import scenario; ``{"not_run": why}`` when the import pipeline is missing or fails."""
    path = data_dir / "bench-people.csv"
    module = [sys.executable, "-m", "bench.csv_import"]
    try:
        with step(f"CSV import: write {args.import_rows:,} rows"):
            written = json.loads(
                run_command(
                    [
                        *module,
                        "write",
                        str(path),
                        "--rows",
                        str(args.import_rows),
                        "--workspace",
                        ctx.workspace_slug,
                        "--seed",
                        str(args.import_seed),
                    ],
                    env,
                    timeout=LONG_STEP_TIMEOUT,
                )
            )
        with step("CSV import: floor (bulk load of the same rows)"):
            floor = json.loads(run_command([*module, "floor", str(path)], env, timeout=LONG_STEP_TIMEOUT))
        with step("CSV import: import_upload, import_start, import_run"):
            result = json.loads(
                run_command(
                    [
                        *module,
                        "run",
                        str(path),
                        "--workspace",
                        ctx.workspace_slug,
                        "--email",
                        ctx.owner_email,
                    ],
                    env,
                    timeout=LONG_STEP_TIMEOUT,
                )
            )
    except BenchError as exc:
        return {"not_run": f"the import failed: {exc}"}
    if "not_run" in result:
        return result
    return {"file": written, "floor": floor, "import": result, "goal_rows_per_s": IMPORT_GOAL_ROWS_PER_S}


def _memory_json(memory: list[ProcessMemory], passed: bool, args: argparse.Namespace) -> dict[str, Any]:
    return {
        "processes": [vars(p) for p in memory],
        "total_rss_mb": round(sum(p.rss_mb for p in memory), 1),
        "limit_mb": args.memory_limit_mb,
        "web_worker_limit_mb": args.web_worker_limit_mb,
        "passed": passed,
    }


def _data_line(data: dict[str, Any]) -> str:
    customers = data.get("customers") or {}
    created = data["created"]
    phases = ", ".join(f"{name} {seconds} s" for name, seconds in data.get("customers_phases_s", {}).items())
    line = (
        f"Data: {customers.get('people_total', 0):,} people, {created.get('companies', 0):,} companies and "
        f"{created.get('interactions', 0):,} interactions created in {data['seconds']:.1f} s "
        f"({phases or 'nothing new'})"
    )
    if customers:
        line += (
            f"; heavy person {customers['heavy_person_id']} with {customers['heavy_interactions']:,} "
            "interactions"
        )
    return line


def _sales_line(summary: dict[str, Any]) -> str:
    created = summary["created"]
    phases = ", ".join(f"{name} {seconds} s" for name, seconds in created.get("phases_s", {}).items())
    return (
        f"Sales: {summary['deals_total']:,} deals ({created.get('deals', 0):,} created: "
        f"{phases or 'nothing new'}); board pipeline {summary['pipeline_id']} with "
        f"{summary['board_deals']:,} deals, {summary['board_open']:,} open; move deal "
        f"{summary['move_deal_id']} between stages {summary['stage_ids']}; quote {summary['quote_id']} "
        f"with {len(summary['lines'])} lines "
        f"(gross {summary['gross']}); data in {summary['seconds']:.1f} s"
    )


def _misses(rows: list[dict[str, Any]]) -> list[str]:
    misses = []
    for row in rows:
        if row.get("verdict") == "MISS":
            misses.append(
                f"{row['scenario']}: p95 {row['p95_ms']:.1f} ms, goal under {row['goal_p95_ms']:.0f} ms"
            )
        elif row.get("error") and row["concurrency"] == 1:
            misses.append(f"{row['scenario']}: not measured, {row['error'][:300]}")
    return misses


def run(args: argparse.Namespace, data_dir: Path) -> int:
    env = bench_environment(data_dir, args.database_url)
    database = _database_label(args.database_url)
    started = time.perf_counter()

    with step(f"migrate ({database}, data in {data_dir})"):
        run_clientela(env, "migrate", "--verbosity", "0")
    interactions = [] if args.interactions is None else ["--interactions", str(args.interactions)]
    with step(f"generate data at scale {args.scale}, {args.people:,} people"):
        data = json.loads(
            run_command(
                [
                    sys.executable,
                    "-m",
                    "bench.data",
                    "--scale",
                    str(args.scale),
                    "--people",
                    str(args.people),
                    *interactions,
                ],
                env,
                timeout=LONG_STEP_TIMEOUT,
                show_progress=True,
            )
        )
    first = data["workspaces"][0]
    token = run_clientela(
        env,
        "token",
        "create",
        "--workspace",
        first["slug"],
        "--email",
        first["owner_email"],
        "--name",
        "bench",
    ).strip()
    ctx = Context(first["slug"], first["owner_email"], token, _customers(data))
    scenarios = http_scenarios(ctx)
    if args.sales:
        with step(f"generate sales data: {args.deals:,} deals, a quote of {sales.QUOTE_LINES} lines"):
            data["sales"] = json.loads(
                run_command(
                    [sys.executable, "-m", "bench.sales", "--deals", str(args.deals)],
                    env,
                    timeout=LONG_STEP_TIMEOUT,
                    show_progress=True,
                )
            )
        session = data["session"]
        scenarios += sales.scenarios(data["sales"], token, f"{session['cookie_name']}={session['key']}")

    with (
        step("web only: HTTP scenarios"),
        serving(env, data_dir / "serve-web.log", background=False, workers=args.workers) as server,
    ):
        web_rows = run_scenarios(server, scenarios, args)
        web_memory = server.memory()

    inprocess: dict[str, Any] = {"floors": {}, "queries": {}}
    if ctx.customers is not None or data.get("sales"):
        with step("in-process: raw SQL floors, queries per request"):
            inprocess = measure_in_process(env, data_dir, ctx, scenarios, data, args)

    with step("clientela demo"):
        run_clientela(env, "demo")
    with (
        step("local mode (web + worker with the scheduler): HTTP scenarios, memory"),
        serving(env, data_dir / "serve-local.log", background=True, workers=args.workers) as server,
    ):
        server.wait_for_processes(LOCAL_MODE_ROLES)
        local_rows = run_scenarios(server, scenarios, args, concurrent_customers=False)
        memory = server.memory()

    imported: dict[str, Any] = {"not_run": "--import-rows 0"}
    if args.import_rows and ctx.customers is not None:
        imported = csv_import(env, data_dir, ctx, args)

    floors, queries = inprocess["floors"], inprocess["queries"]
    web_rows = report.annotate(web_rows, scenarios, floors, queries)
    local_rows = report.annotate(local_rows, scenarios, floors, queries)
    title = f"{database}, {args.requests} requests per scenario, {args.workers} web worker(s)"
    print()
    print(_data_line(data))
    if data.get("sales"):
        print(_sales_line(data["sales"]))
    print()
    print(report.http_table(f"HTTP, web only (clientela serve --web-only) - {title}", web_rows))
    print()
    print(
        report.http_table(f"HTTP, local mode (web + task worker running the scheduler) - {title}", local_rows)
    )
    if floors:
        print()
        print(report.floors_table("Raw SQL floors (database driver in-process, same run)", floors))
    print()
    web_memory_text, web_memory_ok = report.memory_table(
        "Memory, web only after the scenarios", web_memory, None, args.web_worker_limit_mb
    )
    print(web_memory_text)
    print()
    memory_text, memory_ok = report.memory_table(
        "Memory, local mode after the scenarios (demo data loaded)",
        memory,
        args.memory_limit_mb,
        args.web_worker_limit_mb,
    )
    print(memory_text)
    print()
    if "not_run" in imported:
        print(f"CSV import: skipped ({imported['not_run']})")
    else:
        print(
            report.import_table(
                f"CSV import of {imported['import']['rows']:,} rows "
                f"({imported['file']['bytes'] / 2**20:.0f} MiB)",
                imported["import"],
                imported["floor"],
                IMPORT_GOAL_ROWS_PER_S,
            )
        )
        for note in imported["import"].get("notes", []):
            print(f"note: {note}")
    misses = _misses(web_rows)
    print()
    print(
        "Speed goals (set for PostgreSQL at 1,000,000 people, one client): "
        + ("all met in this run." if not misses else "missed by " + "; ".join(misses))
    )

    report.write_json(
        args.output,
        {
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 1),
            "commit": _git_commit(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "database": database,
            "args": {
                key: value for key, value in vars(args).items() if key not in {"database_url", "output"}
            },
            "data": {key: value for key, value in data.items() if key != "session"},
            "http": {"web_only": web_rows, "local_mode": local_rows},
            "sql_floors": floors,
            "queries": queries,
            "csv_import": imported,
            "memory": {
                "web_only": _memory_json(web_memory, web_memory_ok, args),
                "local_mode": _memory_json(memory, memory_ok, args),
            },
        },
    )
    print(f"\nResults: {args.output} ({time.perf_counter() - started:.0f} s)")
    errors = any(row.get("error") for row in [*web_rows, *local_rows])
    return 1 if args.strict and (errors or not (memory_ok and web_memory_ok)) else 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds through the ``serving()`` blocks, which stop the servers


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # Ctrl-C and SIGTERM stop the bench and what it started (even where the shell ignored SIGINT).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    data_dir = Path(tempfile.mkdtemp(prefix="clientela-bench-"))
    try:
        return run(args, data_dir)
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"bench: data and server logs kept in {data_dir}", file=sys.stderr)
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
