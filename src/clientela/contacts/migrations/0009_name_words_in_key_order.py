"""PostgreSQL: the triggers that fill the name-word tables (0004) insert a statement's words sorted by
the key of their index. Names repeat (Rossi, Nagy, Popescu...), so an import's batch of thousands of
people puts many entries on the same index pages; in key order each page is found once, not once per
word.

The SQL is written out here so this migration never changes.
"""

from django.db import migrations

TABLES = [
    ("contacts_person", "n.first_name || ' ' || n.last_name"),
    ("contacts_company", "n.name || ' ' || n.legal_name"),
]


def insert_function(table, name, ordered):
    order = "\n    ORDER BY 1, 2, 3" if ordered else ""
    return f"""
CREATE OR REPLACE FUNCTION {table}_words_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {table}_words (workspace_id, word, record_id)
    SELECT n.workspace_id, w, n.id FROM new_rows n, unnest(clientela_name_words(n.search_text, {name})) AS w{order};
    RETURN NULL;
END $$"""


def replace(ordered):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for table, name in TABLES:
            schema_editor.execute(insert_function(table, name, ordered), params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("contacts", "0008_tag_link_indexes")]
    operations = [migrations.RunPython(replace(ordered=True), replace(ordered=False))]
