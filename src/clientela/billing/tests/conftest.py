import datetime as dt
from decimal import Decimal as D

import pytest

from clientela.billing import services
from clientela.billing.models import Product
from clientela.contacts import services as contacts
from clientela.core.tenancy import workspace_scope


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Tests act as the entrypoint: while a test body runs, workspace A is active (after fixtures ran)."""
    owner_a = item.funcargs.get("owner_a")
    if owner_a is None:
        return (yield)
    with workspace_scope(owner_a.workspace):
        return (yield)


@pytest.fixture
def ws(owner_a):
    return owner_a.workspace


@pytest.fixture
def customer(owner_a):
    """An Italian company with a valid VAT number and an email, owned by workspace A's owner."""

    def make(name="Rossi Srl", vat="IT00743110157", country="IT", email="acquisti@rossi.it", workspace=None):
        workspace = workspace or owner_a.workspace
        with workspace_scope(workspace):
            return contacts.company_create(
                workspace=workspace,
                actor=owner_a.user,
                attributes={"name": name, "vat_number": vat},
                contact=contacts.ContactPoints(
                    emails=[email] if email else [], addresses=[contacts.AddressInput(country=country)]
                ),
            )

    return make


@pytest.fixture
def product(owner_a):
    def make(
        code="CONS",
        name="Consulting",
        price="150",
        cost="90",
        tax_category="standard",
        unit="h",
        workspace=None,
    ):
        workspace = workspace or owner_a.workspace
        with workspace_scope(workspace):
            existing = Product.objects.filter(workspace=workspace, code=code).first()
            if existing is not None:
                return existing
            return services.product_create(
                workspace=workspace,
                actor=owner_a.user,
                attributes={
                    "code": code,
                    "name": name,
                    "price": D(price),
                    "cost": D(cost),
                    "tax_category": tax_category,
                    "unit": unit,
                },
            )

    return make


@pytest.fixture
def quote(owner_a, customer, product):
    """A quote of 3 h of consulting at 150 for an Italian company (22 % VAT: 450 + 99 = 549)."""

    def make(lines=None, company=None, issue_date=None, **header):
        company = company or customer()
        lines = lines or [services.LineIn(product_id=product().pk, quantity="3")]
        with workspace_scope(owner_a.workspace):
            return services.quote_create(
                workspace=owner_a.workspace,
                actor=owner_a.user,
                header=services.DocumentHeader(company_id=company.pk, issue_date=issue_date, **header),
                lines=lines,
            )

    return make


TODAY = dt.date(2026, 3, 10)
