"""Housekeeping jobs."""

import pytest
from django.db import connection

from clientela.contacts import services
from clientela.core.jobs import optimize_database
from clientela.core.tenancy import workspace_scope


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner statistics")
def test_optimize_database_gives_statistics_to_tables_filled_after_migrate(owner_a):
    ws = owner_a.workspace
    with workspace_scope(ws):
        for i in range(3):
            services.person_create(workspace=ws, actor=None, attributes={"first_name": f"P{i}"})
    optimize_database.call()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'contacts_person'")
        assert cursor.fetchone()[0] > 0


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner statistics")
def test_statistics_count_a_large_workspace_whole_so_a_search_looks_up_its_candidates(owner_a):
    """A sample of 1,000 estimated a workspace at 1,001 rows: the planner then scanned the workspace's
    index to check a search's 1,500 candidates instead of looking each one up."""
    from clientela.contacts.importing_bulk import bulk_insert
    from clientela.contacts.models import Person

    ws = owner_a.workspace
    rows = [{"workspace_id": ws.pk, "last_name": f"P{i}", "search_text": f"p{i}"} for i in range(15000)]
    bulk_insert(Person, rows, ids=True)
    optimize_database.call()
    candidates = Person.all_workspaces.filter(
        workspace=ws, deleted_at__isnull=True, pk__in=[r["id"] for r in rows[:1500]]
    )
    sql, params = candidates.values_list("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(step) for step in cursor.fetchall())
    assert "PRIMARY KEY" in plan, plan
