"""In-process measurements of the customers scenarios: raw SQL floors and SQL queries per request.

``python -m bench.inprocess INPUT.json`` (run by the harness in the bench environment, between the server
runs) prints JSON with:

- ``floors``: each scenario's raw SQL equivalent, timed with the database driver itself (``sqlite3`` with
  the PRAGMAs of the settings, or ``psycopg``; no Django, no HTTP), the same number of times as the HTTP
  requests: the 50 people of the list with its filter and sort, the FTS5 / trigram query of a name
  fragment, the phone and email lookups, the 25 newest interactions of the heavy person, and the card
  (the person, then its 25 interactions). ``scenario median / floor median`` is the cost of everything
  that is not the database: ORM, serialisation, templates, HTTP.
- ``queries``: the SQL queries of one request of each scenario (Django's test client with
  ``CaptureQueriesContext``, after a warm-up request), with their text for the JSON results.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

SQL_TEXT_LIMIT = 400


def _timed(run: Callable[[int], object], requests: int, warmup: int) -> dict[str, Any]:
    from bench.http import percentile_95

    for i in range(warmup):
        run(i)
    latencies = []
    for i in range(requests):
        start = time.perf_counter()
        run(i)
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    return {
        "requests": requests,
        "median_ms": round(latencies[len(latencies) // 2], 4),
        "p95_ms": round(percentile_95(latencies), 4),
    }


class RawDatabase:
    """The database of the settings, through its driver only."""

    def __init__(self) -> None:
        from django.conf import settings

        db = settings.DATABASES["default"]
        self.postgres = db["ENGINE"].endswith("postgresql")
        if self.postgres:
            import psycopg

            self.pg = psycopg.connect(
                dbname=db["NAME"],
                user=db.get("USER") or None,
                password=db.get("PASSWORD") or None,
                host=db.get("HOST") or None,
                port=str(db.get("PORT") or "") or None,
                autocommit=True,
                # Never prepared: a custom plan per query, as Django's client-side binding gets. (A generic
                # plan of the timeline query sorts all 10,000 rows of the heavy person: 6 ms, not 0.2.)
                prepare_threshold=None,
            )
        else:
            self.lite = sqlite3.connect(db["NAME"], isolation_level=None)
            init = db.get("OPTIONS", {}).get("init_command")
            if init:
                self.lite.executescript(init)

    def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Run ``sql`` (``%s`` placeholders) and fetch every row, as the ORM would."""
        if self.postgres:
            with self.pg.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        return self.lite.execute(sql.replace("%s", "?"), params).fetchall()

    def close(self) -> None:
        if self.postgres:
            self.pg.close()
        else:
            self.lite.close()


def sql_floors(
    db: RawDatabase, workspace_id: int, customers: dict[str, Any], requests: int, warmup: int
) -> dict:
    """Each floor query, timed ``requests`` times after ``warmup``, going through the search terms in turn."""
    from clientela.core.phones import to_e164
    from clientela.core.search import words

    heavy = customers["heavy_person_id"]
    fragments = customers["name_fragments"] or ["a"]
    phones = [to_e164(phone, customers["region"]) for phone in customers["phones_national"]] or ["+390"]
    emails = [email.lower() for email in customers["emails"]] or ["x@example.com"]
    people_list = (
        "SELECT * FROM contacts_person WHERE workspace_id = %s AND deleted_at IS NULL "
        "AND lifecycle_stage = %s ORDER BY created_at DESC, id DESC LIMIT 51"
    )
    timeline = (
        "SELECT i.*, u.* FROM timeline_interaction i LEFT JOIN workspaces_user u ON u.id = i.actor_id "
        "WHERE i.workspace_id = %s AND i.person_id = %s ORDER BY i.occurred_at DESC, i.id DESC LIMIT 26"
    )
    person = "SELECT * FROM contacts_person WHERE workspace_id = %s AND id = %s AND deleted_at IS NULL"
    phone = (
        "SELECT p.id FROM contacts_phone ph JOIN contacts_person p ON p.id = ph.person_id "
        "WHERE ph.workspace_id = %s AND ph.e164 = %s AND p.deleted_at IS NULL LIMIT 10"
    )
    email = (
        "SELECT p.id FROM contacts_email e JOIN contacts_person p ON p.id = e.person_id "
        "WHERE e.workspace_id = %s AND e.email = %s AND p.deleted_at IS NULL LIMIT 10"
    )
    if db.postgres:
        name_sql = (
            "SELECT id FROM contacts_person WHERE workspace_id = %s AND deleted_at IS NULL "
            "AND search_text LIKE %s ORDER BY word_similarity(%s, search_text) DESC, id LIMIT 10"
        )

        def name_params(i: int) -> list[Any]:
            term = " ".join(words(fragments[i % len(fragments)]))
            return [workspace_id, f"%{term}%", term]
    else:
        name_sql = (
            "SELECT p.id FROM contacts_person_fts f JOIN contacts_person p ON p.id = f.rowid "
            "WHERE contacts_person_fts MATCH %s AND p.workspace_id = %s AND p.deleted_at IS NULL "
            "ORDER BY bm25(contacts_person_fts) LIMIT 10"
        )

        def name_params(i: int) -> list[Any]:
            terms = words(fragments[i % len(fragments)])
            return [" AND ".join(f'"{t}"*' for t in terms), workspace_id]

    def card(i: int) -> object:
        return db.fetch(person, [workspace_id, heavy]), db.fetch(timeline, [workspace_id, heavy])

    floors: dict[str, Callable[[int], object]] = {
        "people list": lambda i: db.fetch(people_list, [workspace_id, "customer"]),
        "search name": lambda i: db.fetch(name_sql, name_params(i)),
        "search phone": lambda i: db.fetch(phone, [workspace_id, phones[i % len(phones)]]),
        "search email": lambda i: db.fetch(email, [workspace_id, emails[i % len(emails)]]),
        "timeline": lambda i: db.fetch(timeline, [workspace_id, heavy]),
        "card": card,
    }
    descriptions = {
        "people list": people_list,
        "search name": name_sql,
        "search phone": phone,
        "search email": email,
        "timeline": timeline,
        "card": f"{person}; {timeline}",
    }
    return {
        name: {**_timed(run, requests, warmup), "sql": " ".join(descriptions[name].split())}
        for name, run in floors.items()
    }


