"""CSV import throughput: ``contacts.importing`` end to end on a generated file, beside a bulk-load floor.

Three commands, each run by the harness in its own process in the bench environment:

- ``write PATH --rows N``: a CSV of people as people make them: names with accents from the four launch
  locales, emails in mixed case, phones in national and international formats, countries by name
  ("Magyarország", "USA"), tags, a company for some; about 4% of the rows repeat an earlier row's email
  (the dedupe within the file), 2% the email of a person already in the workspace (the dedupe against
  the database) and 0.5% have an invalid email (a failed row).
- ``floor PATH``: the same rows loaded without any processing: PostgreSQL ``COPY ... FROM STDIN`` of the
  file into a temporary table, or on SQLite an ``executemany`` of the parsed rows into one.
- ``run PATH``: ``import_upload``, ``import_start`` (skip duplicates, import the valid rows) and
  ``import_run``, timed; ``import_run`` is called here directly, the task queue is left out. Reports
  rows/s, the process's CPU time during the run (every thread: the import reads ahead in one), and its
  memory: resident size before the run, sampled during it, and its peak (``ru_maxrss``).

The scenario needs ``import_upload``, ``import_start`` and ``import_run`` in
``clientela/contacts/importing.py``; when they are missing, ``run`` answers ``{"not_run": why}``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import sqlite3
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

HEADERS = ["First name", "Last name", "Email", "Phone", "Company", "Job title", "Tags", "City", "Country"]
CITIES = {
    "it_IT": ["Milano", "Roma", "Torino", "Napoli", "Bologna", "Forlì"],
    "hu_HU": ["Budapest", "Debrecen", "Szeged", "Pécs", "Győr"],
    "ro_RO": ["București", "Cluj-Napoca", "Iași", "Timișoara", "Brașov"],
    "en_US": ["New York", "Chicago", "Boston", "Austin", "Seattle"],
}
COUNTRIES = {
    "it_IT": ["Italia", "Italy", "IT"],
    "hu_HU": ["Magyarország", "Hungary", "HU"],
    "ro_RO": ["România", "Romania", "RO"],
    "en_US": ["USA", "United States", "US"],
}
TAG_CHOICES = ["", "", "", "VIP", "Newsletter", "Newsletter; Partner", "Trade fair 2026"]
REQUIRED = ("import_upload", "import_start", "import_run")


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clientela.config.settings")
    import django

    django.setup()


def _phone_text(rng: random.Random, locale: str) -> str:
    """A mobile number the way people type it: spaces, dashes, 00 or + prefixes, national for Italy."""
    d = "".join(rng.choices("0123456789", k=9))
    if locale == "it_IT":
        number = f"3{d}"
        return rng.choice(
            [
                number,
                f"{number[:3]} {number[3:6]} {number[6:]}",
                f"+39 {number}",
                f"0039 {number[:3]}-{number[3:]}",
            ]
        )
    if locale == "hu_HU":
        return rng.choice([f"+36 20 {d[:3]} {d[3:7]}", f"0036 20{d[:7]}", f"+36-20-{d[:3]}-{d[3:7]}"])
    if locale == "ro_RO":
        return rng.choice([f"+40 72{d[0]} {d[1:4]} {d[4:7]}", f"0040 72{d[:7]}"])
    return f"+1 ({rng.randint(201, 989)}) 555-01{rng.randint(0, 99):02d}"


def _mixed_case(rng: random.Random, email: str) -> str:
    local, _at, domain = email.partition("@")
    style = rng.random()
    if style < 0.6:
        return email
    if style < 0.9:
        return ".".join(part.capitalize() for part in local.split(".")) + "@" + domain.capitalize()
    return f" {email.upper()} "


def write_csv(path: Path, rows: int, *, seed: int, existing_emails: Sequence[str]) -> dict[str, int]:
    """Write the file; returns how many rows of each special kind it holds."""
    from bench.data import LOCALES, Folder, Names

    rng = random.Random(seed)
    names = Names.build(seed + 1)
    fold = Folder()
    kinds = {"rows": rows, "repeat_in_file": 0, "existing_email": 0, "invalid_email": 0}
    recent: list[str] = []
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for i in range(rows):
            locale = rng.choice(LOCALES)
            female = rng.random() < 0.5
            first = rng.choice((names.female if female else names.male)[locale])
            last = rng.choice(names.last[locale])
            local = f"{fold(first).replace(' ', '.')}.{fold(last).replace(' ', '')}"
            local = "".join(ch for ch in local if ch.isascii() and (ch.isalnum() or ch == ".")) or "contact"
            email = f"{local}.i{i}@{rng.choice(['example.com', 'example.it', 'example.hu', 'example.ro'])}"
            roll = rng.random()
            if roll < 0.04 and recent:
                email = rng.choice(recent)
                kinds["repeat_in_file"] += 1
            elif roll < 0.06 and existing_emails:
                email = rng.choice(existing_emails)
                kinds["existing_email"] += 1
            elif roll < 0.065:
                email = f"{local}.at.example.com"
                kinds["invalid_email"] += 1
            else:
                if len(recent) < 5000:
                    recent.append(email)
                else:
                    recent[rng.randrange(5000)] = email
            employer = rng.choice(names.company[locale]) if rng.random() < 0.3 else ""
            writer.writerow(
                [
                    first,
                    last,
                    _mixed_case(rng, email),
                    _phone_text(rng, locale) if rng.random() < 0.85 else "",
                    employer,
                    rng.choice(names.job[locale]) if employer else "",
                    rng.choice(TAG_CHOICES),
                    rng.choice(CITIES[locale]),
                    rng.choice(COUNTRIES[locale]),
                ]
            )
    return kinds


def _existing_emails(slug: str, count: int, seed: int) -> list[str]:
    """About ``count`` emails of people of the workspace, picked by id (cheap at a million rows)."""
    from django.db.models import Max, Min

    from clientela.contacts.models import Email
    from clientela.workspaces.models import Workspace

    workspace = Workspace.objects.get(slug=slug)
    emails = Email.all_workspaces.filter(workspace=workspace, person__isnull=False)
    bounds = emails.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return []
    rng = random.Random(seed)
    ids = {rng.randint(bounds["low"], bounds["high"]) for _ in range(count)}
    return list(emails.filter(pk__in=ids).values_list("email", flat=True))


# --- the floor ------------------------------------------------------------------------------------


def floor(path: Path) -> dict[str, Any]:
    """The rows of ``path`` into a temporary table of text columns, with the driver's bulk path."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    columns = ", ".join(f"c{i} text" for i in range(len(HEADERS)))
    if db["ENGINE"].endswith("postgresql"):
        count, seconds = _floor_postgres(db, path, columns)
        method = "PostgreSQL COPY FROM STDIN (csv) into a temporary table"
    else:
        count, seconds = _floor_sqlite(db, path, columns)
        method = "SQLite executemany of the csv rows into a temporary table"
    return {
        "rows": count,
        "seconds": round(seconds, 3),
        "rows_per_s": round(count / seconds, 1),
        "method": method,
    }


