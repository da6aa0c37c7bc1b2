import pytest

from clientela.core.tenancy import WorkspaceNotActive, active_workspace_or_none, workspace_scope
from clientela.workspaces.models import Membership


def test_scoped_manager_fails_closed_without_an_active_workspace(owner_a):
    with pytest.raises(WorkspaceNotActive):
        list(Membership.objects.all())


def test_scoped_manager_sees_only_the_active_workspace(owner_a, owner_b):
    with workspace_scope(owner_a.workspace):
        assert list(Membership.objects.all()) == [owner_a]
        assert not Membership.objects.filter(pk=owner_b.pk).exists()
    with workspace_scope(owner_b.workspace):
        assert list(Membership.objects.all()) == [owner_b]


def test_scope_is_restored_after_the_block(owner_a, owner_b):
    with workspace_scope(owner_a.workspace):
        with workspace_scope(owner_b.workspace):
            assert active_workspace_or_none() == owner_b.workspace
        assert active_workspace_or_none() == owner_a.workspace
    assert active_workspace_or_none() is None


def test_saving_a_row_into_another_workspace_is_refused(owner_a, owner_b):
    owner_b.role = "admin"
    with workspace_scope(owner_a.workspace), pytest.raises(WorkspaceNotActive):
        owner_b.save()
    owner_b.refresh_from_db()
    assert owner_b.role == "owner"


def test_new_rows_take_the_active_workspace(owner_a, member_factory):
    from clientela.core.testing.factories import UserFactory

    with workspace_scope(owner_a.workspace):
        membership = Membership.objects.create(user=UserFactory.create(), role="sales")
    assert membership.workspace == owner_a.workspace
