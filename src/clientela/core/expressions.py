"""Query expressions that Django does not ship for every backend we run on."""

from __future__ import annotations

from typing import Any

from django.db.models import Aggregate, JSONField, OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONArray


class JSONList(Aggregate):
    """The group's values as one JSON array: ``json_group_array`` on SQLite, ``jsonb_agg`` on PostgreSQL.

    The order of the elements is not defined (SQLite before 3.44 cannot order inside an aggregate):
    callers sort what they read.
    """

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(compiler, connection, function="JSONB_AGG", **extra_context)


def related_rows(queryset: QuerySet, key: str, *columns: str) -> Subquery:
    """A correlated subquery: the ``columns`` of ``queryset``'s rows whose ``key`` is the outer row, as a
    JSON array of arrays (NULL when there is none). One index probe per outer row, where a prefetch would
    be one more query for the page."""
    rows = (
        queryset.filter(**{key: OuterRef("pk")})
        .order_by()
        .values(key)
        .annotate(rows=JSONList(JSONArray(*columns)))
        .values("rows")
    )
    return Subquery(rows, output_field=JSONField())
