"""Tag links get two indexes instead of four: (person, tag), unique, for the tags of people, and
(tag, person) for the people with a tag. The workspace led both before, which no lookup needs (a person
and a tag belong to one workspace), so Django's indexes of the two keys were there too; an import wrote
four index entries per link. The key indexes are dropped in SQL and the field states altered alone, as in
0006 and 0007.
"""

import django.db.models.deletion
from django.db import migrations, models


def drop_key_index(model_name, name, to, index):
    table = f"contacts_{model_name}"
    return migrations.SeparateDatabaseAndState(
        state_operations=[
            migrations.AlterField(
                model_name=model_name,
                name=name,
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, to=to),
            )
        ],
        database_operations=[
            migrations.RunSQL(
                f'DROP INDEX IF EXISTS "{index}"',
                reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{name}_id")',
            )
        ],
    )


class Migration(migrations.Migration):
    dependencies = [("contacts", "0007_partial_key_indexes")]

    operations = [
        drop_key_index("persontag", "person", "contacts.person", "contacts_persontag_person_id_6fffe5c0"),
        drop_key_index("persontag", "tag", "contacts.tag", "contacts_persontag_tag_id_994fdfdb"),
        drop_key_index("companytag", "company", "contacts.company", "contacts_companytag_company_id_efb4dbf1"),
        drop_key_index("companytag", "tag", "contacts.tag", "contacts_companytag_tag_id_9ae86903"),
        migrations.AddConstraint(
            model_name="persontag",
            constraint=models.UniqueConstraint(fields=("person", "tag"), name="persontag_person_tag"),
        ),
        migrations.RemoveConstraint(model_name="persontag", name="persontag_unique"),
        migrations.AddIndex(
            model_name="persontag",
            index=models.Index(fields=["tag", "person"], name="persontag_tag_person"),
        ),
        migrations.RemoveIndex(model_name="persontag", name="persontag_ws_tag"),
        migrations.AddConstraint(
            model_name="companytag",
            constraint=models.UniqueConstraint(fields=("company", "tag"), name="companytag_company_tag"),
        ),
        migrations.RemoveConstraint(model_name="companytag", name="companytag_unique"),
        migrations.AddIndex(
            model_name="companytag",
            index=models.Index(fields=["tag", "company"], name="companytag_tag_company"),
        ),
        migrations.RemoveIndex(model_name="companytag", name="companytag_ws_tag"),
    ]
