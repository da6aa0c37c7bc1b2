"""Benchmark data at a chosen ``--scale``: workspaces and members now; people, companies and deals later.

Scale 1 is one workspace (``bench-1``) with its owner and about 50 members; scale N is N such workspaces.
Names come from Faker in the four launch locales, seeded, so every run builds the same data.

The harness runs this module in a subprocess (``python -m bench.data --scale N``) so that Django reads the
same environment as the server it benchmarks (``CLIENTELA_DATA_DIR``, ``DATABASE_URL``); it prints a JSON
summary on stdout. Workspaces that already exist are left alone, so running it twice adds nothing.

To grow the data with a capability, write ``<things>_generate(workspace, fake, plan) -> int`` (rows created,
``bulk_create`` for anything numerous), give ``Plan`` its size per workspace and append it to ``GENERATORS``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from faker import Faker

if TYPE_CHECKING:
    from clientela.workspaces.models import Workspace

LOCALES = ["it_IT", "hu_HU", "ro_RO", "en_US"]
# Roles of generated members, repeated in this proportion: mostly sales, a few of everything else.
MEMBER_ROLES = ["sales"] * 5 + ["support"] * 2 + ["marketing", "manager", "read_only", "admin"]


@dataclass(frozen=True)
class Plan:
    """How much to generate: ``workspaces`` and, for each, how many rows of each kind."""

    scale: int
    workspaces: int
    members_per_workspace: int

    @classmethod
    def for_scale(cls, scale: int) -> Plan:
        if scale < 1:
            raise ValueError("scale must be at least 1")
        return cls(scale=scale, workspaces=scale, members_per_workspace=50)


def _slug(n: int) -> str:
    return f"bench-{n}"


def _owner_email(n: int) -> str:
    return f"owner@{_slug(n)}.example.com"


def members_generate(workspace: Workspace, fake: Faker, plan: Plan) -> int:
    """``plan.members_per_workspace`` users (no usable password) with a role in ``workspace``."""
    from django.contrib.auth.hashers import make_password
    from django.utils.text import slugify

    from clientela.core.tenancy import workspace_scope
    from clientela.workspaces.models import Membership, User

    users = []
    for i in range(plan.members_per_workspace):
        locale = LOCALES[i % len(LOCALES)]
        first, last = fake[locale].first_name(), fake[locale].last_name()
        users.append(
            User(
                email=f"{slugify(first) or 'user'}.{slugify(last) or i}.{i}@{workspace.slug}.example.com",
                full_name=f"{first} {last}",
                language=locale[:2],
                password=make_password(None),
            )
        )
    users = User.objects.bulk_create(users)
    with workspace_scope(workspace):
        Membership.objects.bulk_create(
            Membership(workspace=workspace, user=user, role=MEMBER_ROLES[i % len(MEMBER_ROLES)])
            for i, user in enumerate(users)
        )
    return len(users)


# Run in order for every new workspace; the key names the rows in the summary.
GENERATORS: dict[str, Callable[[Workspace, Faker, Plan], int]] = {
    "members": members_generate,
}


def generate(scale: int, *, seed: int = 20261123) -> dict[str, Any]:
    """Create the data of ``scale`` (what is missing of it) and return a summary the harness can read."""
    from django.db import transaction

    from clientela.workspaces.models import Workspace
    from clientela.workspaces.services import workspace_create

    plan = Plan.for_scale(scale)
    fake = Faker(LOCALES)
    created = dict.fromkeys(["workspaces", *GENERATORS], 0)
    started = time.perf_counter()
    for n in range(1, plan.workspaces + 1):
        if Workspace.objects.filter(slug=_slug(n)).exists():
            continue
        fake.seed_instance(seed + n)  # the same names for workspace n whatever exists already
        with transaction.atomic():
            workspace, owner = workspace_create(name=f"Bench {n}", admin_email=_owner_email(n))
            owner.full_name = fake.name()
            owner.save(update_fields=["full_name"])
            created["workspaces"] += 1
            for name, generator in GENERATORS.items():
                created[name] += generator(workspace, fake, plan)
    return {
        "plan": asdict(plan),
        "created": created,
        "seconds": round(time.perf_counter() - started, 2),
        "workspaces": [
            {"slug": _slug(n), "owner_email": _owner_email(n)} for n in range(1, plan.workspaces + 1)
        ],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.data", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="1: one workspace with ~50 members (default 1)")
    parser.add_argument("--seed", type=int, default=20261123, help="Faker seed (default: fixed)")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clientela.config.settings")
    import django

    django.setup()
    print(json.dumps(generate(args.scale, seed=args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
