"""A new user's first minutes, in a real Chromium: sign in, Italian and back, switch workspace, sign out."""

import pytest
from playwright.sync_api import Page, expect

from clientela.core.testing.factories import MembershipFactory
from clientela.workspaces.roles import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_in_switch_language_and_workspace_then_sign_out(
    page: Page, live_server, owner_a, workspace_b, signed_in_page, tmp_path
):
    MembershipFactory.create(workspace=workspace_b, user=owner_a.user, role=Role.SUPPORT)
    signed_in_page(owner_a)
    expect(page.get_by_test_id("current-workspace")).to_have_text("Alpha Srl")
    expect(page.locator("h1")).to_contain_text("Welcome")

    page.get_by_test_id("language-menu").click()
    page.get_by_role("button", name="Italiano").click()
    expect(page.locator("html")).to_have_attribute("lang", "it")
    expect(page.locator("h1")).to_contain_text("Benvenuto")
    page.screenshot(path=str(tmp_path / "home-it.png"), full_page=True)

    page.get_by_test_id("language-menu").click()
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_contain_text("Welcome")

    page.get_by_test_id("workspace-switcher").click()
    page.get_by_role("button", name="Beta Kft").click()
    expect(page.get_by_test_id("current-workspace")).to_have_text("Beta Kft")
    expect(page.get_by_text("Switched to Beta Kft.")).to_be_visible()

    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("sign-out").click()
    expect(page).to_have_url(f"{live_server.url}/sign-in/")
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto(f"{live_server.url}/settings/members/")
    expect(page).to_have_url(f"{live_server.url}/sign-in/?next=/settings/members/")


def test_wrong_password_shows_a_clear_error_on_a_phone(page: Page, live_server, owner_a):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Email").fill(owner_a.user.email)
    page.get_by_label("Password").fill("not the password")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("form-errors")).to_contain_text("do not match an account")
