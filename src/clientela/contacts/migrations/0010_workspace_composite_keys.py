"""PostgreSQL: contact points and tag links check their owner and their workspace with one foreign key of
two columns, (workspace, person) -> person (workspace, id) and (workspace, company) -> company
(workspace, id), instead of a key to the workspace and another to the owner. The database refuses an
email, phone, address or tag link whose person or company is of another workspace, and a new row costs
one key check instead of two: a tenth of an import's database time went to checking keys.

Django knows these fields as keys without a constraint (``db_constraint=False``); on SQLite the tables
keep their plain keys, and nothing is done there. People and companies get the unique (workspace, id)
the keys reference. The SQL is written out here so this migration never changes.
"""

import django.db.models.deletion
from django.db import migrations, models

# (table, [(owner column, owner table)])
OWNED = [
    ("contacts_email", [("person_id", "contacts_person"), ("company_id", "contacts_company")]),
    ("contacts_phone", [("person_id", "contacts_person"), ("company_id", "contacts_company")]),
    ("contacts_address", [("person_id", "contacts_person"), ("company_id", "contacts_company")]),
    ("contacts_persontag", [("person_id", "contacts_person")]),
    ("contacts_companytag", [("company_id", "contacts_company")]),
]
OWNERS = [("contacts_person", "person_workspace_id"), ("contacts_company", "company_workspace_id")]
DEFERRED = "DEFERRABLE INITIALLY DEFERRED"


def _foreign_keys(cursor, table, column):
    """The names of the one-column foreign keys of ``table`` on ``column``."""
    cursor.execute(
        "SELECT k.conname FROM pg_constraint k JOIN pg_attribute a"
        " ON a.attrelid = k.conrelid AND a.attnum = ANY(k.conkey)"
        " WHERE k.conrelid = %s::regclass AND k.contype = 'f' AND cardinality(k.conkey) = 1"
        " AND a.attname = %s",
        [table, column],
    )
    return [name for (name,) in cursor.fetchall()]


def _key_name(table, column):
    return f"{table.removeprefix('contacts_')}_{column.removesuffix('_id')}_in_workspace"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, constraint in OWNERS:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {constraint} UNIQUE (workspace_id, id)")
        for table, owners in OWNED:
            for column in ["workspace_id", *(column for column, _owner in owners)]:
                for name in _foreign_keys(cursor, table, column):
                    cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for column, owner in owners:
                cursor.execute(
                    f"ALTER TABLE {table} ADD CONSTRAINT {_key_name(table, column)} FOREIGN KEY "
                    f"(workspace_id, {column}) REFERENCES {owner} (workspace_id, id) {DEFERRED}"
                )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table, owners in OWNED:
            for column, owner in owners:
                cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {_key_name(table, column)}")
                cursor.execute(
                    f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fk FOREIGN KEY ({column}) "
                    f"REFERENCES {owner} (id) {DEFERRED}"
                )
            cursor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {table}_workspace_id_fk FOREIGN KEY (workspace_id) "
                f"REFERENCES workspaces_workspace (id) {DEFERRED}"
            )
        for table, constraint in OWNERS:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}")


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0009_name_words_in_key_order"),
        ("workspaces", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="address",
                    name="company",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="addresses",
                        to="contacts.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="address",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="addresses",
                        to="contacts.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="address",
                    name="workspace",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="workspaces.workspace",
                    ),
                ),
                migrations.AlterField(
                    model_name="companytag",
                    name="company",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="contacts.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="companytag",
                    name="workspace",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="workspaces.workspace",
                    ),
                ),
                migrations.AlterField(
                    model_name="email",
                    name="company",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="emails",
                        to="contacts.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="email",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="emails",
                        to="contacts.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="email",
                    name="workspace",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="workspaces.workspace",
                    ),
                ),
                migrations.AlterField(
                    model_name="persontag",
                    name="person",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        to="contacts.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="persontag",
                    name="workspace",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="workspaces.workspace",
                    ),
                ),
                migrations.AlterField(
                    model_name="phone",
                    name="company",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="phones",
                        to="contacts.company",
                    ),
                ),
                migrations.AlterField(
                    model_name="phone",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="phones",
                        to="contacts.person",
                    ),
                ),
                migrations.AlterField(
                    model_name="phone",
                    name="workspace",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        editable=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="workspaces.workspace",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(forward, backward)],
        )
    ]
