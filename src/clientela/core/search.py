"""Full-text search behind one function, whatever the database.

Records keep a folded ``search_text`` (lower case, no accents: see ``core.text.fold``). Every word of
the query must start a word of the record (``ross`` finds Rossi, ``szabo`` finds Szabó); results are
ranked best first.

- SQLite: an FTS5 table per model (``<table>_fts``, external content, kept in sync by triggers
  created in the app's migration), queried with prefix terms and ranked by bm25.
- PostgreSQL, in up to three passes, each only when the one before found nothing:
  1. a word of the name starts with the query's longest word (a btree range scan of ``<table>_words``,
     kept by triggers created in the app's migration) and every other word occurs in ``search_text``;
  2. every word occurs anywhere in ``search_text`` (inside a word, in an email or a job title), through
     a trigram GIN index;
  3. a typo-tolerant pass (``Rosi`` finds Rossi): the trigram word-similarity operator, same index.
  The candidates of a pass (a bounded set: a two-letter word starts a hundred thousand names) are
  ranked by word similarity.
"""

from __future__ import annotations

from django.db import connection, models
from django.db.models.expressions import RawSQL

from clientela.core.tenancy import active_workspace
from clientela.core.text import fold

TYPO_THRESHOLD = 0.45
CANDIDATES = 200


def words(query: str) -> list[str]:
    for separator in ".@-+":
        query = query.replace(separator, " ")
    return fold(query).split()[:8]


def search_ids(queryset: models.QuerySet, query: str, limit: int = 20) -> list[int]:
    """Primary keys of ``queryset`` rows matching ``query``, best first."""
    terms = words(query)
    if not terms:
        return []
    if connection.vendor == "postgresql":
        return _postgres(queryset, query, terms, limit)
    return _sqlite(queryset, terms, limit)


def _sqlite(queryset: models.QuerySet, terms: list[str], limit: int) -> list[int]:
    table = f"{queryset.model._meta.db_table}_fts"  # from the model, never from input
    match = " AND ".join('"{}"*'.format(t.replace('"', "")) for t in terms)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid FROM {table} WHERE {table} MATCH %s ORDER BY bm25({table}) LIMIT 2000", [match]
        )
        ranked = [row[0] for row in cursor.fetchall()]
    # The index knows every workspace and the trash: keep only what the caller's queryset allows.
    allowed = set(queryset.filter(pk__in=ranked).values_list("pk", flat=True))
    return [pk for pk in ranked if pk in allowed][:limit]


def _postgres(queryset: models.QuerySet, query: str, terms: list[str], limit: int) -> list[int]:
    from django.contrib.postgres.search import TrigramWordSimilarity

    folded = " ".join(terms)
    rank = TrigramWordSimilarity(folded, "search_text")

    def ranked(found: models.QuerySet) -> list[int]:
        return list(found.annotate(rank=rank).order_by("-rank", "pk").values_list("pk", flat=True)[:limit])

    # 1. Word prefix: the workspace's words from the longest query word on, in index order.
    longest = max(terms, key=len)
    table = f"{queryset.model._meta.db_table}_words"  # from the model, never from input
    by_word = RawSQL(  # noqa: S611 (the table name comes from the model, the input is a parameter)
        f"SELECT record_id FROM {table} WHERE workspace_id = %s AND word LIKE %s LIMIT %s",
        [active_workspace().pk, _escape_like(longest) + "%", max(CANDIDATES, limit)],
    )
    others = queryset
    for term in terms:
        if term != longest:
            others = others.filter(search_text__contains=term)
    if ids := ranked(others.filter(pk__in=by_word)):
        return ids
    # 2. Anywhere in the text (a bounded set of candidates: a fragment can match a million rows).
    matches = queryset
    for term in terms:
        matches = matches.filter(search_text__contains=term)
    if ids := ranked(queryset.filter(pk__in=matches.values("pk")[:CANDIDATES])):
        return ids
    # 3. Typos.
    fuzzy = (
        queryset.filter(search_text__trigram_word_similar=folded)
        .annotate(rank=rank)
        .filter(rank__gte=TYPO_THRESHOLD)
        .order_by("-rank", "pk")
    )
    return list(fuzzy.values_list("pk", flat=True)[:limit])


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
