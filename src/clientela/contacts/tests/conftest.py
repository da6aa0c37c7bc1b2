import pytest

from clientela.contacts import services
from clientela.core.tenancy import workspace_scope


@pytest.fixture
def make_person(owner_a):
    """Create a person in workspace A through the service, as the UI and API do."""

    def make(first="Mario", last="Rossi", emails=(), phones=(), workspace=None, **attributes):
        ws = workspace or owner_a.workspace
        with workspace_scope(ws):
            return services.person_create(
                workspace=ws,
                actor=owner_a.user,
                attributes={"first_name": first, "last_name": last, **attributes},
                contact=services.ContactPoints(emails=list(emails), phones=list(phones)),
            )

    return make


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Tests act as the entrypoint: while a test body runs, workspace A is active (after fixtures ran)."""
    owner_a = item.funcargs.get("owner_a")
    if owner_a is None:
        return (yield)
    with workspace_scope(owner_a.workspace):
        return (yield)
