"""The `clientela` command: administration commands, their errors and their help."""

import os
import subprocess
import sys

import pytest

from clientela.cli import main
from clientela.contacts.models import Person
from clientela.timeline.models import Interaction
from clientela.workspaces.models import Membership, User, Workspace
from clientela.workspaces.services import api_token_authenticate


@pytest.mark.django_db
def test_workspace_create_prints_the_slug_and_a_generated_password(capsys):
    assert main(["workspace", "create", "--name", "Acme Srl", "--admin-email", "boss@acme.test"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "acme-srl"
    assert "Generated password for boss@acme.test" in err
    password = err.rsplit(": ", 1)[1].strip()
    assert User.objects.get(email="boss@acme.test").check_password(password)


@pytest.mark.django_db
def test_user_add_and_token_create(capsys):
    main(
        [
            "workspace",
            "create",
            "--name",
            "Acme Srl",
            "--admin-email",
            "boss@acme.test",
            "--admin-password",
            "a-long-enough-password",
        ]
    )
    assert (
        main(["user", "add", "--workspace", "acme-srl", "--email", "Rep@Acme.test", "--role", "sales"]) == 0
    )
    assert Membership.all_workspaces.get(user__email="rep@acme.test").role == "sales"
    capsys.readouterr()
    assert (
        main(["token", "create", "--workspace", "acme-srl", "--email", "rep@acme.test", "--name", "zap"]) == 0
    )
    token = api_token_authenticate(capsys.readouterr().out.strip())
    assert token is not None and token.user.email == "rep@acme.test" and token.name == "zap"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["user", "add", "--workspace", "nope", "--email", "a@b.test", "--role", "sales"],
            "no workspace with slug",
        ),
        (
            ["user", "add", "--workspace", "demo", "--email", "a@b.test", "--role", "wizard"],
            "Unknown role wizard",
        ),
        (["token", "create", "--workspace", "demo", "--email", "ghost@b.test"], "no user with email"),
        (["workspace", "create", "--name", "X", "--admin-email", "not-an-email"], "valid email"),
    ],
)
def test_errors_are_one_clear_line_and_a_nonzero_exit(capsys, argv, message):
    Workspace.objects.create(name="Demo", slug="demo")
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("clientela: error: ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["worker"],
        ["scheduler"],
        ["migrate"],
        ["demo"],
        ["workspace", "create"],
        ["user", "add"],
        ["token", "create"],
    ],
)
def test_every_command_has_help(command):
    result = subprocess.run(
        [sys.executable, "-m", "clientela.cli", *command, "--help"],
        capture_output=True,
        text=True,
        env=os.environ,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: clientela" in result.stdout


@pytest.mark.django_db
def test_demo_is_idempotent_and_prints_credentials(capsys):
    main(["demo", "--people", "60"])
    first = capsys.readouterr().out
    main(["demo", "--people", "60"])
    assert capsys.readouterr().out == first
    assert "Sign in as: admin@example.com" in first and "Password:" in first
    password = first.split("Password:")[1].split()[0]
    assert User.objects.get(email="admin@example.com").check_password(password)
    assert Membership.all_workspaces.filter(workspace__slug="demo").count() == 7
    assert Person.all_workspaces.filter(workspace__slug="demo").count() == 60
    assert Interaction.all_workspaces.filter(workspace__slug="demo").exists()
