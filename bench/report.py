"""The report: plain-text tables on stdout and the same numbers as JSON in ``bench/results/latest.json``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.server import ProcessMemory

RESULTS_DIR = Path(__file__).resolve().parent / "results"
WEB_WORKER = "web worker (granian)"

_HTTP_COLUMNS = [
    # (title, key, format)
    ("scenario", "scenario", "{}"),
    ("threads", "concurrency", "{}"),
    ("requests", "requests", "{}"),
    ("median ms", "median_ms", "{:.2f}"),
    ("p95 ms", "p95_ms", "{:.2f}"),
    ("requests/s", "requests_per_s", "{:.0f}"),
    ("x floor", "ratio_to_floor", "{:.2f}"),
    ("SQL ms", "sql_floor_ms", "{:.3f}"),
    ("x SQL", "ratio_to_sql", "{:.1f}"),
    ("queries", "queries", "{}"),
    ("goal p95", "goal_p95_ms", "<{:.0f}"),
    ("", "verdict", "{}"),
]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> str:
    """Columns sized to fit; the first ``left`` columns aligned left, the others right."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i < left else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def annotate(
    rows: list[dict[str, Any]],
    scenarios: Sequence[Any],
    floors: dict[str, dict[str, Any]],
    queries: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    """Add the SQL floor (and ``ratio_to_sql``: median over the floor's median), the queries per request
    and the goal with its verdict (sequential rows only: the goals are for one client) to each row."""
    by_name = {scenario.name: scenario for scenario in scenarios}
    annotated = []
    for row in rows:
        scenario = by_name.get(row["scenario"])
        floor = floors.get(scenario.sql_floor) if scenario and scenario.sql_floor else None
        goal = scenario.goal_p95_ms if scenario else None
        verdict = None
        if row.get("error"):
            verdict = "ERROR"
        elif goal is not None and row["concurrency"] == 1:
            verdict = "ok" if row["p95_ms"] < goal else "MISS"
        annotated.append(
            {
                **row,
                "sql_floor": scenario.sql_floor if scenario and floor else None,
                "sql_floor_ms": floor["median_ms"] if floor else None,
                "ratio_to_sql": round(row["median_ms"] / floor["median_ms"], 1)
                if floor and floor["median_ms"] and row.get("median_ms")
                else None,
                "queries": queries.get(row["scenario"], {}).get("count"),
                "goal_p95_ms": goal,
                "verdict": verdict,
            }
        )
    return annotated


def http_table(title: str, rows: Sequence[dict[str, Any]]) -> str:
    """The HTTP scenarios: one row per scenario and concurrency, as ``Timing.summary()`` returns them."""
    cells = [
        [fmt.format(row[key]) if row.get(key) is not None else "-" for _title, key, fmt in _HTTP_COLUMNS]
        for row in rows
    ]
    return f"{title}\n{_table([title for title, _key, _fmt in _HTTP_COLUMNS], cells)}"


def floors_table(title: str, floors: dict[str, dict[str, Any]]) -> str:
    """The raw SQL floors: median and p95 of each query, run with the database driver alone."""
    rows = [
        [name, str(floor["requests"]), f"{floor['median_ms']:.3f}", f"{floor['p95_ms']:.3f}"]
        for name, floor in floors.items()
    ]
    return f"{title}\n{_table(['SQL floor', 'runs', 'median ms', 'p95 ms'], rows)}"


def import_table(title: str, result: dict[str, Any], floor: dict[str, Any], goal_rows_per_s: float) -> str:
    """The CSV import beside its floor, and the memory of the importing process."""
    ratio = floor["rows_per_s"] / result["rows_per_s"] if result.get("rows_per_s") else None
    rows = [
        [
            "import_run (normalise, dedupe, write)",
            f"{result['rows']:,}",
            f"{result['seconds']:.1f}",
            f"{result['rows_per_s']:,.0f}",
            f"{ratio:.0f}x slower" if ratio else "-",
            f"{result['peak_rss_mb']:.0f}",
            f">={goal_rows_per_s:,.0f} rows/s",
            "ok" if result["rows_per_s"] >= goal_rows_per_s else "MISS",
        ],
        [
            f"floor: {floor['method']}",
            f"{floor['rows']:,}",
            f"{floor['seconds']:.2f}",
            f"{floor['rows_per_s']:,.0f}",
            "1",
            "-",
            "",
            "",
        ],
    ]
    table = _table(["step", "rows", "seconds", "rows/s", "x floor", "peak RSS MiB", "goal", ""], rows)
    counts = (
        f"created {result['created']:,}, skipped (duplicates) {result['skipped']:,}, "
        f"updated {result['updated']:,}, failed rows {result['failed']:,}; status {result['status']}"
    )
    memory = (
        f"memory of the importing process: {result['rss_before_run_mb']:.0f} MiB before import_run, "
        f"up to {result['rss_sampled_max_mb']:.0f} MiB during it "
        f"(+{result['rss_growth_during_run_mb']:.0f}), "
        f"peak RSS {result['peak_rss_mb']:.0f} MiB; anonymous (heap) {result['anonymous_first_mb']:.0f} MiB "
        f"at the start of the run, at most {result['anonymous_max_mb']:.0f} MiB"
    )
    return f"{title}\n{table}\n{counts}\n{memory}"


def memory_table(
    title: str,
    processes: Sequence[ProcessMemory],
    limit_mb: float | None,
    web_worker_limit_mb: float | None = None,
) -> tuple[str, bool]:
    """Memory of each process, and the total RSS against ``limit_mb`` and each web worker's against
    ``web_worker_limit_mb`` (either may be None: no goal): the text, and whether it passed."""
    rows = [
        [p.role, str(p.pid), f"{p.rss_mb:.1f}", f"{p.pss_mb:.1f}" if p.pss_mb is not None else "-"]
        for p in processes
    ]
    total_rss = sum(p.rss_mb for p in processes)
    pss = [p.pss_mb for p in processes if p.pss_mb is not None]
    total_pss = f"{sum(pss):.1f}" if len(pss) == len(processes) else "-"
    rows.append(["total", "", f"{total_rss:.1f}", total_pss])
    text = _table(["process", "pid", "RSS MiB", "PSS MiB"], rows, left=1)
    lines = [title, text]
    passed = True
    if limit_mb is not None:
        ok = total_rss < limit_mb
        passed &= ok
        lines.append(
            f"{'PASS' if ok else 'FAIL'}: total RSS {total_rss:.1f} MiB, goal under {limit_mb:.0f} MiB"
        )
    if web_worker_limit_mb is not None:
        workers = [p for p in processes if p.role == WEB_WORKER]
        for worker in workers:
            ok = worker.rss_mb < web_worker_limit_mb
            passed &= ok
            lines.append(
                f"{'PASS' if ok else 'FAIL'}: web worker {worker.pid} RSS {worker.rss_mb:.1f} MiB, "
                f"goal under {web_worker_limit_mb:.0f} MiB"
            )
        if not workers:
            lines.append("(no web worker found in the process tree)")
    return "\n".join(lines), passed


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
