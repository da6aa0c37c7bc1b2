import datetime as dt
from contextlib import contextmanager
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from clientela.contacts import services as contacts
from clientela.core.tenancy import workspace_scope
from clientela.sales import services
from clientela.sales.models import Stage


@pytest.fixture
def ws(owner_a):
    return owner_a.workspace


@pytest.fixture
def pipeline(ws):
    with workspace_scope(ws):
        return services.pipeline_ensure_default(workspace=ws)


@pytest.fixture
def stage(pipeline):
    """Stages of the default pipeline by name: stage["Qualified"], stage["Won"], ..."""
    with workspace_scope(pipeline.workspace):
        return {s.name: s for s in Stage.objects.filter(pipeline=pipeline)}


@pytest.fixture
def make_person(owner_a):
    def make(first="Mario", last="Rossi", workspace=None, tags=(), **attributes):
        target = workspace or owner_a.workspace
        attributes.setdefault("lifecycle_stage", "lead")
        with workspace_scope(target):
            return contacts.person_create(
                workspace=target,
                actor=None,
                attributes={"first_name": first, "last_name": last, **attributes},
                tags=tags,
                record_on_timeline=False,
            )

    return make


@pytest.fixture
def make_company(owner_a):
    def make(name="Acme Srl", workspace=None, tags=(), **attributes):
        target = workspace or owner_a.workspace
        with workspace_scope(target):
            return contacts.company_create(
                workspace=target,
                actor=None,
                attributes={"name": name, **attributes},
                tags=tags,
                record_on_timeline=False,
            )

    return make


@pytest.fixture
def make_deal(owner_a, pipeline):
    def make(title="Deal", actor=None, workspace=None, **attributes):
        target = workspace or owner_a.workspace
        attributes.setdefault("amount", Decimal("1000"))
        with workspace_scope(target):
            return services.deal_create(
                workspace=target,
                actor=actor if actor is not None else owner_a.user,
                attributes={"title": title, **attributes},
            )

    return make


@contextmanager
def frozen(moment: dt.datetime):
    """Make ``timezone.now()`` return ``moment`` inside the block (the services read the clock there)."""
    with mock.patch.object(timezone, "now", return_value=moment):
        yield moment


@pytest.fixture
def at():
    return frozen


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Tests act as the entrypoint: while a test body runs, workspace A is active (after fixtures ran)."""
    owner_a = item.funcargs.get("owner_a")
    if owner_a is None:
        return (yield)
    with workspace_scope(owner_a.workspace):
        return (yield)