def _floor_postgres(db: Mapping[str, Any], path: Path, columns: str) -> tuple[int, float]:
    import psycopg

    with psycopg.connect(
        dbname=db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=str(db.get("PORT") or "") or None,
    ) as conn:
        conn.execute(f"CREATE TEMP TABLE bench_import_floor ({columns})")
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY bench_import_floor FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as source,
        ):
            while chunk := source.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        seconds = time.perf_counter() - started
        row = conn.execute("SELECT count(*) FROM bench_import_floor").fetchone()
    return (int(row[0]) if row else 0), seconds


def _floor_sqlite(db: Mapping[str, Any], path: Path, columns: str) -> tuple[int, float]:
    conn = sqlite3.connect(db["NAME"])
    try:
        init = db.get("OPTIONS", {}).get("init_command")
        if init:
            conn.executescript(init)
        conn.execute(f"CREATE TEMP TABLE bench_import_floor ({columns})")
        started = time.perf_counter()
        with path.open(newline="", encoding="utf-8") as source:
            reader = csv.reader(source)
            next(reader)
            marks = ", ".join("?" * len(HEADERS))
            conn.executemany(f"INSERT INTO bench_import_floor VALUES ({marks})", reader)  # noqa: S608
        conn.commit()
        seconds = time.perf_counter() - started
        row = conn.execute("SELECT count(*) FROM bench_import_floor").fetchone()
    finally:
        conn.close()
    return (int(row[0]) if row else 0), seconds


# --- the import -----------------------------------------------------------------------------------