def query_counts(
    scenarios: list[dict[str, Any]], sales: dict[str, Any] | None = None, paths_per_scenario: int = 3
) -> dict[str, Any]:
    """SQL queries of one request per path (the first few of a rotating scenario), after a warm-up.
    POST scenarios send their JSON ``body``; the deal move (``move``) its next move, read from the deal."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    results: dict[str, Any] = {}
    for scenario in scenarios:
        client = Client(SERVER_NAME="127.0.0.1")
        headers = {}
        for name, value in scenario["headers"].items():
            if name.lower() == "cookie":
                for morsel in SimpleCookie(value).values():
                    client.cookies[morsel.key] = morsel.value
            else:
                headers[name] = value
        counts: list[int] = []
        statements: list[str] = []
        error = None
        method = scenario.get("method", "GET")

        def send(
            path: str,
            method: str = method,
            scenario: dict[str, Any] = scenario,
            client: Client = client,
            headers: dict[str, str] = headers,
        ) -> Any:
            if method == "GET":
                return client.get(path, headers=headers)
            body = scenario.get("body")
            if scenario.get("move") and sales:
                from bench.sales import move_body

                body = move_body(sales["move_deal_id"], sales["stage_ids"])
            return client.generic(
                method, path, json.dumps(body), content_type="application/json", headers=headers
            )

        for path in scenario["paths"][:paths_per_scenario]:
            try:
                send(path)  # warm-up: caches, first-request work
                with CaptureQueriesContext(connection) as captured:
                    response = send(path)
            except Exception as exc:  # the test client re-raises what the view raised
                error = f"{method} {path} raised {type(exc).__name__}: {exc}"
                break
            if response.status_code != 200:
                error = f"{method} {path} answered {response.status_code}"
                break
            counts.append(len(captured.captured_queries))
            if not statements:
                statements = [q["sql"][:SQL_TEXT_LIMIT] for q in captured.captured_queries]
        results[scenario["name"]] = {
            "count": max(counts) if counts and error is None else None,
            "counts": counts,
            "sql": statements,
            "error": error,
        }
    return results


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    from clientela.workspaces.models import Workspace

    workspace = Workspace.objects.get(slug=spec["workspace_slug"])
    started = time.perf_counter()
    queries = query_counts(spec["scenarios"], spec.get("sales"))
    queries_s = time.perf_counter() - started
    db = RawDatabase()
    floors: dict[str, Any] = {}
    try:
        if spec.get("customers"):
            floors.update(sql_floors(db, workspace.pk, spec["customers"], spec["requests"], spec["warmup"]))
        if spec.get("sales"):
            from bench.sales import floors as sales_floors

            runs, texts = sales_floors(db, workspace.pk, spec["sales"])
            for name, run in runs.items():
                floors[name] = {
                    **_timed(run, spec["requests"], spec["warmup"]),
                    "sql": " ".join(texts[name].split()),
                }
    finally:
        db.close()
    return {
        "floors": floors,
        "queries": queries,
        "seconds": {
            "queries": round(queries_s, 2),
            "floors": round(time.perf_counter() - started - queries_s, 2),
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m bench.inprocess INPUT.json", file=sys.stderr)
        return 2
    spec = json.loads(Path(args[0]).read_text())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clientela.config.settings")
    import django

    django.setup()
    print(json.dumps(measure(spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
