"""The HTTP scenarios, in report order. The first, marked ``floor``, is what every other one is compared to.

A new capability adds its scenarios here (and the data they need in ``bench/data.py``); see bench/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.http import Scenario


@dataclass(frozen=True)
class Context:
    """What the scenarios may use: the generated data and a token of its first workspace's owner."""

    workspace_slug: str
    owner_email: str
    token: str


def http_scenarios(ctx: Context) -> list[Scenario]:
    bearer = {"Authorization": f"Bearer {ctx.token}"}
    return [
        # The floor: an empty endpoint (no database, no session); the cost of the server and the middleware.
        Scenario("healthz (floor)", "/healthz", floor=True),
        # Token lookup, membership, a small JSON body.
        Scenario("api me (bearer)", "/api/v1/me", headers=bearer),
        # An anonymous page: template rendering, CSRF cookie.
        Scenario("sign-in page", "/sign-in/"),
    ]