def _anonymous_mb() -> float | None:
    """The anonymous part of the resident size (the heap: RSS without mapped files), on Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class RssSampler:
    """The memory of this process every ``interval`` seconds, on a thread, while it runs: resident size
    (RSS) and its anonymous part (the heap; on SQLite the RSS also counts the pages of the database file
    the connection maps, up to ``mmap_size`` = 256 MiB, which are file-backed and reclaimable)."""

    def __init__(self, interval: float = 0.5) -> None:
        import psutil

        self.process = psutil.Process()
        self.interval = interval
        self.samples: list[tuple[float, float, float]] = []  # (seconds, RSS MiB, anonymous MiB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._started = 0.0

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = self.process.memory_info().rss / 2**20
            anonymous = _anonymous_mb()
            self.samples.append(
                (time.perf_counter() - self._started, rss, rss if anonymous is None else anonymous)
            )
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _api() -> Any:
    """The import module, or the reason it cannot be used."""
    try:
        from clientela.contacts import importing
    except Exception as exc:  # the module is being written: anything may be wrong with it
        return f"clientela.contacts.importing cannot be imported: {type(exc).__name__}: {exc}"
    missing = [name for name in REQUIRED if not callable(getattr(importing, name, None))]
    if missing:
        return f"clientela.contacts.importing lacks {', '.join(missing)}"
    return importing


def run_import(path: Path, slug: str, owner_email: str) -> dict[str, Any]:
    """Upload, start and run an import of ``path`` into workspace ``slug``; the numbers of ``import_run``."""
    import types

    import psutil
    from django.conf import settings
    from django.core.files.uploadedfile import UploadedFile

    from clientela.core.tenancy import workspace_scope
    from clientela.workspaces.models import User, Workspace

    importing = _api()
    if isinstance(importing, str):
        return {"not_run": importing}
    notes = []
    # The bench calls import_run itself: whatever import_start would queue is left out.
    importing.enqueue_on_commit = lambda *args, **kwargs: None
    try:
        import clientela.contacts.tasks  # noqa: F401
    except ImportError:
        stub = types.ModuleType("clientela.contacts.tasks")
        stub.run_import = None  # type: ignore[attr-defined]
        sys.modules["clientela.contacts.tasks"] = stub
        notes.append("clientela.contacts.tasks does not exist yet: the bench stands in for the queue")
    settings.IMPORT_MAX_UPLOAD_BYTES = max(getattr(settings, "IMPORT_MAX_UPLOAD_BYTES", 0), 2**34)
    workspace = Workspace.objects.get(slug=slug)
    owner = User.objects.get(email=owner_email)
    rss_setup = psutil.Process().memory_info().rss / 2**20
    with workspace_scope(workspace):
        started = time.perf_counter()
        with path.open("rb") as source:
            upload = UploadedFile(
                file=source, name="bench-people.csv", content_type="text/csv", size=path.stat().st_size
            )
            import_ = importing.import_upload(
                workspace=workspace, actor=owner, uploaded_file=upload, entity="person"
            )
        upload_s = time.perf_counter() - started
        mapping = dict(import_.options.get("suggested") or {})
        import_ = importing.import_start(
            import_=import_, duplicates="skip", valid_rows_only=True, actor=owner
        )
        rss_before = psutil.Process().memory_info().rss / 2**20
        with RssSampler() as sampler:
            cpu_started = time.process_time()
            started = time.perf_counter()
            import_ = importing.import_run(import_=import_)
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_started
    import_.refresh_from_db()
    rows = int(import_.total_rows or import_.processed_rows or 0)
    samples = [rss for _t, rss, _uss in sampler.samples] or [rss_before]
    anonymous = [anon for _t, _rss, anon in sampler.samples] or [0.0]
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak_kib / 2**20 if sys.platform == "darwin" else peak_kib / 2**10
    return {
        "status": str(import_.status),
        "rows": rows,
        "created": import_.created_count,
        "updated": import_.updated_count,
        "skipped": import_.skipped_count,
        "failed": import_.failed_count,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds, 1) if seconds else None,
        # CPU of this process (every thread) during import_run: on a shared machine, wall time beyond
        # it is waiting for the database, or for a core.
        "cpu_seconds": round(cpu_seconds, 2),
        "upload_seconds": round(upload_s, 2),
        "mapping": mapping,
        "rss_after_setup_mb": round(rss_setup, 1),
        "rss_before_run_mb": round(rss_before, 1),
        "rss_sampled_max_mb": round(max(samples), 1),
        "rss_sampled_last_mb": round(samples[-1], 1),
        "rss_growth_during_run_mb": round(max(samples) - rss_before, 1),
        "anonymous_first_mb": round(anonymous[0], 1),
        "anonymous_max_mb": round(max(anonymous), 1),
        "memory_samples": [[round(t, 1), round(r, 1), round(u, 1)] for t, r, u in sampler.samples[::4]],
        "peak_rss_mb": round(peak_mb, 1),
        "notes": notes,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.csv_import", description=(__doc__ or "").splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write", help="write the CSV")
    write.add_argument("path", type=Path)
    write.add_argument("--rows", type=int, required=True)
    write.add_argument("--workspace", default="bench-1", help="its people's emails are reused (dedupe)")
    write.add_argument("--seed", type=int, default=20261124)
    floor_cmd = commands.add_parser("floor", help="bulk-load the CSV into a temporary table")
    floor_cmd.add_argument("path", type=Path)
    run = commands.add_parser("run", help="import the CSV with contacts.importing")
    run.add_argument("path", type=Path)
    run.add_argument("--workspace", default="bench-1")
    run.add_argument("--email", required=True, help="the member who imports")
    args = parser.parse_args(argv)
    _setup_django()
    if args.command == "write":
        existing = _existing_emails(args.workspace, max(10, args.rows // 25), args.seed)
        started = time.perf_counter()
        result: dict[str, Any] = write_csv(args.path, args.rows, seed=args.seed, existing_emails=existing)
        result["seconds"] = round(time.perf_counter() - started, 2)
        result["bytes"] = args.path.stat().st_size
    elif args.command == "floor":
        result = floor(args.path)
    else:
        result = run_import(args.path, args.workspace, args.email)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
