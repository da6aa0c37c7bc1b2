"""Bulk writes for imports: thousands of rows of one model in a few statements, the way each database
takes them fastest. No model instance per row, no ``save()``, no signals.

- PostgreSQL: the rows are copied (``COPY ... FROM STDIN``) into a temporary table and moved into the
  real one with a single ``INSERT ... SELECT``. ``COPY`` straight into the table would be refused once
  row-level security is on; ``INSERT ... SELECT`` is checked like any insert. When the caller wants the
  new ids they are taken from the table's sequence first, in one query.
- SQLite: one statement for all the rows, which come as a single JSON array parameter unpacked by
  ``json_each`` (the library works through them without giving Python's lock back and forth for every
  row, and a few small statements keep the connection's statement cache small, where a multi-row
  ``VALUES`` statement per size of batch kept hundreds of megabytes of prepared statements). One
  statement also lets the full-text index's trigger flush once, not once per row (which made it the
  slowest part of an import). When the ids are wanted, the rows are inserted in the array's order and
  the ids read back: the table's ``AUTOINCREMENT`` key gives each row a larger id than any before it,
  and the write lock, held from that statement to the commit, keeps every other writer out, so the
  newest ids are these rows', in order.

Rows are dicts of attribute names (``person_id``) to Python values. Only the columns some row gives
travel with every row; a column no row gives takes its field's default, passed once, and a row that
leaves out a column another row gives takes the default too. ``bulk_insert`` writes each new id into
its row as ``row["id"]`` when asked to; ``bulk_update`` writes fields of existing records the same way.

``values_query`` passes a batch's values to a lookup as one parameter; ``refresh_statistics`` keeps
SQLite's planner statistics in step with tables an import makes grow, ``flush_pending_index_entries``
merges what an import left pending in PostgreSQL's search indexes, and ``without_memory_map`` keeps an
import's SQLite connection from mapping the database file.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection, models, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

logger = logging.getLogger(__name__)
Row = dict[str, Any]

# Field types whose Python value is already what the database driver takes.
_PLAIN_TYPES = {
    "CharField", "TextField", "SlugField", "EmailField", "URLField", "BooleanField", "ForeignKey",
    "IntegerField", "BigIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField",
    "SmallIntegerField", "BigAutoField", "AutoField",
}  # fmt: skip


def bulk_insert(
    model: type[models.Model],
    rows: Sequence[Row],
    *,
    ids: bool = False,
    ignore_conflicts: bool = False,
    key_order: Sequence[str] = (),
) -> None:
    """Insert ``rows`` into ``model``'s table; with ``ids``, set ``row["id"]`` on each (on PostgreSQL a
    row may come with one already, from ``reserve_ids``).

    ``ignore_conflicts`` leaves out the rows a unique constraint refuses (``ON CONFLICT DO NOTHING``);
    it cannot be combined with ``ids``, since a left-out row has no id.

    ``key_order`` (PostgreSQL, with ``ids``): columns the rows are sorted by on their way into the table,
    those of its largest indexes, so that each index takes its new entries in key order and a batch
    touches each of its pages once, not once per row. (Without ``ids`` the order would change which row
    gets which id.)
    """
    if not rows:
        return
    if ids and ignore_conflicts:
        raise ValueError("A row left out on a conflict has no id to return.")
    batch = _table(model).batch(rows)
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            if ids:
                unnumbered = [row for row in rows if "id" not in row]
                new_ids = _next_ids(batch.db_table, batch.pk_column, len(unnumbered))
                for row, pk in zip(unnumbered, new_ids, strict=True):
                    row["id"] = pk
                for row, value in zip(rows, batch.values, strict=True):
                    value.append(row["id"])
                batch.columns.append(batch.pk_column)
            _copy_insert(batch, ignore_conflicts=ignore_conflicts, key_order=key_order if ids else ())
        elif ids:
            for row, pk in zip(rows, _insert_in_order(batch), strict=True):
                row["id"] = pk
        else:
            _insert_json(batch, ignore_conflicts=ignore_conflicts)


def bulk_update(model: type[models.Model], records: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write ``fields`` of ``records`` (instances of ``model``) in one ``UPDATE ... FROM``: the values go
    through the same temporary table (PostgreSQL) or JSON parameter (SQLite) as an insert's. Django's
    ``bulk_update`` builds a ``CASE WHEN`` per record and field, which costs seconds per thousand."""
    if not records:
        return
    meta = model._meta
    by_name = {name: f for f in meta.concrete_fields for name in (f.name, f.attname)}
    chosen = [by_name[name] for name in fields]
    quote = connection.ops.quote_name
    pk = str(meta.pk.column) if meta.pk else "id"
    columns = [pk, *(str(f.column) for f in chosen)]
    values = [
        [record.pk, *(_Table._prepare(f, getattr(record, f.attname)) for f in chosen)] for record in records
    ]
    table = quote(meta.db_table)
    assignments = ", ".join(f"{quote(c)} = stage.{quote(c)}" for c in columns[1:])
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            stage = quote(f"import_stage_{meta.db_table}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS "  # noqa: S608
                f"SELECT {_names(columns)} FROM {table} WITH NO DATA"
            )
            with cursor.cursor.copy(f"COPY {stage} ({_names(columns)}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM {stage} AS stage "  # noqa: S608
                f"WHERE {table}.{quote(pk)} = stage.{quote(pk)}"
            )
            cursor.execute(f"DROP TABLE {stage}")
        else:
            picks = ", ".join(
                f"json_extract(value, '$[{index}]') AS {quote(c)}" for index, c in enumerate(columns)
            )
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM (SELECT {picks} FROM json_each(%s)) AS stage "  # noqa: S608
                f"WHERE {table}.{quote(pk)} = stage.{quote(pk)}",
                [json.dumps(values)],
            )


