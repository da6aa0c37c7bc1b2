"""Stage totals kept by triggers on sales_deal (see ``StageTotal``), filled from the deals already there.

The SQL is written out here so this migration never changes. The triggers subtract the old row and add
the new one; a subtraction only updates (it never creates a row), so deleting a workspace, whose rows go
in any order, cannot re-create a total. On PostgreSQL the two rows of a move are locked in one order
(the smaller key first), so two concurrent moves in opposite directions cannot deadlock on them.
"""

import django.db.models.deletion
from django.db import migrations, models

KEY = "stage_id = {row}.stage_id AND owner_key = COALESCE({row}.owner_id, 0) AND currency = {row}.currency"

POSTGRES = [
    f"""
CREATE FUNCTION sales_deal_stage_totals() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    subtract_first boolean := TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND
        (OLD.stage_id, COALESCE(OLD.owner_id, 0), OLD.currency)
        <= (NEW.stage_id, COALESCE(NEW.owner_id, 0), NEW.currency));
BEGIN
    IF subtract_first THEN
        UPDATE sales_stagetotal SET count = count - 1, amount_cents = amount_cents - ROUND(OLD.amount * 100)::bigint
        WHERE {KEY.format(row="OLD")};
    END IF;
    IF TG_OP <> 'DELETE' THEN
        INSERT INTO sales_stagetotal (workspace_id, stage_id, owner_key, currency, count, amount_cents)
        VALUES (NEW.workspace_id, NEW.stage_id, COALESCE(NEW.owner_id, 0), NEW.currency, 1,
                ROUND(NEW.amount * 100)::bigint)
        ON CONFLICT (stage_id, owner_key, currency) DO UPDATE SET
            count = sales_stagetotal.count + 1,
            amount_cents = sales_stagetotal.amount_cents + EXCLUDED.amount_cents;
    END IF;
    IF TG_OP = 'UPDATE' AND NOT subtract_first THEN
        UPDATE sales_stagetotal SET count = count - 1, amount_cents = amount_cents - ROUND(OLD.amount * 100)::bigint
        WHERE {KEY.format(row="OLD")};
    END IF;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER sales_deal_totals_insert_delete AFTER INSERT OR DELETE ON sales_deal "
    "FOR EACH ROW EXECUTE FUNCTION sales_deal_stage_totals()",
    "CREATE TRIGGER sales_deal_totals_update AFTER UPDATE OF stage_id, owner_id, currency, amount ON sales_deal "
    "FOR EACH ROW WHEN ((OLD.stage_id, OLD.owner_id, OLD.currency, OLD.amount) "
    "IS DISTINCT FROM (NEW.stage_id, NEW.owner_id, NEW.currency, NEW.amount)) "
    "EXECUTE FUNCTION sales_deal_stage_totals()",
]
SQLITE_SUBTRACT = (
    "UPDATE sales_stagetotal SET count = count - 1, "
    "amount_cents = amount_cents - CAST(ROUND(OLD.amount * 100) AS INTEGER) WHERE " + KEY.format(row="OLD") + ";"
)
SQLITE_ADD = (
    "INSERT OR IGNORE INTO sales_stagetotal (workspace_id, stage_id, owner_key, currency, count, amount_cents) "
    "VALUES (NEW.workspace_id, NEW.stage_id, COALESCE(NEW.owner_id, 0), NEW.currency, 0, 0); "
    "UPDATE sales_stagetotal SET count = count + 1, "
    "amount_cents = amount_cents + CAST(ROUND(NEW.amount * 100) AS INTEGER) WHERE " + KEY.format(row="NEW") + ";"
)
SQLITE = [
    f"CREATE TRIGGER sales_deal_totals_insert AFTER INSERT ON sales_deal BEGIN {SQLITE_ADD} END",
    f"CREATE TRIGGER sales_deal_totals_delete AFTER DELETE ON sales_deal BEGIN {SQLITE_SUBTRACT} END",
    "CREATE TRIGGER sales_deal_totals_update AFTER UPDATE OF stage_id, owner_id, currency, amount ON sales_deal "
    "WHEN OLD.stage_id IS NOT NEW.stage_id OR OLD.owner_id IS NOT NEW.owner_id "
    "OR OLD.currency IS NOT NEW.currency OR OLD.amount IS NOT NEW.amount "
    f"BEGIN {SQLITE_SUBTRACT} {SQLITE_ADD} END",
]
FILL = {
    "postgresql": "ROUND(SUM(amount) * 100)::bigint",
    "sqlite": "CAST(ROUND(SUM(amount) * 100) AS INTEGER)",
}


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for sql in {"postgresql": POSTGRES, "sqlite": SQLITE}[vendor]:
        schema_editor.execute(sql)
    schema_editor.execute(
        "INSERT INTO sales_stagetotal (workspace_id, stage_id, owner_key, currency, count, amount_cents) "
        f"SELECT workspace_id, stage_id, COALESCE(owner_id, 0), currency, COUNT(*), {FILL[vendor]} "
        "FROM sales_deal GROUP BY workspace_id, stage_id, COALESCE(owner_id, 0), currency"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS sales_deal_totals_insert_delete ON sales_deal")
        schema_editor.execute("DROP TRIGGER IF EXISTS sales_deal_totals_update ON sales_deal")
        schema_editor.execute("DROP FUNCTION IF EXISTS sales_deal_stage_totals()")
    else:
        for name in ("insert", "delete", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS sales_deal_totals_{name}")


class Migration(migrations.Migration):

    dependencies = [
        ('sales', '0003_board_column_indexes'),
        ('workspaces', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='StageTotal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('owner_key', models.BigIntegerField()),
                ('currency', models.CharField(max_length=3)),
                ('count', models.BigIntegerField(default=0)),
                ('amount_cents', models.BigIntegerField(default=0)),
                ('stage', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='sales.stage')),
                ('workspace', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='workspaces.workspace')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('stage', 'owner_key', 'currency'), name='stagetotal_stage_owner_cur')],
            },
        ),
        migrations.RunPython(create, drop),
    ]
