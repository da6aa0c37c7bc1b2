from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from clientela.core import ratelimit
from clientela.workspaces.models import User, normalize_email
from clientela.workspaces.roles import Role


def client_address(request: HttpRequest) -> str:
    """The caller's IP: behind ``TRUSTED_PROXY_HOPS`` reverse proxies, the address they saw."""
    hops = settings.TRUSTED_PROXY_HOPS
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return str(request.META.get("REMOTE_ADDR", ""))


class SignInForm(forms.Form):
    """Email and password, with attempts limited per account and per address."""

    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: User | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        email, password = data.get("email"), data.get("password")
        if not email or not password:
            return data
        email = normalize_email(email)
        address = client_address(self.request)
        limits = settings.SIGN_IN_LIMITS
        for scope, ident in (("account", email), ("address", address)):
            allowed, window = limits[scope]
            if ratelimit.hits(f"signin-{scope}", ident, window) >= allowed:
                raise forms.ValidationError(
                    _("Too many sign-in attempts. Wait %(minutes)d minutes and try again."),
                    code="rate_limited",
                    params={"minutes": window // 60},
                )
        user = authenticate(self.request, username=email, password=password)
        if user is None:
            for scope, ident in (("account", email), ("address", address)):
                ratelimit.hit(f"signin-{scope}", ident, limits[scope][1])
            raise forms.ValidationError(
                _(
                    "This email and password do not match an account. Both are case-sensitive except the "
                    "email."
                ),
                code="invalid_login",
            )
        ratelimit.reset("signin-account", email, limits["account"][1])
        self.user = user
        return data


class ResetForm(PasswordResetForm):
    """Django's reset form, matching emails without regard to case."""

    def get_users(self, email: str) -> Any:
        return User.objects.filter(email=normalize_email(email), is_active=True)


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.SALES)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class AcceptInvitationForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    password = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. Zapier, reporting script")}),
    )
