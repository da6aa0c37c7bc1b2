"""The workspace-isolation suite: walks every page and API route and proves that nothing leaks.

Every app declares, in its ``isolation.py``, one ``RouteCase`` per route that takes a record id: how to
make such a record in a given workspace, and which module/action the route needs. The suite then:

1. fails if a route with path parameters has no case (a new route cannot be forgotten);
2. requests every route anonymously: pages redirect to sign-in, the API answers 401;
3. requests every record route as the owner of *another* workspace: the answer must be 404;
4. requests every route as each role in the record's own workspace: a role without the module/action
   gets 403, a role with it never does.

``check_*`` functions return a list of human-readable failures, so a test can also prove that a
deliberately leaky route is caught.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from clientela.workspaces.models import Workspace
from clientela.workspaces.roles import Action, Module, Role, role_allows

# Routes with no workspace data behind them (auth flows, language, health, the API's own docs).
PUBLIC_ROUTES = {
    "healthz",
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "invitation_accept",
    "web:set_language",
    "api:openapi-json",
    "api:openapi-view",
}


@dataclass(frozen=True)
class RouteCase:
    """How to exercise one route: ``make(workspace, member)`` creates a record and returns the URL
    kwargs (web) or path parameters (API) that point at it."""

    route: str  # URL name ("workspaces:member_role") or API "METHOD /path"
    make: Callable[[Workspace, Any], dict[str, Any]] | None = None
    methods: tuple[str, ...] = ("GET",)
    module: Module | None = None
    action: Action = Action.VIEW
    body: dict[str, Any] = field(default_factory=dict)
    # False for routes whose parameters are not record ids (an export format): no 404 expected.
    cross_workspace: bool = True


REGISTRY: dict[str, RouteCase] = {}
_TOKENS: dict[int, str] = {}  # member id -> raw token, reused within one check


def register(*cases: RouteCase) -> None:
    for case in cases:
        REGISTRY[case.route] = case


def autodiscover() -> None:
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("isolation")


# --- discovering routes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WebRoute:
    name: str
    params: tuple[str, ...]


def web_routes(urlconf: str | None = None) -> list[WebRoute]:
    """Every named page route of Clientela (admin and the API are covered elsewhere)."""

    def walk(resolver: URLResolver, namespace: str, prefix: str) -> Iterator[WebRoute]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                if entry.namespace in ("admin", "api"):
                    continue
                yield from walk(entry, ns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern) and entry.name:
                pattern = prefix + str(entry.pattern)
                params = tuple(re.findall(r"<(?:\w+:)?(\w+)>", pattern))
                yield WebRoute(f"{namespace}{entry.name}", params)

    return list(walk(get_resolver(urlconf), "", ""))


@dataclass(frozen=True)
class ApiRoute:
    method: str
    path: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)


def api_routes() -> list[ApiRoute]:
    from clientela.api.api import api

    schema = api.get_openapi_schema()
    prefix = "/api/v1"
    return [
        ApiRoute(method.upper(), path.removeprefix(prefix))
        for path, operations in schema["paths"].items()
        for method in operations
    ]


# --- checks ---------------------------------------------------------------------------------------


def _client_for(member: Any) -> Client:
    from clientela.core.testing.fixtures import signed_in_client

    return signed_in_client(member)


def _make_member(workspace: Workspace, role: str) -> Any:
    from clientela.core.testing.factories import MembershipFactory

    return MembershipFactory.create(
        workspace=workspace, role=role, user__email=f"{role}@{workspace.slug}.isolation"
    )


def _api_url(route: ApiRoute, params: dict[str, Any]) -> str:
    return "/api/v1" + route.path.format(**params)


def _web_request(client: Client, method: str, url: str, body: dict[str, Any]) -> Any:
    if method == "GET":
        return client.get(url)
    return getattr(client, method.lower())(url, body)


def _web_url(route: WebRoute, kwargs: dict[str, Any], urlconf: str | None) -> str:
    from django.urls import reverse

    return reverse(route.name, kwargs={k: kwargs[k] for k in route.params}, urlconf=urlconf)


def check_web(workspace_a: Workspace, workspace_b: Workspace, urlconf: str | None = None) -> list[str]:
    """All failures of page routes; an empty list means every page is isolated and role-checked."""
    autodiscover()
    failures: list[str] = []
    intruder = _make_member(workspace_a, Role.OWNER)
    owner_b = _make_member(workspace_b, Role.OWNER)
    anonymous = Client()
    for route in web_routes(urlconf):
        if route.name in PUBLIC_ROUTES:
            continue
        case = REGISTRY.get(route.name)
        if route.params and (case is None or case.make is None):
            failures.append(f"{route.name}: takes {route.params} but has no isolation case")
            continue
        case = case or RouteCase(route.name)
        kwargs = case.make(workspace_b, owner_b) if case.make else {}
        url = _web_url(route, kwargs, urlconf)
        for method in case.methods:
            response = _web_request(anonymous, method, url, {})
            if response.status_code != 302 or "/sign-in/" not in response.get("Location", ""):
                failures.append(
                    f"{route.name} {method} {url}: anonymous got {response.status_code}, not sign-in"
                )
            if route.params and case.cross_workspace:
                response = _web_request(_client_for(intruder), method, url, case.body)
                if response.status_code != 404:
                    failures.append(
                        f"{route.name} {method} {url}: owner of another workspace got "
                        f"{response.status_code}, expected 404"
                    )
        failures += _check_roles(
            route.name, case, workspace_b, functools.partial(_web_url, route, urlconf=urlconf)
        )
    return failures


def check_api(workspace_a: Workspace, workspace_b: Workspace) -> list[str]:
    """All failures of API routes, like ``check_web``: 401 anonymous, 404 across workspaces, 403 by role."""
    from clientela.core.testing.factories import make_token
    from clientela.core.testing.fixtures import ApiClient

    autodiscover()
    _TOKENS.clear()
    failures: list[str] = []
    intruder = ApiClient(token=make_token(_make_member(workspace_a, Role.OWNER))[1])
    owner_b = _make_member(workspace_b, Role.OWNER)
    for route in api_routes():
        case = REGISTRY.get(route.key)
        if route.params and (case is None or case.make is None):
            failures.append(f"{route.key}: takes {route.params} but has no isolation case")
            continue
        case = case or RouteCase(route.key)
        params = case.make(workspace_b, owner_b) if case.make else {}
        url = "/api/v1" + route.path.format(**params)
        response = Client().generic(route.method, url, "{}", content_type="application/json")
        if response.status_code != 401:
            failures.append(f"{route.key}: anonymous got {response.status_code}, expected 401")
        if route.params:
            response = intruder.request(route.method, url, case.body or {})
            if response.status_code != 404:
                failures.append(
                    f"{route.key} {url}: token of another workspace got {response.status_code}, expected 404"
                )
        failures += _check_roles(route.key, case, workspace_b, functools.partial(_api_url, route), api=True)
    return failures


def _check_roles(
    name: str,
    case: RouteCase,
    workspace: Workspace,
    url_for: Callable[[dict[str, Any]], str],
    api: bool = False,
) -> list[str]:
    from clientela.core.testing.factories import make_token
    from clientela.core.testing.fixtures import ApiClient

    if case.module is None:
        return []
    failures = []
    for role in Role:
        member = _make_member(workspace, role)
        kwargs = case.make(workspace, member) if case.make else {}
        url = url_for(kwargs)
        allowed = role_allows(role, case.module, case.action)
        for method in case.methods:
            if api:
                if member.pk not in _TOKENS:
                    _TOKENS[member.pk] = make_token(member)[1]
                response = ApiClient(token=_TOKENS[member.pk]).request(method, url, case.body or {})
            else:
                response = _web_request(_client_for(member), method, url, case.body)
            if allowed and response.status_code == 403:
                failures.append(
                    f"{name} {method}: role {role} is allowed {case.module}/{case.action} but got 403"
                )
            if not allowed and response.status_code != 403:
                failures.append(
                    f"{name} {method}: role {role} lacks {case.module}/{case.action} but got "
                    f"{response.status_code}"
                )
    return failures
