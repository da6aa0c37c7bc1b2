"""Drop five indexes that every insert wrote and no read needed (see ``workspace_key_without_index``):
the workspace-only index of people, companies and their tag links (each table has indexes that start with
the workspace), and ``person_ws_company`` (the ``company`` key's own index finds a company's people).

Only the indexes are dropped. Django's own ``AlterField`` would also drop and re-add the workspace's
foreign key on PostgreSQL (checking a million rows again) and rebuild the table on SQLite, which would
drop the search triggers of people and companies with the old table.
"""

import django.db.models.deletion
from django.db import migrations, models

WORKSPACE_INDEXES = {
    "company": ("contacts_company", "contacts_company_workspace_id_70c9264b"),
    "companytag": ("contacts_companytag", "contacts_companytag_workspace_id_192c4bfc"),
    "person": ("contacts_person", "contacts_person_workspace_id_84a20a04"),
    "persontag": ("contacts_persontag", "contacts_persontag_workspace_id_331c450e"),
}


def _workspace_key():
    return models.ForeignKey(
        db_index=False,
        editable=False,
        on_delete=django.db.models.deletion.CASCADE,
        related_name="+",
        to="workspaces.workspace",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0005_contact_point_indexes"),
        ("workspaces", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="person", name="person_ws_company"),
        *(
            migrations.SeparateDatabaseAndState(
                state_operations=[
                    migrations.AlterField(model_name=model, name="workspace", field=_workspace_key())
                ],
                database_operations=[
                    migrations.RunSQL(
                        f'DROP INDEX IF EXISTS "{index}"',
                        reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("workspace_id")',
                    )
                ],
            )
            for model, (table, index) in WORKSPACE_INDEXES.items()
        ),
    ]
