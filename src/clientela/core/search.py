"""Full-text search behind one function, whatever the database.

Records keep a folded ``search_text`` (lower case, no accents: see ``core.text.fold``). Every word of
the query must start a word of the record (``ross`` finds Rossi, ``szabo`` finds Szabó); results are
ranked best first.

- SQLite: an FTS5 table per model (``<table>_fts``, external content, kept in sync by triggers
  created in the app's migration), queried with prefix terms and ranked by bm25.
- PostgreSQL: a trigram GIN index on ``search_text``; every word must occur (``ILIKE``), ranked by
  word similarity; when nothing matches, a typo-tolerant pass (``Rosi`` finds Rossi) uses the
  trigram word-similarity operator on the same index.
"""

from __future__ import annotations

from django.db import connection, models

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
    matches = queryset
    for term in terms:
        matches = matches.filter(search_text__contains=term)
    # Rank a bounded set of candidates: a two-letter fragment can match a million rows.
    candidates = matches.values("pk")[:CANDIDATES]
    ranked = (
        queryset.filter(pk__in=candidates)
        .annotate(rank=TrigramWordSimilarity(folded, "search_text"))
        .order_by("-rank", "pk")
    )
    ids = list(ranked.values_list("pk", flat=True)[:limit])
    if ids:
        return ids
    fuzzy = (
        queryset.filter(search_text__trigram_word_similar=folded)
        .annotate(rank=TrigramWordSimilarity(folded, "search_text"))
        .filter(rank__gte=TYPO_THRESHOLD)
        .order_by("-rank", "pk")
    )
    return list(fuzzy.values_list("pk", flat=True)[:limit])
