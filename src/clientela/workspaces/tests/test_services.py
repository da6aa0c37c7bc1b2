"""Rules of workspaces, memberships, invitations and tokens (given / when / then)."""

import pytest
from django.utils import timezone

from clientela.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from clientela.core.models import AuditEvent
from clientela.workspaces import services
from clientela.workspaces.models import ApiToken, Membership, User
from clientela.workspaces.roles import Role


@pytest.mark.django_db
def test_workspace_create_derives_a_unique_slug_and_makes_the_admin_owner(settings):
    settings.PASSWORD_HASHERS = settings.PASSWORD_HASHERS[1:]  # the production list, without the test hasher
    ws1, user = services.workspace_create(
        name="Acme Srl", admin_email="Boss@Acme.test", admin_password="a-long-enough-password"
    )
    ws2, _ = services.workspace_create(name="Acme Srl", admin_email="boss@acme.test")
    assert (ws1.slug, ws2.slug) == ("acme-srl", "acme-srl-2")
    assert user.email == "boss@acme.test"
    assert user.password.startswith("argon2")
    assert Membership.all_workspaces.get(workspace=ws1, user=user).role == Role.OWNER
    assert AuditEvent.all_workspaces.filter(workspace=ws1, action="workspace.created").exists()


@pytest.mark.django_db
def test_workspace_create_rejects_a_bad_email_and_a_weak_password():
    with pytest.raises(ValidationFailed, match="valid email"):
        services.workspace_create(name="X", admin_email="not-an-email")
    with pytest.raises(ValidationFailed) as exc:
        services.workspace_create(name="X", admin_email="x@example.com", admin_password="123")
    assert "password" in exc.value.fields
    assert not User.objects.filter(email="x@example.com").exists()


def test_role_changes_respect_rank_and_keep_an_owner(owner_a, member_factory, in_workspace):
    admin = member_factory(owner_a.workspace, Role.ADMIN)
    sales = member_factory(owner_a.workspace, Role.SALES)
    with in_workspace(owner_a.workspace):
        services.member_change_role(actor=admin, member=sales, role=Role.SUPPORT)
        sales.refresh_from_db()
        assert sales.role == Role.SUPPORT
        with pytest.raises(PermissionDenied, match="above your own"):
            services.member_change_role(actor=admin, member=sales, role=Role.OWNER)
        with pytest.raises(PermissionDenied):
            services.member_change_role(actor=sales, member=admin, role=Role.READ_ONLY)
        with pytest.raises(Conflict, match="at least one owner"):
            services.member_change_role(actor=owner_a, member=owner_a, role=Role.ADMIN)
        with pytest.raises(Conflict, match="at least one owner"):
            services.member_remove(actor=owner_a, member=owner_a)
        assert AuditEvent.objects.filter(action="member.role_changed").count() == 1


def test_invitation_is_mailed_accepted_once_and_then_invalid(
    owner_a, in_workspace, smtp_server, django_capture_on_commit_callbacks
):
    from clientela.core.testing.fixtures import message_text

    with in_workspace(owner_a.workspace), django_capture_on_commit_callbacks(execute=True):
        services.invitation_create(
            actor=owner_a, email="New@Example.com", role=Role.SUPPORT, site_url="http://crm.test/"
        )
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "new@example.com"
    link = next(line for line in message_text(mail).splitlines() if line.startswith("http://crm.test/"))
    raw = link.rstrip("/").rsplit("/", 1)[1]

    membership = services.invitation_accept(
        raw_token=raw, user=None, password="a-long-enough-password", full_name="Nora New"
    )
    assert (membership.workspace, membership.role, membership.user.full_name) == (
        owner_a.workspace,
        Role.SUPPORT,
        "Nora New",
    )
    with pytest.raises(NotFound):
        services.invitation_accept(raw_token=raw, user=None, password="a-long-enough-password")


def test_api_tokens_are_hashed_revocable_and_tied_to_membership(owner_a, owner_b):
    token, raw = services.api_token_create(workspace=owner_a.workspace, user=owner_a.user, name="script")
    assert raw.startswith("clt_") and raw not in token.token_hash and token.prefix == raw[:12]
    found = services.api_token_authenticate(raw)
    assert (found.pk, found.name, found.user, found.workspace) == (
        token.pk,
        "script",
        owner_a.user,
        owner_a.workspace,
    )
    assert found.membership == owner_a
    assert ApiToken.all_workspaces.get(pk=token.pk).last_used_at is not None
    with pytest.raises(NotFound):
        services.api_token_create(workspace=owner_b.workspace, user=owner_a.user, name="not a member")
    services.api_token_revoke(token=token, actor=owner_a.user)
    assert services.api_token_authenticate(raw) is None
    assert services.api_token_authenticate("clt_" + "x" * 43) is None
    assert services.api_token_authenticate("garbage") is None


def test_an_authenticated_token_comes_with_converted_values_and_is_touched_once_a_minute(owner_a):
    """The token's hand-written join gives what the ORM would: aware datetimes, the related rows."""
    token, raw = services.api_token_create(workspace=owner_a.workspace, user=owner_a.user, name="script")
    first = services.api_token_authenticate(raw)
    second = services.api_token_authenticate(raw)  # reads the stored last_used_at back
    assert second.created_at == token.created_at and timezone.is_aware(second.created_at)
    assert second.last_used_at == first.last_used_at and timezone.is_aware(second.last_used_at)
    assert second.user.email == owner_a.user.email and second.workspace.slug == owner_a.workspace.slug
    assert (second.membership.role, second.membership.workspace, second.membership.user) == (
        owner_a.role,
        owner_a.workspace,
        owner_a.user,
    )
    owner_a.user.is_active = False
    owner_a.user.save()
    assert services.api_token_authenticate(raw) is None


def test_a_token_stops_working_when_its_user_leaves_the_workspace(owner_a, member_factory):
    member = member_factory(owner_a.workspace, Role.SALES)
    _token, raw = services.api_token_create(workspace=owner_a.workspace, user=member.user, name="script")
    assert services.api_token_authenticate(raw).membership == member
    services.member_remove(actor=owner_a, member=member)
    assert services.api_token_authenticate(raw) is None
