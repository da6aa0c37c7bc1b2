"""Pages for signing in, members, invitations, API tokens and the audit trail."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from clientela.core.audit import audit_list
from clientela.core.errors import ApplicationError, NotFound
from clientela.workspaces import selectors, services
from clientela.workspaces.forms import (
    AcceptInvitationForm,
    InvitationForm,
    ResetForm,
    RoleForm,
    SignInForm,
    TokenForm,
)
from clientela.workspaces.http import WorkspaceRequest
from clientela.workspaces.middleware import SESSION_KEY
from clientela.workspaces.permissions import require, workspace_view
from clientela.workspaces.roles import Action, Module


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("web:home")
    form = SignInForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        assert form.user is not None
        login(request, form.user)
        response = redirect(_safe_next(request) or settings.LOGIN_REDIRECT_URL)
        if form.user.language:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, form.user.language, samesite="Lax")
        return response
    return render(
        request, "workspaces/pages/sign_in.html", {"form": form}, status=400 if form.errors else 200
    )


def _safe_next(request: HttpRequest) -> str | None:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.GET.get("next") or request.POST.get("next")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return None


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("login")


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ResetForm
    template_name = "workspaces/pages/password_reset.html"
    email_template_name = "workspaces/email/password_reset.txt"
    subject_template_name = "workspaces/email/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "workspaces/pages/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "workspaces/pages/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "workspaces/pages/password_reset_complete.html"


@workspace_view()
@require_POST
def switch_workspace(request: WorkspaceRequest, slug: str) -> HttpResponse:
    membership = selectors.membership_for(user=request.user, slug=slug)
    if membership is None:
        raise NotFound(_("No such workspace."))
    request.session[SESSION_KEY] = membership.workspace_id
    messages.success(request, _("Switched to %(workspace)s.") % {"workspace": membership.workspace.name})
    return redirect("web:home")


@workspace_view(Module.SETTINGS, Action.VIEW)
def members(request: WorkspaceRequest) -> HttpResponse:
    workspace, actor = request.workspace, request.membership
    form = InvitationForm(request.POST or None)
    if request.method == "POST":
        require(actor, Module.SETTINGS, Action.EDIT)
        if form.is_valid():
            try:
                services.invitation_create(
                    actor=actor,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    site_url=request.build_absolute_uri("/"),
                )
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]}
                )
                return redirect("workspaces:members")
    context = {
        "members": selectors.member_list(workspace=workspace),
        "invitations": selectors.invitation_list(workspace=workspace),
        "form": form,
        "role_form": RoleForm(),
        "can_edit": actor.role in ("owner", "admin"),
    }
    return render(request, "workspaces/pages/members.html", context)


@workspace_view(Module.SETTINGS, Action.EDIT)
@require_POST
def member_role(request: WorkspaceRequest, member_id: int) -> HttpResponse:
    member = selectors.member_get(workspace=request.workspace, member_id=member_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.member_change_role(
                actor=request.membership,
                member=member,
                role=form.cleaned_data["role"],
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Role of %(email)s changed.") % {"email": member.user.email})
    return redirect("workspaces:members")


@workspace_view(Module.SETTINGS, Action.EDIT)
@require_POST
def member_remove(request: WorkspaceRequest, member_id: int) -> HttpResponse:
    member = selectors.member_get(workspace=request.workspace, member_id=member_id)
    try:
        services.member_remove(actor=request.membership, member=member)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("%(email)s was removed from the workspace.") % {"email": member.user.email}
        )
    return redirect("workspaces:members")


@workspace_view(Module.SETTINGS, Action.EDIT)
@require_POST
def invitation_revoke(request: WorkspaceRequest, invitation_id: int) -> HttpResponse:
    invitation = selectors.invitation_list(workspace=request.workspace).get(pk=invitation_id)
    services.invitation_revoke(actor=request.membership, invitation=invitation)
    messages.success(request, _("Invitation to %(email)s revoked.") % {"email": invitation.email})
    return redirect("workspaces:members")


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_get_pending(raw_token=token)
    except NotFound as exc:
        return render(
            request, "workspaces/pages/invitation_invalid.html", {"message": exc.message}, status=404
        )
    user = request.user if request.user.is_authenticated else None
    form = AcceptInvitationForm(request.POST or None)
    if request.method == "POST" and (user is not None or form.is_valid()):
        try:
            membership = services.invitation_accept(
                raw_token=token,
                user=user,
                password=form.cleaned_data.get("password") if user is None else None,
                full_name=form.cleaned_data.get("full_name", "") if user is None else "",
            )
        except ApplicationError as exc:
            for field, errors in exc.fields.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            if not exc.fields:
                form.add_error(None, exc.message)
        else:
            if user is None:
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_KEY] = membership.workspace_id
            messages.success(
                request, _("Welcome to %(workspace)s.") % {"workspace": membership.workspace.name}
            )
            return redirect("web:home")
    return render(
        request,
        "workspaces/pages/invitation_accept.html",
        {"invitation": invitation, "form": form, "signed_in_user": user},
    )


@workspace_view()
@require_http_methods(["GET", "POST"])
def tokens(request: WorkspaceRequest) -> HttpResponse:
    workspace, user = request.workspace, request.user
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        _token, new_token = services.api_token_create(
            workspace=workspace,
            user=user,
            name=form.cleaned_data["name"],
        )
        form = TokenForm()
    context = {
        "tokens": selectors.api_token_list(workspace=workspace, user=user),
        "form": form,
        "new_token": new_token,
    }
    return render(request, "workspaces/pages/tokens.html", context)


@workspace_view()
@require_POST
def token_revoke(request: WorkspaceRequest, token_id: int) -> HttpResponse:
    token = selectors.api_token_get(
        workspace=request.workspace,
        user=request.user,
        token_id=token_id,
    )
    services.api_token_revoke(token=token, actor=request.user)
    messages.success(request, _("Token %(name)s revoked.") % {"name": token.name})
    return redirect("workspaces:tokens")


@workspace_view(Module.SETTINGS, Action.VIEW)
def audit(request: WorkspaceRequest) -> HttpResponse:
    return render(request, "workspaces/pages/audit.html", {"events": audit_list(workspace=request.workspace)})
