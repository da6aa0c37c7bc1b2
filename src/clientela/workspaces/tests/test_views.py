"""Sign-in, password reset, invitations and the settings pages, through real requests."""

import re

import pytest
from django.test import Client

from clientela.core.testing.factories import TEST_PASSWORD
from clientela.core.testing.fixtures import message_text
from clientela.workspaces.models import Membership
from clientela.workspaces.roles import Role


def sign_in(client, email, password, **extra):
    return client.post("/sign-in/", {"email": email, "password": password}, **extra)


def test_sign_in_with_mixed_case_email_then_sign_out(owner_a):
    client = Client()
    response = sign_in(client, "Owner@Alpha.TEST", TEST_PASSWORD)
    assert (response.status_code, response["Location"]) == (302, "/")
    assert b"Alpha Srl" in client.get("/").content
    response = client.post("/sign-out/")
    assert response["Location"] == "/sign-in/"
    assert client.get("/")["Location"].startswith("/sign-in/")


@pytest.mark.parametrize(
    ("email", "password"), [("owner@alpha.test", "wrong"), ("nobody@alpha.test", "x" * 12)]
)
def test_wrong_password_and_unknown_email_get_the_same_clear_error(owner_a, email, password):
    response = sign_in(Client(), email, password)
    assert response.status_code == 400
    assert "do not match an account" in response.content.decode()


def test_sign_in_is_rate_limited_per_account(owner_a, settings):
    settings.SIGN_IN_LIMITS = {"account": (3, 900), "address": (100, 900)}
    client = Client()
    for _ in range(3):
        sign_in(client, "owner@alpha.test", "wrong")
    response = sign_in(client, "owner@alpha.test", TEST_PASSWORD)  # even the right password waits
    assert response.status_code == 400
    assert "Too many sign-in attempts" in response.content.decode()
    assert sign_in(Client(), "owner@beta.test", "wrong").status_code == 400  # other accounts unaffected


def test_sign_in_is_rate_limited_per_address(owner_a, settings):
    settings.SIGN_IN_LIMITS = {"account": (100, 900), "address": (3, 900)}
    for i in range(3):
        sign_in(Client(), f"guess{i}@alpha.test", "wrong", REMOTE_ADDR="10.9.9.9")
    response = sign_in(Client(), "owner@alpha.test", TEST_PASSWORD, REMOTE_ADDR="10.9.9.9")
    assert "Too many sign-in attempts" in response.content.decode()
    assert sign_in(Client(), "owner@alpha.test", TEST_PASSWORD, REMOTE_ADDR="10.1.1.1").status_code == 302


def test_sign_in_without_csrf_token_is_refused_with_a_page(owner_a):
    response = sign_in(Client(enforce_csrf_checks=True), "owner@alpha.test", TEST_PASSWORD)
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()


def test_password_reset_by_email_works_once(owner_a, smtp_server):
    client = Client()
    response = client.post("/password-reset/", {"email": "OWNER@alpha.test"})
    assert response["Location"] == "/password-reset/sent/"
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "owner@alpha.test"
    link = re.search(r"http://testserver(/password-reset/\S+/)", message_text(mail)).group(1)

    form = client.get(link, follow=True)
    assert b"Choose a new password" in form.content
    response = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a brand new passphrase", "new_password2": "a brand new passphrase"},
    )
    assert response["Location"] == "/password-reset/done/"
    assert sign_in(Client(), "owner@alpha.test", "a brand new passphrase").status_code == 302

    reused = Client().get(link, follow=True)
    assert b"This link no longer works" in reused.content


def test_password_reset_for_unknown_email_sends_nothing_but_looks_the_same(db, smtp_server):
    response = Client().post("/password-reset/", {"email": "ghost@example.com"})
    assert response["Location"] == "/password-reset/sent/"
    assert smtp_server.messages == []


def test_expired_reset_link_is_refused(owner_a, settings, smtp_server):
    Client().post("/password-reset/", {"email": "owner@alpha.test"})
    link = re.search(
        r"http://testserver(/password-reset/\S+/)", message_text(smtp_server.wait_for(1)[0])
    ).group(1)
    settings.PASSWORD_RESET_TIMEOUT = -1
    assert b"This link no longer works" in Client().get(link, follow=True).content


def test_language_switch_is_remembered_on_the_user(owner_a, client_for):
    client = client_for(owner_a)
    client.post("/language/", {"language": "it", "next": "/"})
    owner_a.user.refresh_from_db()
    assert owner_a.user.language == "it"
    assert '<html lang="it"' in client.get("/").content.decode()


def test_switching_workspace_only_to_ones_you_belong_to(owner_a, owner_b, member_factory, client_for):
    second = member_factory(owner_b.workspace, Role.SUPPORT, email=owner_a.user.email)
    client = client_for(owner_a)
    assert client.post(f"/switch/{owner_b.workspace.slug}/")["Location"] == "/"
    assert "Beta Kft" in client.get("/").content.decode()
    assert second.role == Role.SUPPORT
    assert client.post("/switch/no-such-workspace/").status_code == 404


def test_members_page_invites_and_changes_roles(
    owner_a, member_factory, client_for, smtp_server, django_capture_on_commit_callbacks
):
    sales = member_factory(owner_a.workspace, Role.SALES)
    client = client_for(owner_a)
    page = client.get("/settings/members/").content.decode()
    assert sales.user.email in page and "Invite someone" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/settings/members/", {"email": "invitee@example.com", "role": "support"})
    assert response.status_code == 302
    assert "invitee@example.com" in smtp_server.wait_for(1)[0]["To"]

    client.post(f"/settings/members/{sales.pk}/role/", {"role": "manager"})
    assert Membership.all_workspaces.get(pk=sales.pk).role == Role.MANAGER


def test_read_only_member_cannot_open_settings(owner_a, member_factory, client_for):
    reader = member_factory(owner_a.workspace, Role.READ_ONLY)
    client = client_for(reader)
    assert client.get("/").status_code == 200
    assert client.get("/settings/members/").status_code == 403


def test_unknown_page_gets_the_404_page(owner_a, client_for):
    response = client_for(owner_a).get("/no/such/page/")
    assert response.status_code == 404
    assert "This page does not exist" in response.content.decode()


def test_user_without_workspace_sees_how_to_get_one(db):
    from clientela.core.testing.factories import UserFactory

    client = Client()
    client.force_login(UserFactory.create())
    response = client.get("/")
    assert response.status_code == 403
    assert "not in any workspace" in response.content.decode()


def test_the_signed_in_user_comes_with_their_workspaces_and_is_still_checked(
    owner_a, owner_b, member_factory, client_for, django_assert_max_num_queries
):
    """``MembershipBackend``: one query for the user and their workspaces; a deactivated user, a
    changed password or a membership ended signs the session out or moves it, as before."""
    member_factory(owner_b.workspace, Role.SUPPORT, email=owner_a.user.email)
    client = client_for(owner_a)
    client.get("/")
    with django_assert_max_num_queries(2):  # the session, the user with both workspaces
        page = client.get("/", follow=False).content.decode()
    assert "Beta Kft" in page  # the switcher lists the other workspace
    user = owner_a.user
    user.set_password("another secret 123")
    user.save()
    assert client.get("/")["Location"].startswith("/sign-in/")  # Django's session hash check holds
    client = client_for(owner_a)
    Membership.all_workspaces.filter(pk=owner_a.pk).update(is_active=False)
    assert "Beta Kft" in client.get("/", follow=True).content.decode()  # on to the workspace left
    user.is_active = False
    user.save()
    assert client.get("/")["Location"].startswith("/sign-in/")
