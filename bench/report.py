"""The report: plain-text tables on stdout and the same numbers as JSON in ``bench/results/latest.json``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.server import ProcessMemory

RESULTS_DIR = Path(__file__).resolve().parent / "results"

_HTTP_COLUMNS = [
    # (title, key, format)
    ("scenario", "scenario", "{}"),
    ("threads", "concurrency", "{}"),
    ("requests", "requests", "{}"),
    ("median ms", "median_ms", "{:.2f}"),
    ("p95 ms", "p95_ms", "{:.2f}"),
    ("requests/s", "requests_per_s", "{:.0f}"),
    ("x floor", "ratio_to_floor", "{:.2f}"),
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


def http_table(title: str, rows: Sequence[dict[str, Any]]) -> str:
    """The HTTP scenarios: one row per scenario and concurrency, as ``Timing.summary()`` returns them."""
    cells = [
        [fmt.format(row[key]) if row[key] is not None else "-" for _title, key, fmt in _HTTP_COLUMNS]
        for row in rows
    ]
    return f"{title}\n{_table([title for title, _key, _fmt in _HTTP_COLUMNS], cells)}"


def memory_table(title: str, processes: Sequence[ProcessMemory], limit_mb: float) -> tuple[str, bool]:
    """Memory of each process, and the total RSS against ``limit_mb``: the text, and whether it passed."""
    rows = [
        [p.role, str(p.pid), f"{p.rss_mb:.1f}", f"{p.pss_mb:.1f}" if p.pss_mb is not None else "-"]
        for p in processes
    ]
    total_rss = sum(p.rss_mb for p in processes)
    pss = [p.pss_mb for p in processes if p.pss_mb is not None]
    total_pss = f"{sum(pss):.1f}" if len(pss) == len(processes) else "-"
    passed = total_rss < limit_mb
    rows.append(["total", "", f"{total_rss:.1f}", total_pss])
    text = _table(["process", "pid", "RSS MiB", "PSS MiB"], rows, left=1)
    verdict = "PASS" if passed else "FAIL"
    return f"{title}\n{text}\n{verdict}: total RSS {total_rss:.1f} MiB, goal under {limit_mb:.0f} MiB", passed


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
