"""``python -m bench`` (``make bench``): Clientela's HTTP scenarios and memory against a real server.

1. A throwaway data directory; SQLite in it, or the PostgreSQL database of ``--database-url``.
2. ``clientela migrate``, the generated data (``bench/data.py``, ``--scale``), an API token.
3. ``clientela serve --web-only``: each scenario (``bench/scenarios.py``), sequential then from
   ``--concurrency`` threads; the first scenario is the floor the others are compared with.
4. ``clientela demo``, then local mode (web + task worker + scheduler): the scenarios again, then the
   resident memory of every process, against the 300 MB goal.
5. The tables on stdout, the numbers in ``bench/results/latest.json``. Every process started is stopped.
"""

from __future__ import annotations

import argparse
import json
import platform
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

from bench import report
from bench.http import Scenario, measure
from bench.scenarios import Context, http_scenarios
from bench.server import REPO_DIR, BenchError, Server, bench_environment, run_clientela, run_command, serving

LOCAL_MODE_ROLES = {"web worker (granian)", "task worker", "scheduler"}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmark Clientela over HTTP against a real server."
    )
    parser.add_argument(
        "--scale", type=int, default=1, help="data size: 1 is one workspace with ~50 members (default 1)"
    )
    parser.add_argument("--requests", type=int, default=300, help="timed requests per scenario (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests first (default 20)")
    parser.add_argument(
        "--concurrency", type=int, default=4, help="threads of the concurrent pass; 1 skips it (default 4)"
    )
    parser.add_argument("--workers", type=int, default=1, help="web worker processes (default 1)")
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="run on this PostgreSQL database (postgres://...), which it fills: use a throwaway one; "
        "default: SQLite in the temporary data directory",
    )
    parser.add_argument("--memory-limit-mb", type=float, default=300, help="local-mode goal (default 300)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the memory goal is missed")
    parser.add_argument(
        "--output",
        type=Path,
        default=report.RESULTS_DIR / "latest.json",
        help="where to write the JSON results (default bench/results/latest.json)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory and logs")
    args = parser.parse_args(argv)
    if args.database_url and urlsplit(args.database_url).scheme not in {"postgres", "postgresql"}:
        parser.error("--database-url must be a postgres:// URL")
    if args.scale < 1 or args.requests < 1 or args.warmup < 0 or args.concurrency < 1 or args.workers < 1:
        parser.error("--scale, --requests, --concurrency and --workers must be positive")
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
    server: Server, scenarios: list[Scenario], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Every scenario, sequential then concurrent; the ratio is to the floor at the same concurrency."""
    rows = []
    for concurrency in sorted({1, args.concurrency}):
        floor_median = None
        for scenario in scenarios:
            timing = measure(
                server.base_url, scenario, requests=args.requests, warmup=args.warmup, concurrency=concurrency
            )
            if scenario.floor:
                floor_median = timing.median_ms
            rows.append(timing.summary(floor_median))
    return rows


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_DIR, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def run(args: argparse.Namespace, data_dir: Path) -> int:
    env = bench_environment(data_dir, args.database_url)
    database = _database_label(args.database_url)
    started = time.perf_counter()

    with step(f"migrate ({database}, data in {data_dir})"):
        run_clientela(env, "migrate", "--verbosity", "0")
    with step(f"generate data at scale {args.scale}"):
        data = json.loads(run_command([sys.executable, "-m", "bench.data", "--scale", str(args.scale)], env))
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
    scenarios = http_scenarios(Context(first["slug"], first["owner_email"], token))

    with (
        step("web only: HTTP scenarios"),
        serving(env, data_dir / "serve-web.log", background=False, workers=args.workers) as server,
    ):
        web_rows = run_scenarios(server, scenarios, args)

    with step("clientela demo"):
        run_clientela(env, "demo")
    with (
        step("local mode (web + worker + scheduler): HTTP scenarios, memory"),
        serving(env, data_dir / "serve-local.log", background=True, workers=args.workers) as server,
    ):
        server.wait_for_processes(LOCAL_MODE_ROLES)
        local_rows = run_scenarios(server, scenarios, args)
        memory = server.memory()

    title = f"{database}, {args.requests} requests per scenario, {args.workers} web worker(s)"
    print()
    print(report.http_table(f"HTTP, web only (clientela serve --web-only) - {title}", web_rows))
    print()
    print(report.http_table(f"HTTP, local mode (web + task worker + scheduler) - {title}", local_rows))
    print()
    memory_text, memory_ok = report.memory_table(
        "Memory, local mode after the scenarios (demo data loaded)", memory, args.memory_limit_mb
    )
    print(memory_text)

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
            "data": data,
            "http": {"web_only": web_rows, "local_mode": local_rows},
            "memory": {
                "processes": [vars(p) for p in memory],
                "total_rss_mb": round(sum(p.rss_mb for p in memory), 1),
                "limit_mb": args.memory_limit_mb,
                "passed": memory_ok,
            },
        },
    )
    print(f"\nResults: {args.output} ({time.perf_counter() - started:.0f} s)")
    return 1 if args.strict and not memory_ok else 0


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
