"""The HTTP scenarios, in report order. The first, marked ``floor``, is what every other one is compared to.

The customers scenarios also name their raw SQL floor (``sql_floor``, measured by ``bench/inprocess.py``
with the database driver, in the same run) and the p95 goal of the issue (on PostgreSQL at 1,000,000
people). A new capability adds its scenarios here (and the data they need in ``bench/data.py``); see
bench/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from bench.http import Scenario

LIST_QUERY = {"lifecycle_stage": "customer", "sort": "-created"}
LIST_GOAL_MS = 30
SEARCH_GOAL_MS = 50
CARD_GOAL_MS = 60


@dataclass(frozen=True)
class Customers:
    """What ``bench.data`` read back: the heavy person, search terms, a signed-in session."""

    heavy_person_id: int
    session_cookie: str  # "name=value"
    name_fragments: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)  # national format of the workspace's region
    emails: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    """What the scenarios may use: the generated data and a token of its first workspace's owner."""

    workspace_slug: str
    owner_email: str
    token: str
    customers: Customers | None = None


def _search_paths(terms: list[str]) -> tuple[str, ...]:
    return tuple(f"/api/v1/search?{urlencode({'q': term})}" for term in terms)


def customer_scenarios(ctx: Context) -> list[Scenario]:
    """The customers scenarios of the issue: list (API and page), search three ways, card and timeline."""
    if ctx.customers is None:
        return []
    c = ctx.customers
    bearer = {"Authorization": f"Bearer {ctx.token}"}
    session = {"Cookie": c.session_cookie}
    scenarios = [
        Scenario(
            "api people list (stage, -created, 50)",
            f"/api/v1/people?{urlencode({**LIST_QUERY, 'page_size': 50})}",
            headers=bearer,
            sql_floor="people list",
            count_queries=True,
            goal_p95_ms=LIST_GOAL_MS,
        ),
        Scenario(
            "people list page (stage, -created)",
            f"/people/?{urlencode(LIST_QUERY)}",
            headers=session,
            sql_floor="people list",
            count_queries=True,
            goal_p95_ms=LIST_GOAL_MS,
        ),
    ]
    for name, terms, floor in (
        ("api search: name fragment", c.name_fragments, "search name"),
        ("api search: phone (national)", c.phones, "search phone"),
        ("api search: email", c.emails, "search email"),
    ):
        if terms:
            paths = _search_paths(terms)
            scenarios.append(
                Scenario(
                    name,
                    paths[0],
                    headers=bearer,
                    paths=paths,
                    sql_floor=floor,
                    count_queries=True,
                    goal_p95_ms=SEARCH_GOAL_MS,
                )
            )
    heavy = c.heavy_person_id
    scenarios += [
        Scenario(
            "person card page (10,000 interactions)",
            f"/people/{heavy}/",
            headers=session,
            sql_floor="card",
            count_queries=True,
            goal_p95_ms=CARD_GOAL_MS,
        ),
        Scenario(
            "api person timeline (10,000 interactions)",
            f"/api/v1/people/{heavy}/timeline",
            headers=bearer,
            sql_floor="timeline",
            count_queries=True,
            goal_p95_ms=CARD_GOAL_MS,
        ),
    ]
    return scenarios


def http_scenarios(ctx: Context) -> list[Scenario]:
    bearer = {"Authorization": f"Bearer {ctx.token}"}
    return [
        # The floor: an empty endpoint (no database, no session); the cost of the server and the middleware.
        Scenario("healthz (floor)", "/healthz", floor=True),
        # Token lookup, membership, a small JSON body.
        Scenario("api me (bearer)", "/api/v1/me", headers=bearer),
        # An anonymous page: template rendering, CSRF cookie.
        Scenario("sign-in page", "/sign-in/"),
        *customer_scenarios(ctx),
    ]
