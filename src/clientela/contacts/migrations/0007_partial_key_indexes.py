"""Foreign keys that many rows leave empty get partial indexes (``models.key_index``): an import of people
writes no owner and no company, a person's emails and phones no company, and such rows no longer cost an
index entry. The old full indexes are dropped in SQL and the field states altered alone, as in 0006:
Django's own ``AlterField`` would rebuild the tables on SQLite, dropping the search triggers of people and
companies with the old tables.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0006_fewer_indexes"),
        ("workspaces", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="address",
                    name="company",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="addresses",
                        to="contacts.company",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "contacts_address_company_id_7a1e8028"',
                    reverse_sql='CREATE INDEX "contacts_address_company_id_7a1e8028" ON "contacts_address" ("company_id")',
                )
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="address",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="addresses",
                        to="contacts.person",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "contacts_address_person_id_e7293be4"',
                    reverse_sql='CREATE INDEX "contacts_address_person_id_e7293be4" ON "contacts_address" ("person_id")',
                )
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="company",
                    name="import_batch",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="contacts.import",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "contacts_company_import_batch_id_ad2b7665"',
                    reverse_sql='CREATE INDEX "contacts_company_import_batch_id_ad2b7665" ON "contacts_company" ("import_batch_id")',
                )
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="company",
                    name="owner",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="owner",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "contacts_company_owner_id_1cd86ea6"',
                    reverse_sql='CREATE INDEX "contacts_company_owner_id_1cd86ea6" ON "contacts_company" ("owner_id")',
                )
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="email",
                    name="company",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="emails",
                        to="contacts.company",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "contacts_email_company_id_101e34d1"',
                    reverse_sql='CREATE INDEX "contacts_email_company_id_101e34d1" ON "contacts_email" ("company_id")',
                )
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="email",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="emails",
                        to="contacts.person",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "contacts_email_person_id_353a4f5d"',
                    reverse_sql='CREATE INDEX "contacts_email_person_id_353a4f5d" ON "contacts_email" ("person_id")',
                )
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="person",
                    name="company",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="people",
                        to="contacts.company",
                        verbose_name="company",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "contacts_person_company_id_7aabbaa2"',
                    reverse_sql='CREATE INDEX "contacts_person_company_id_7aabbaa2" ON "contacts_person" ("company_id")',
                )
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="person",
                    name="import_batch",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="contacts.import",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "contacts_person_import_batch_id_d85d556d"',
                    reverse_sql='CREATE INDEX "contacts_person_import_batch_id_d85d556d" ON "contacts_person" ("import_batch_id")',
                )
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="person",
                    name="owner",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="owner",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "contacts_person_owner_id_66bbd1f7"',
                    reverse_sql='CREATE INDEX "contacts_person_owner_id_66bbd1f7" ON "contacts_person" ("owner_id")',
                )
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="phone",
                    name="company",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="phones",
                        to="contacts.company",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "contacts_phone_company_id_5f588547"',
                    reverse_sql='CREATE INDEX "contacts_phone_company_id_5f588547" ON "contacts_phone" ("company_id")',
                )
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="phone",
                    name="person",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="phones",
                        to="contacts.person",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "contacts_phone_person_id_3a84a2e6"',
                    reverse_sql='CREATE INDEX "contacts_phone_person_id_3a84a2e6" ON "contacts_phone" ("person_id")',
                )
            ],
        ),
        migrations.AddIndex(
            model_name="address",
            index=models.Index(
                condition=models.Q(("person__isnull", False)), fields=["person"], name="address_person"
            ),
        ),
        migrations.AddIndex(
            model_name="address",
            index=models.Index(
                condition=models.Q(("company__isnull", False)), fields=["company"], name="address_company"
            ),
        ),
        migrations.AddIndex(
            model_name="company",
            index=models.Index(
                condition=models.Q(("owner__isnull", False)), fields=["owner"], name="company_owner"
            ),
        ),
        migrations.AddIndex(
            model_name="company",
            index=models.Index(
                condition=models.Q(("import_batch__isnull", False)),
                fields=["import_batch"],
                name="company_import",
            ),
        ),
        migrations.AddIndex(
            model_name="email",
            index=models.Index(
                condition=models.Q(("person__isnull", False)), fields=["person"], name="email_person"
            ),
        ),
        migrations.AddIndex(
            model_name="email",
            index=models.Index(
                condition=models.Q(("company__isnull", False)), fields=["company"], name="email_company"
            ),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(
                condition=models.Q(("company__isnull", False)), fields=["company"], name="person_company"
            ),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(
                condition=models.Q(("owner__isnull", False)), fields=["owner"], name="person_owner"
            ),
        ),
        migrations.AddIndex(
            model_name="person",
            index=models.Index(
                condition=models.Q(("import_batch__isnull", False)),
                fields=["import_batch"],
                name="person_import",
            ),
        ),
        migrations.AddIndex(
            model_name="phone",
            index=models.Index(
                condition=models.Q(("person__isnull", False)), fields=["person"], name="phone_person"
            ),
        ),
        migrations.AddIndex(
            model_name="phone",
            index=models.Index(
                condition=models.Q(("company__isnull", False)), fields=["company"], name="phone_company"
            ),
        ),
    ]
