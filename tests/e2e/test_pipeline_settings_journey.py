"""An admin reorders a pipeline's stages with the keyboard alone, then retires a stage and brings it back,
in a real Chromium."""

import pytest
from playwright.sync_api import Page, expect

from clientela.core.tenancy import workspace_scope
from clientela.sales import services as sales
from clientela.sales.models import Stage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_stages_are_reordered_with_the_keyboard(page: Page, live_server, owner_a, signed_in_page):
    with workspace_scope(owner_a.workspace):
        pipeline = sales.pipeline_ensure_default(workspace=owner_a.workspace)
    first, second = list(Stage.all_workspaces.filter(pipeline=pipeline).order_by("position"))[:2]
    signed_in_page(owner_a)
    page.goto(f"{live_server.url}/settings/pipelines/")
    expect(page.get_by_test_id("reorder-form")).to_be_hidden()

    page.get_by_role("button", name=f"Move {first.name} down").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name=f"Move {first.name} down")).to_be_focused()
    rows = page.locator("#stage-rows tr")
    expect(rows.nth(0)).to_have_attribute("data-stage-id", str(second.pk))
    page.get_by_role("button", name="Save the new order").click()

    expect(page.locator("#stage-rows tr").nth(0)).to_have_attribute("data-stage-id", str(second.pk))
    positions = dict(Stage.all_workspaces.filter(pk__in=[first.pk, second.pk]).values_list("pk", "position"))
    assert positions[second.pk] < positions[first.pk]

    negotiation = Stage.all_workspaces.get(pipeline=pipeline, name="Negotiation")
    page.once("dialog", lambda dialog: dialog.accept())  # "Retire this stage?"
    page.get_by_test_id(f"retire-{negotiation.pk}").get_by_role("button", name="Retire").click()
    expect(page.locator("#stage-rows")).not_to_contain_text("Negotiation")
    page.get_by_test_id(f"restore-{negotiation.pk}").click()
    expect(page.locator(f"#stage-rows tr[data-stage-id='{negotiation.pk}']")).to_be_visible()
    negotiation.refresh_from_db()
    assert negotiation.retired_at is None
