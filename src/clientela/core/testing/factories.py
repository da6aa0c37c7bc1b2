"""factory-boy factories for the foundation; demo data and tests build on them."""

from __future__ import annotations

from typing import Any

import factory

from clientela.workspaces.models import ApiToken, Membership, User, Workspace
from clientela.workspaces.roles import Role

TEST_PASSWORD = "correct horse battery staple"  # noqa: S105  (test users only)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password(TEST_PASSWORD)


class WorkspaceFactory(factory.django.DjangoModelFactory[Workspace]):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"workspace-{n}")


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership
        # Membership is scoped: the factory writes through the unscoped manager on purpose.
        django_get_or_create = ("workspace", "user")

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OWNER

    @classmethod
    def _get_manager(cls, model_class: type[Membership]) -> Any:
        return model_class.all_workspaces


def make_token(membership: Membership, name: str = "test") -> tuple[ApiToken, str]:
    from clientela.workspaces.services import api_token_create

    return api_token_create(workspace=membership.workspace, user=membership.user, name=name)
