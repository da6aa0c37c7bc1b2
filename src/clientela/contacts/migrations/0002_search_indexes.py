"""Search indexes on people and companies: FTS5 with triggers on SQLite, trigram GIN on PostgreSQL."""

from django.db import migrations

TABLES = ["contacts_person", "contacts_company"]


def create(apps, schema_editor):
    from clientela.core.search import postgres_trigram_sql, sqlite_fts_sql

    vendor = schema_editor.connection.vendor
    for table in TABLES:
        statements = {"sqlite": sqlite_fts_sql, "postgresql": postgres_trigram_sql}.get(vendor, lambda t: [])(table)
        for sql in statements:
            schema_editor.execute(sql)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            for suffix in ("ai", "ad", "au"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{suffix}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {table}_fts")
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