@dataclass
class _Batch:
    """Rows ready for the driver: the columns some row gives, with one list of values per row, and the
    columns no row gives, with the one value (the field's default) they all take."""

    db_table: str
    pk_column: str
    columns: list[str]
    values: list[list[Any]]
    constant_columns: list[str]
    constants: list[Any]
    constant_types: list[str]


class _Table:
    """A model's insertable columns, their defaults and which values need converting for the driver."""

    def __init__(self, model: type[models.Model]) -> None:
        meta = model._meta
        self.db_table = meta.db_table
        self.pk_column = str(meta.pk.column) if meta.pk else "id"
        self.fields = [f for f in meta.concrete_fields if not f.primary_key]
        self.names = {f.attname for f in self.fields}

    def batch(self, rows: Sequence[Row]) -> _Batch:
        given = set().union(*rows)
        unknown = given.difference(self.names, ("id",))
        if unknown:
            raise ValueError(f"{self.db_table} has no column for {', '.join(sorted(unknown))}.")
        now = timezone.now()
        varying = [f for f in self.fields if f.attname in given]
        constant = [f for f in self.fields if f.attname not in given]
        defaults = [self._prepare(f, self._default(f, now)) for f in varying]
        names = [f.attname for f in varying]
        converted = [
            (index, f.attname, f)
            for index, f in enumerate(varying)
            if f.get_internal_type() not in _PLAIN_TYPES
        ]
        values = []
        for row in rows:
            value = list(map(row.get, names, defaults))
            for index, name, model_field in converted:
                if name in row:
                    value[index] = self._prepare(model_field, value[index])
            values.append(value)
        return _Batch(
            db_table=self.db_table,
            pk_column=self.pk_column,
            columns=[str(f.column) for f in varying],
            values=values,
            constant_columns=[str(f.column) for f in constant],
            constants=[self._prepare(f, self._default(f, now)) for f in constant],
            constant_types=[str(f.db_type(connection)) for f in constant],
        )

    @staticmethod
    def _default(model_field: models.Field[Any, Any], now: dt.datetime) -> Any:
        if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
            return now
        return model_field.get_default()

    @staticmethod
    def _prepare(model_field: models.Field[Any, Any], value: Any) -> Any:
        if model_field.get_internal_type() in _PLAIN_TYPES:
            return value
        return model_field.get_db_prep_save(value, connection)


@functools.cache
def _table(model: type[models.Model]) -> _Table:
    return _Table(model)


def _names(columns: Sequence[str]) -> str:
    return ", ".join(connection.ops.quote_name(c) for c in columns)


# --- PostgreSQL -----------------------------------------------------------------------------------


def reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """PostgreSQL: ``count`` new ids of ``model``, taken from its sequence now (no other insert will get
    them), for rows that ``bulk_insert`` writes later, maybe on another connection: they go in as
    ``row["id"]``. SQLite: None; its ids come with the insert."""
    if connection.vendor != "postgresql":
        return None
    table = _table(model)
    return _next_ids(table.db_table, table.pk_column, count)


def _next_ids(db_table: str, pk_column: str, count: int) -> list[int]:
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [connection.ops.quote_name(db_table), pk_column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def _copy_insert(batch: _Batch, *, ignore_conflicts: bool, key_order: Sequence[str]) -> None:
    quote = connection.ops.quote_name
    names = _names(batch.columns)
    varying = [column for column in key_order if column in batch.columns]  # not those all rows leave out
    order = f" ORDER BY {_names(varying)}" if varying else ""
    stage = quote(f"import_stage_{batch.db_table}")
    constants = "".join(f", CAST(%s AS {db_type})" for db_type in batch.constant_types)
    ending = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    # Table, column and type names come from the model; every value travels in the COPY stream or as a
    # parameter.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {names} FROM {quote(batch.db_table)} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for row in batch.values:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {quote(batch.db_table)} ({_names([*batch.columns, *batch.constant_columns])}) "  # noqa: S608
            f"SELECT {names}{constants} FROM {stage}{order}{ending}",
            batch.constants,
        )
        cursor.execute(f"DROP TABLE {stage}")


# --- SQLite ---------------------------------------------------------------------------------------


