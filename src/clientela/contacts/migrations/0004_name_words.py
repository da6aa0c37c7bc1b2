"""Word-prefix search on PostgreSQL: a table of the words of each person's and company's name.

A trigram index answers ``LIKE '%ross%'`` with a bitmap of every row holding both trigrams, which costs
the same whether one row is wanted or two hundred, and when the planner expects many matches it reads
the table instead. A btree over the words answers "a word that starts with ross" as one range scan that
stops at the first few hundred.

``<table>_words`` holds (workspace, word, record) for the words of the folded name: a person's first and
last name, a company's name and legal name. The words are taken from ``search_text`` (folded by
``core.text.fold`` in Python, so they match the folded query word for word): its first words are the
name's (counted by cutting the raw name at spaces and ASCII punctuation other than ``_ . @ + -``, as
``fold`` does), and a word is cut at ``. @ + -`` as the query's words are. Statement-level triggers keep the
table in step with every write (a bulk import is one ``INSERT ... SELECT``); the table is filled from
the rows already there. SQLite needs none of this: its FTS5 index does prefix queries.

The SQL is written out here so this migration never changes.
"""

from django.db import migrations

# (table, SQL expression of the raw name whose folded words start search_text)
TABLES = [
    ("contacts_person", "{row}.first_name || ' ' || {row}.last_name"),
    ("contacts_company", "{row}.name || ' ' || {row}.legal_name"),
]

WORDS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION clientela_name_words(search_text text, name text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT part), '{}')
    FROM unnest((string_to_array(search_text, ' '))[
             1:cardinality(array_remove(regexp_split_to_array(name, '[][:space:]!"#$%&''()*,/:;<=>?\\^`{|}~[]+'), ''))
         ]) AS word,
         regexp_split_to_table(word, '[.@+-]+') AS part
    WHERE part <> ''
$$"""


def postgres_sql(table, name):
    words = f"{table}_words"
    new_words = f"unnest(clientela_name_words(n.search_text, {name.format(row='n')}))"
    old_words = f"unnest(clientela_name_words(o.search_text, {name.format(row='o')}))"
    changed = (
        f"(o.workspace_id, o.search_text, {name.format(row='o')}) "
        f"IS DISTINCT FROM (n.workspace_id, n.search_text, {name.format(row='n')})"
    )
    return [
        f'CREATE TABLE {words} (workspace_id bigint NOT NULL, word text COLLATE "C" NOT NULL, '
        "record_id bigint NOT NULL)",
        f"""
CREATE FUNCTION {table}_words_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {words} (workspace_id, word, record_id)
    SELECT n.workspace_id, w, n.id FROM new_rows n, {new_words} AS w;
    RETURN NULL;
END $$""",
        f"""
CREATE FUNCTION {table}_words_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {words} AS t USING (
        SELECT o.workspace_id, w AS word, o.id FROM old_rows o JOIN new_rows n ON n.id = o.id, {old_words} AS w
        WHERE {changed}
    ) AS gone
    WHERE t.workspace_id = gone.workspace_id AND t.word = gone.word AND t.record_id = gone.id;
    INSERT INTO {words} (workspace_id, word, record_id)
    SELECT n.workspace_id, w, n.id FROM new_rows n JOIN old_rows o ON o.id = n.id, {new_words} AS w
    WHERE {changed};
    RETURN NULL;
END $$""",
        f"""
CREATE FUNCTION {table}_words_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {words} AS t USING (
        SELECT o.workspace_id, w AS word, o.id FROM old_rows o, {old_words} AS w
    ) AS gone
    WHERE t.workspace_id = gone.workspace_id AND t.word = gone.word AND t.record_id = gone.id;
    RETURN NULL;
END $$""",
        f"""
CREATE FUNCTION {table}_words_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE {words};
    RETURN NULL;
END $$""",
        f"CREATE TRIGGER {table}_words_ai AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_words_insert()",
        f"CREATE TRIGGER {table}_words_au AFTER UPDATE ON {table} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_words_update()",
        f"CREATE TRIGGER {table}_words_ad AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_words_delete()",
        f"CREATE TRIGGER {table}_words_at AFTER TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_words_truncate()",
        f"INSERT INTO {words} (workspace_id, word, record_id) "
        f"SELECT n.workspace_id, w, n.id FROM {table} n, {new_words} AS w",
        f"CREATE INDEX {words}_prefix ON {words} (workspace_id, word, record_id)",
        f"ANALYZE {words}",
    ]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(WORDS_FUNCTION, params=None)
    for table, name in TABLES:
        for sql in postgres_sql(table, name):
            schema_editor.execute(sql, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, _name in TABLES:
        for suffix in ("ai", "au", "ad", "at"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_words_{suffix} ON {table}")
        for action in ("insert", "update", "delete", "truncate"):
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_words_{action}()")
        schema_editor.execute(f"DROP TABLE IF EXISTS {table}_words")
    schema_editor.execute("DROP FUNCTION IF EXISTS clientela_name_words(text, text)")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0003_list_and_import_indexes")]
    operations = [migrations.RunPython(create, drop)]
