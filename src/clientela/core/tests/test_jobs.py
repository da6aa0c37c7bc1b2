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
