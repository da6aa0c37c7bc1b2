"""pytest fixtures shared by every app: workspaces with members, signed-in clients, API clients,
and the real services the suite talks to (Redis, an SMTP server, Chromium)."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from django.test import Client

from clientela.core.tenancy import workspace_scope
from clientela.core.testing.factories import TEST_PASSWORD, MembershipFactory, WorkspaceFactory, make_token
from clientela.workspaces.middleware import SESSION_KEY
from clientela.workspaces.models import Membership, Workspace
from clientela.workspaces.roles import Role

IN_CI = bool(os.environ.get("CI"))


def require_tool(condition: bool, what: str) -> None:
    """Skip locally when a real dependency is missing; in CI a missing engine is a failure, never a skip."""
    if condition:
        return
    message = f"{what} is not available (run 'make system-deps')"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- workspaces and clients -----------------------------------------------------------------------


@pytest.fixture
def workspace_a(db: None) -> Workspace:
    return WorkspaceFactory.create(name="Alpha Srl", slug="alpha")


@pytest.fixture
def workspace_b(db: None) -> Workspace:
    return WorkspaceFactory.create(name="Beta Kft", slug="beta")


@pytest.fixture
def owner_a(workspace_a: Workspace) -> Membership:
    return MembershipFactory.create(workspace=workspace_a, role=Role.OWNER, user__email="owner@alpha.test")


@pytest.fixture
def owner_b(workspace_b: Workspace) -> Membership:
    return MembershipFactory.create(workspace=workspace_b, role=Role.OWNER, user__email="owner@beta.test")


@pytest.fixture
def member_factory(db: None) -> Callable[..., Membership]:
    def make(workspace: Workspace, role: str = Role.SALES, email: str | None = None) -> Membership:
        kwargs: dict[str, Any] = {"workspace": workspace, "role": role}
        if email:
            kwargs["user__email"] = email
        return MembershipFactory.create(**kwargs)

    return make


def signed_in_client(membership: Membership, **client_kwargs: Any) -> Client:
    """A test client signed in as the member, with the member's workspace selected."""
    client = Client(**client_kwargs)
    client.force_login(membership.user)
    session = client.session
    session[SESSION_KEY] = membership.workspace_id
    session.save()
    return client


@pytest.fixture
def client_for() -> Callable[..., Client]:
    return signed_in_client


@dataclass
class ApiClient:
    """A Django test client that sends a bearer token and JSON."""

    token: str
    client: Client = field(default_factory=Client)

    def request(self, method: str, path: str, data: Any = None, **extra: Any) -> Any:
        import json

        kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {self.token}", **extra}
        if data is not None and method.upper() != "GET":
            kwargs.setdefault("content_type", "application/json")
            data = data if isinstance(data, str | bytes) else json.dumps(data)
        return getattr(self.client, method.lower())(path, data, **kwargs)

    def get(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self.request("GET", path, data, **extra)

    def post(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self.request("POST", path, data, **extra)

    def patch(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self.request("PATCH", path, data, **extra)

    def delete(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self.request("DELETE", path, data, **extra)


@pytest.fixture
def api_for() -> Callable[[Membership], ApiClient]:
    def make(membership: Membership) -> ApiClient:
        _token, raw = make_token(membership)
        return ApiClient(token=raw)

    return make


@pytest.fixture
def in_workspace() -> Callable[[Workspace], Any]:
    """``with in_workspace(ws):`` activates a workspace the way an entrypoint would."""
    return workspace_scope


# --- real services --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free port (or the one named by TEST_REDIS_URL)."""
    if os.environ.get("TEST_REDIS_URL"):
        yield os.environ["TEST_REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    require_tool(binary is not None, "redis-server")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],  # type: ignore[list-item]
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


@dataclass
class SmtpSink:
    """A real SMTP server (aiosmtpd) that keeps every message it receives."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    def wait_for(self, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"expected {count} message(s), got {len(self.messages)}"
        return self.messages


@pytest.fixture
def smtp_server(settings: Any) -> Iterator[SmtpSink]:
    """Route Django's mail through a real SMTP conversation with an in-process aiosmtpd server."""
    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd narrates every connection
    sink = SmtpSink(host="127.0.0.1", port=free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            sink.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    controller = Controller(Handler(), hostname=sink.host, port=sink.port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": sink.host, "port": sink.port, "timeout": 10},
        }
    }
    try:
        yield sink
    finally:
        controller.stop()


def message_text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    assert body is not None
    return str(body.get_content())


# --- browser --------------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    require_tool(os.path.exists(CHROMIUM), "Debian chromium")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture(scope="session", autouse=True)
def slower_machine_timeouts() -> None:
    """``expect`` waits up to 15 s (Playwright's default is 5): `make test` runs both suites at once,
    each with its live server and Chromium, on two cores, and a page that saves and redirects has been
    seen to need more than 5 s there."""
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)


@pytest.fixture
def signed_in_page(page: Any, live_server: Any) -> Callable[[Membership], Any]:
    """Sign a member in through the real form and return the Playwright page."""

    def sign_in(membership: Membership) -> Any:
        page.goto(f"{live_server.url}/sign-in/")
        page.get_by_label("Email").fill(membership.user.email)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")
        return page

    return sign_in
