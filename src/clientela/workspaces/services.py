"""Writes for workspaces, users, memberships, invitations and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from clientela.core.audit import audit_record
from clientela.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from clientela.core.rawsql import Columns, fetch_one
from clientela.core.tenancy import workspace_scope
from clientela.workspaces.models import ApiToken, Invitation, Membership, User, Workspace, normalize_email
from clientela.workspaces.roles import ROLE_RANK, Role

TOKEN_PREFIX = "clt_"  # noqa: S105  (a public prefix, not a secret)
INVITATION_LIFETIME = timedelta(days=7)
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)


def secret_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _clean_email(email: str) -> str:
    email = normalize_email(email)
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed(
            _("Enter a valid email address."), fields={"email": [_("Invalid email.")]}
        ) from None
    return email


def _clean_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        choices = ", ".join(Role.values)
        raise ValidationFailed(
            _("Unknown role %(role)s. Choose one of: %(choices)s.") % {"role": role, "choices": choices},
            fields={"role": [_("Unknown role.")]},
        ) from None


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "workspace"
    slug, n = base, 1
    while Workspace.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def user_create(*, email: str, password: str | None, full_name: str = "") -> User:
    """Create a user; the password is checked against the validators (a ``None`` password is unusable)."""
    email = _clean_email(email)
    if User.objects.filter(email=email).exists():
        raise Conflict(_("A user with this email already exists."), fields={"email": [_("Already taken.")]})
    if password is not None:
        try:
            validate_password(password, User(email=email, full_name=full_name))
        except ValidationError as exc:
            raise ValidationFailed(" ".join(exc.messages), fields={"password": list(exc.messages)}) from None
    return User.objects.create_user(email, password, full_name=full_name)


@transaction.atomic
def workspace_create(
    *, name: str, admin_email: str, admin_password: str | None = None
) -> tuple[Workspace, User]:
    """Create a workspace and make ``admin_email`` its owner, creating that user if needed.

    The slug is derived from the name (``Acme Srl`` -> ``acme-srl``) and made unique with a suffix.
    """
    name = name.strip()
    if not name:
        raise ValidationFailed(_("A workspace needs a name."), fields={"name": [_("Required.")]})
    email = _clean_email(admin_email)
    user = User.objects.filter(email=email).first()
    if user is None:
        user = user_create(email=email, password=admin_password)
    workspace = Workspace.objects.create(name=name, slug=_unique_slug(name))
    with workspace_scope(workspace):
        Membership.objects.create(workspace=workspace, user=user, role=Role.OWNER)
        audit_record(workspace=workspace, actor=user, action="workspace.created", target=workspace)
    return workspace, user


@transaction.atomic
def member_add(*, workspace: Workspace, email: str, role: str, password: str | None = None) -> Membership:
    """Give a user (created if new) a role in ``workspace``."""
    email, role = _clean_email(email), _clean_role(role)
    user = User.objects.filter(email=email).first() or user_create(email=email, password=password)
    with workspace_scope(workspace):
        membership, created = Membership.objects.get_or_create(
            workspace=workspace, user=user, defaults={"role": role}
        )
        if not created:
            raise Conflict(_("%(email)s is already a member of this workspace.") % {"email": email})
        audit_record(workspace=workspace, actor=None, action="member.added", target=membership, summary=email)
    return membership


def _require_can_manage(actor: Membership, role: str) -> None:
    if actor.role not in (Role.OWNER, Role.ADMIN):
        raise PermissionDenied(_("Only owners and admins manage members."))
    if ROLE_RANK[Role(role)] > ROLE_RANK[Role(actor.role)]:
        raise PermissionDenied(_("You cannot grant a role above your own."))


def _require_another_owner(member: Membership) -> None:
    """Lock the workspace's owners (fixed order) and refuse to lose the last one."""
    owners = list(
        Membership.objects.select_for_update()
        .filter(workspace=member.workspace, role=Role.OWNER, is_active=True)
        .order_by("pk")
    )
    if len(owners) <= 1:
        raise Conflict(_("A workspace needs at least one owner."))


@transaction.atomic
def member_change_role(*, actor: Membership, member: Membership, role: str) -> Membership:
    """Change a member's role. Nobody grants more than they hold; a workspace keeps at least one owner."""
    role = _clean_role(role)
    _require_can_manage(actor, role)
    _require_can_manage(actor, member.role)
    if member.role == Role.OWNER and role != Role.OWNER:
        _require_another_owner(member)
    old = member.role
    member.role = role
    member.save(update_fields=["role"])
    audit_record(
        workspace=member.workspace,
        actor=actor.user,
        action="member.role_changed",
        target=member,
        summary=f"{member.user.email}: {old} -> {role}",
        data={"from": old, "to": role},
    )
    return member


@transaction.atomic
def member_remove(*, actor: Membership, member: Membership) -> None:
    """Remove a member from the workspace (the user and their other workspaces stay)."""
    _require_can_manage(actor, member.role)
    if member.role == Role.OWNER:
        _require_another_owner(member)
    audit_record(
        workspace=member.workspace,
        actor=actor.user,
        action="member.removed",
        target=member,
        summary=member.user.email,
    )
    member.delete()


