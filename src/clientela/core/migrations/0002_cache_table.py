"""The table of the database cache (``settings.CACHES``): made by ``migrate`` itself, so that a database
migrated with ``manage.py migrate`` (not only ``clientela migrate``) signs people in instead of failing
on a missing ``clientela_cache``. ``createcachetable`` leaves an existing table alone."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=False)]
