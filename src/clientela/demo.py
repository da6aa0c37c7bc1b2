"""Demo data for a first run: a workspace, its admin and a team, and customers with their history.

Running it again reuses what exists. The admin's generated password is kept in the data directory
(readable only by its owner) so that ``make run`` can print it every time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from faker import Faker

from clientela.billing.demo import demo_billing
from clientela.contacts.demo import demo_customers
from clientela.core.tenancy import workspace_scope
from clientela.sales.demo import demo_deals
from clientela.workspaces.models import Membership, User, Workspace
from clientela.workspaces.roles import Role
from clientela.workspaces.services import member_add, workspace_create

DEMO_ADMIN_EMAIL = "admin@example.com"
LOCALES = ["it_IT", "hu_HU", "ro_RO", "en_US"]
TEAM_ROLES = [Role.MANAGER, Role.SALES, Role.SALES, Role.SUPPORT, Role.MARKETING, Role.READ_ONLY]


@dataclass
class DemoResult:
    workspace: Workspace
    email: str
    password: str | None


def _stored_password() -> str:
    path = settings.DATA_DIR / "demo-admin-password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(9))
        path.chmod(0o600)
    return path.read_text().strip()


@transaction.atomic
def demo_load(*, slug: str = "demo", people: int = 2000, seed: int = 20261123) -> DemoResult:
    """Create the demo workspace (named after ``slug``): owner, team and customers, unless they exist."""
    workspace = Workspace.objects.filter(slug=slug).first()
    admin = User.objects.filter(email=DEMO_ADMIN_EMAIL).first()
    password = _stored_password() if admin is None or admin.check_password(_stored_password()) else None
    if workspace is None:
        workspace, admin = workspace_create(
            name=slug.replace("-", " ").title(), admin_email=DEMO_ADMIN_EMAIL, admin_password=password
        )
        if workspace.slug != slug:  # the name produced another slug: keep the one asked for
            workspace.slug = slug
            workspace.save(update_fields=["slug"])
        _add_team(workspace, seed)
    if admin is not None and not admin.full_name:
        admin.full_name = "Ada Admin"
        admin.save(update_fields=["full_name"])
    with workspace_scope(workspace):
        if admin is not None:
            Membership.objects.get_or_create(workspace=workspace, user=admin, defaults={"role": Role.OWNER})
        owners = [
            m.user
            for m in Membership.objects.select_related("user").filter(
                role__in=[Role.OWNER, Role.MANAGER, Role.SALES]
            )
        ]
        demo_customers(workspace=workspace, owners=owners, people=people, seed=seed)
        demo_deals(workspace=workspace, owners=owners, count=max(10, people // 5), seed=seed)
        demo_billing(workspace=workspace, owners=owners, seed=seed)
    return DemoResult(workspace=workspace, email=DEMO_ADMIN_EMAIL, password=password)


def _add_team(workspace: Workspace, seed: int) -> None:
    fake = Faker(LOCALES)
    fake.seed_instance(seed)
    for i, role in enumerate(TEAM_ROLES):
        faker = fake[LOCALES[i % len(LOCALES)]]
        first, last = faker.first_name(), faker.last_name()
        email = f"{workspace.slug}.{role}.{i}@example.com"
        if User.objects.filter(email=email).exists():
            continue
        membership = member_add(workspace=workspace, email=email, role=role, password=None)
        membership.user.full_name = f"{first} {last}"
        membership.user.save(update_fields=["full_name"])