@transaction.atomic
def invitation_create(*, actor: Membership, email: str, role: str, site_url: str) -> Invitation:
    """Invite ``email`` with ``role``; the email with the link is sent by a task after commit."""
    from clientela.core.tasks import enqueue_on_commit
    from clientela.workspaces.tasks import send_invitation

    email, role = _clean_email(email), _clean_role(role)
    _require_can_manage(actor, role)
    if Membership.objects.filter(workspace=actor.workspace, user__email=email).exists():
        raise Conflict(_("%(email)s is already a member of this workspace.") % {"email": email})
    invitation = Invitation.objects.create(
        workspace=actor.workspace,
        email=email,
        role=role,
        invited_by=actor.user,
        token_hash=secret_hash(secrets.token_urlsafe(32)),  # replaced when the email is sent
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    audit_record(
        workspace=actor.workspace,
        actor=actor.user,
        action="invitation.created",
        target=invitation,
        summary=f"{email} as {role}",
    )
    enqueue_on_commit(
        send_invitation, actor.workspace_id, invitation.pk, site_url, translation.get_language()
    )
    return invitation


@transaction.atomic
def invitation_send(*, invitation: Invitation, site_url: str, language: str | None = None) -> None:
    """Email a fresh link for a pending invitation; any link sent before stops working.

    The secret exists only in the email: the database keeps its hash, the task queue never sees it.
    """
    if not invitation.is_pending:
        return
    raw = secrets.token_urlsafe(32)
    invitation.token_hash = secret_hash(raw)
    invitation.save(update_fields=["token_hash"])
    context = {
        "workspace": invitation.workspace,
        "inviter": invitation.invited_by,
        "role": Role(invitation.role).label,
        "url": site_url.rstrip("/") + reverse("invitation_accept", args=[raw]),
        "days": INVITATION_LIFETIME.days,
    }
    with translation.override(language):
        send_mail(
            subject=_("You are invited to %(workspace)s on Clientela")
            % {"workspace": invitation.workspace.name},
            message=render_to_string("workspaces/email/invitation.txt", context),
            from_email=None,
            recipient_list=[invitation.email],
        )


def invitation_get_pending(*, raw_token: str) -> Invitation:
    """The pending invitation behind a link; expired, revoked, used and unknown links are all NotFound."""
    invitation = (
        Invitation.all_workspaces.select_related("workspace")
        .filter(token_hash=secret_hash(raw_token))
        .first()
    )
    if invitation is None or not invitation.is_pending:
        raise NotFound(_("This invitation link is invalid, expired or already used."))
    return invitation


@transaction.atomic
def invitation_accept(
    *, raw_token: str, user: User | None, password: str | None = None, full_name: str = ""
) -> Membership:
    """Join the workspace of the invitation: as the signed-in user, or as a new user with ``password``."""
    invitation = invitation_get_pending(raw_token=raw_token)
    if user is None:
        existing = User.objects.filter(email=invitation.email).first()
        if existing is not None:
            raise Conflict(
                _("An account exists for %(email)s: sign in first, then open the link again.")
                % {"email": invitation.email}
            )
        user = user_create(email=invitation.email, password=password, full_name=full_name)
    with workspace_scope(invitation.workspace):
        membership, _created = Membership.objects.get_or_create(
            workspace=invitation.workspace, user=user, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        audit_record(
            workspace=invitation.workspace, actor=user, action="invitation.accepted", target=membership
        )
    return membership


@transaction.atomic
def invitation_revoke(*, actor: Membership, invitation: Invitation) -> None:
    _require_can_manage(actor, invitation.role)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])


@transaction.atomic
def api_token_create(*, workspace: Workspace, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for ``user`` in ``workspace``; returns the model and the raw secret, shown once."""
    name = name.strip() or _("API token")
    with workspace_scope(workspace):
        if not Membership.objects.filter(user=user, is_active=True).exists():
            raise NotFound(
                _("%(email)s is not a member of %(workspace)s.")
                % {"email": user.email, "workspace": workspace.slug}
            )
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken.objects.create(
            workspace=workspace, user=user, name=name[:100], prefix=raw[:12], token_hash=secret_hash(raw)
        )
        audit_record(workspace=workspace, actor=user, action="api_token.created", target=token, summary=name)
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(workspace=token.workspace, actor=actor, action="api_token.revoked", target=token)
    return token


# The token's join, hand-written (see core.rawsql): it runs on every API request.
_TOKEN, _MEMBERSHIP = Columns(ApiToken, "t"), Columns(Membership, "m")
_USER, _WORKSPACE = Columns(User, "u"), Columns(Workspace, "w")
_TOKEN_JOIN = (_TOKEN, _MEMBERSHIP, _USER, _WORKSPACE)


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The active token for a raw secret, with its user, its workspace and its ``membership`` (the user's
    active membership of that workspace), all read in one query; ``None`` if the secret is unknown or
    revoked, or its user is inactive or no longer a member.

    ``last_used_at`` is refreshed at most once a minute, so reads do not turn into a write each.
    """
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    found = fetch_one(
        _TOKEN_JOIN,
        "SELECT {columns} FROM {t} JOIN {m} ON m.user_id = t.user_id AND m.workspace_id = t.workspace_id"
        " JOIN {u} ON u.id = t.user_id JOIN {w} ON w.id = t.workspace_id"
        " WHERE t.token_hash = %s AND t.revoked_at IS NULL AND m.is_active = %s AND u.is_active = %s",
        [secret_hash(raw), True, True],
    )
    if found is None:
        return None
    token, membership, user, workspace = found
    assert isinstance(token, ApiToken) and isinstance(membership, Membership)
    token.user = membership.user = user  # type: ignore[assignment]
    token.workspace = membership.workspace = workspace  # type: ignore[assignment]
    token.membership = membership  # type: ignore[attr-defined]
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > TOKEN_TOUCH_INTERVAL:
        ApiToken.all_workspaces.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