def _insert_json(batch: _Batch, *, ignore_conflicts: bool = False, in_order: bool = False) -> None:
    """All the rows in one statement: one JSON array parameter, unpacked by ``json_each`` (in the array's
    order when ``in_order``)."""
    quote = connection.ops.quote_name
    picks = ", ".join(f"json_extract(value, '$[{index}]')" for index in range(len(batch.columns)))
    constants = "".join(", %s" for _value in batch.constants)
    # "WHERE true" lets SQLite read ON CONFLICT as the upsert clause, not as part of the SELECT.
    ending = " WHERE true ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    order = " ORDER BY key" if in_order else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(batch.db_table)} ({_names([*batch.columns, *batch.constant_columns])}) "  # noqa: S608
            f"SELECT {picks}{constants} FROM json_each(%s){order}{ending}",
            [*batch.constants, json.dumps(batch.values)],
        )


def _insert_in_order(batch: _Batch) -> list[int]:
    """Insert the rows in order; their new ids, in the same order (see the module)."""
    _insert_json(batch, in_order=True)
    pk = connection.ops.quote_name(batch.pk_column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk} FROM {connection.ops.quote_name(batch.db_table)} ORDER BY {pk} DESC LIMIT %s",  # noqa: S608
            [len(batch.values)],
        )
        new_ids = [row_id for (row_id,) in cursor.fetchall()]
    new_ids.reverse()
    return new_ids


def refresh_statistics(models_: Sequence[type[models.Model]]) -> None:
    """SQLite: ``ANALYZE`` each table that has no statistics or has doubled since it was analyzed.

    Without statistics (a new database) or with a workspace's share of a table much larger than the
    statistics say, SQLite's planner looks up a batch of emails by scanning the workspace through the
    ``workspace_id`` index rather than probing ``(workspace_id, email)``: one scan per batch, a cost that
    grows with the table. The size is read from the largest id, so a check costs two index lookups; as
    the table doubles between two analyses, all of them cost about two analyses of the final table.
    PostgreSQL's autovacuum analyses by itself.
    """
    if connection.vendor != "sqlite":
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'")
        analysed = cursor.fetchone() is not None
        for model in models_:
            table = model._meta.db_table
            cursor.execute(f"SELECT max({quote(str(model._meta.pk.column))}) FROM {quote(table)}")  # noqa: S608
            (top,) = cursor.fetchone()
            if not top:
                continue
            rows = 0
            if analysed:
                cursor.execute(
                    "SELECT stat FROM sqlite_stat1 WHERE tbl = %s AND idx IS NOT NULL LIMIT 1", [table]
                )
                stat = cursor.fetchone()
                rows = int(stat[0].split()[0]) if stat else 0
            if top > 2 * rows:
                cursor.execute("PRAGMA analysis_limit=20000")  # see core.jobs.refresh_statistics
                cursor.execute(f"ANALYZE {quote(table)}")


def flush_pending_index_entries(models_: Sequence[type[models.Model]]) -> None:
    """PostgreSQL: merge the entries a bulk write left in the pending lists of the tables' GIN indexes
    (the trigram indexes of search) into the indexes themselves.

    A GIN index takes new rows into an unsorted pending list (up to ``gin_pending_list_limit``, 4 MB)
    and merges it when it is full or when the table is vacuumed. Every search reads the whole list: after
    an import of a few thousand companies, a company search took 22 ms instead of 3 until autovacuum
    came by, which on a large table can be hours. Merging needs to own the tables, as the migrations'
    role does; a role that may not is told in the log, and the import is done all the same.
    """
    if connection.vendor != "postgresql":
        return
    tables = [model._meta.db_table for model in models_]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
                " WHERE a.amname = 'gin' AND i.indrelid = ANY(%s::regclass[])",
                [tables],
            )
    except DatabaseError as exc:
        logger.warning("Could not merge the pending entries of the search indexes of %s: %s", tables, exc)


@contextmanager
def without_memory_map() -> Iterator[None]:
    """SQLite: no memory-mapped reads on this connection for the block (the setting is put back after).

    An import reads index pages all over a growing database; mapped, every page it touched would stay in
    the worker's resident memory, up to ``mmap_size`` (256 MiB). Read through SQLite's own page cache,
    the memory stays flat at the cache's size, and an import runs as fast.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA mmap_size")
        (size,) = cursor.fetchone()
        cursor.execute("PRAGMA mmap_size = 0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA mmap_size = {int(size)}")


def values_query(values: Iterable[Any], *, db_type: str = "text", upper: bool = False) -> RawSQL:
    """A subquery of ``values`` (strings, or what ``db_type`` names; ``UPPER`` of each when ``upper``)
    passed as one parameter, for ``field__in=``: a batch's thousands of emails or ids in a statement of
    any length, without the cost of thousands of bound parameters (nor their limit on SQLite)."""
    value = "UPPER(value)" if upper else "value"
    if connection.vendor == "postgresql":
        return RawSQL(f"SELECT {value} FROM unnest(%s::{db_type}[]) AS value", [list(values)])  # noqa: S608, S611
    return RawSQL(f"SELECT {value} FROM json_each(%s)", [json.dumps(list(values))])  # noqa: S608, S611
