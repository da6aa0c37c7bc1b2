"""Isolation cases for billing pages and API routes (see core/testing/isolation.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from clientela.billing.models import (
    DealLine,
    Document,
    DocumentKind,
    DocumentLine,
    DocumentStatus,
    PriceList,
    PriceListItem,
    Product,
)
from clientela.contacts.isolation import make_company, make_person
from clientela.core.testing.isolation import RouteCase, register
from clientela.workspaces.models import Workspace
from clientela.workspaces.roles import Action, Module

VIEW, EDIT = Action.VIEW, Action.EDIT
S, SET = Module.SALES, Module.SETTINGS


def make_product(workspace: Workspace) -> Product:
    return Product.all_workspaces.create(
        workspace=workspace,
        code=f"P{Product.all_workspaces.count() + 1}",
        name="Leaky widget",
        price=Decimal(10),
    )


def make_document(workspace: Workspace, kind: str, status: str) -> Document:
    """A document written directly (no numbering, no timeline): only its visibility is under test."""
    company = make_company(workspace)
    document = Document.all_workspaces.create(
        workspace=workspace,
        kind=kind,
        status=status,
        company=company,
        currency=workspace.default_currency,
        issue_date=timezone.localdate(),
        due_date=timezone.localdate() + dt.timedelta(days=30),
        tax_country="IT",
        rounding_scope="line",
        rounding_mode="half_up",
        number=f"X-{Document.all_workspaces.count() + 1}",
        net=Decimal(100),
        tax=Decimal(22),
        gross=Decimal(122),
    )
    DocumentLine.all_workspaces.create(
        workspace=workspace,
        document=document,
        description="Leaky line",
        quantity=Decimal(1),
        unit_price=Decimal(100),
        tax_rate=Decimal(22),
        net=Decimal(100),
        tax=Decimal(22),
        gross=Decimal(122),
    )
    return document


def make_deal(workspace: Workspace, owner: Any = None) -> Any:
    from clientela.sales.models import Deal, Pipeline, Stage

    pipeline = Pipeline.all_workspaces.create(workspace=workspace, name=f"P{Pipeline.all_workspaces.count()}")
    stage = Stage.all_workspaces.create(workspace=workspace, pipeline=pipeline, name="New")
    return Deal.all_workspaces.create(
        workspace=workspace,
        title="Leaky deal",
        pipeline=pipeline,
        stage=stage,
        amount=Decimal(1000),
        currency=workspace.default_currency,
        stage_entered_at=timezone.now(),
        owner=owner,
    )


def _product(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"product_id": make_product(workspace).pk}


def _price_list(workspace: Workspace, actor: Any) -> dict[str, Any]:
    price_list = PriceList.all_workspaces.create(
        workspace=workspace, name=f"L{PriceList.all_workspaces.count()}", currency=workspace.default_currency
    )
    return {"price_list_id": price_list.pk}


def _price_item(workspace: Workspace, actor: Any) -> dict[str, Any]:
    price_list_id = _price_list(workspace, actor)["price_list_id"]
    item = PriceListItem.all_workspaces.create(
        workspace=workspace,
        price_list_id=price_list_id,
        product=make_product(workspace),
        unit_price=Decimal(9),
    )
    return {"price_list_id": price_list_id, "item_id": item.pk}


def _quote(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"document_id": make_document(workspace, DocumentKind.QUOTE, DocumentStatus.DRAFT).pk}


def _order(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"document_id": make_document(workspace, DocumentKind.ORDER, DocumentStatus.OPEN).pk}


def _invoice(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"document_id": make_document(workspace, DocumentKind.INVOICE, DocumentStatus.ISSUED).pk}


def _draft_invoice(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"document_id": make_document(workspace, DocumentKind.INVOICE, DocumentStatus.DRAFT).pk}


def _credit_note(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"document_id": make_document(workspace, DocumentKind.CREDIT_NOTE, DocumentStatus.ISSUED).pk}


def _person(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"person_id": make_person(workspace).pk}


def _company(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"company_id": make_company(workspace).pk}


def _account(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"entity": "company", "record_id": make_company(workspace).pk}


def _deal(workspace: Workspace, actor: Any) -> dict[str, Any]:
    return {"deal_id": make_deal(workspace).pk}


def _deal_line(workspace: Workspace, actor: Any) -> dict[str, Any]:
    deal = make_deal(workspace)
    line = DealLine.all_workspaces.create(
        workspace=workspace, deal=deal, description="x", unit_price=Decimal(5)
    )
    return {"deal_id": deal.pk, "line_id": line.pk}


LINE = {"lines": [{"description": "Role check", "unit_price": "10"}]}

register(
    # pages
    RouteCase("billing:product_list", module=S),
    RouteCase("billing:product_create", module=S, action=EDIT),
    RouteCase("billing:product_edit", _product, module=S),
    RouteCase("billing:price_list_list", module=S),
    RouteCase("billing:price_list_detail", _price_list, module=S),
    RouteCase("billing:price_list_edit", _price_list, module=S, action=EDIT),
    RouteCase("billing:price_list_item_delete", _price_item, methods=("POST",), module=S, action=EDIT),
    RouteCase("billing:settings", module=SET),
    RouteCase("billing:tax_rate_create", methods=("POST",), module=SET, action=EDIT),
    RouteCase("billing:exchange_rate_create", methods=("POST",), module=SET, action=EDIT),
    RouteCase("billing:exchange_rate_import", methods=("POST",), module=SET, action=EDIT),
    RouteCase("billing:commission_plan_create", methods=("POST",), module=SET, action=EDIT),
    RouteCase("billing:quote_list", module=S),
    RouteCase("billing:quote_create", module=S, action=EDIT),
    RouteCase("billing:quote_preview", methods=("POST",), module=S),
    RouteCase("billing:quote_line", module=S),
    RouteCase("billing:customer_options", module=S),
    RouteCase("billing:quote_detail", _quote, module=S),
    RouteCase("billing:quote_edit", _quote, module=S, action=EDIT),
    RouteCase("billing:quote_send", _quote, methods=("POST",), module=S, action=EDIT),
    RouteCase("billing:quote_accept", _quote, methods=("POST",), module=S, action=EDIT),
    RouteCase("billing:quote_decline", _quote, methods=("POST",), module=S, action=EDIT),
    RouteCase("billing:order_list", module=S),
    RouteCase("billing:order_detail", _order, module=S),
    RouteCase("billing:order_invoice", _order, methods=("POST",), module=S, action=EDIT),
    RouteCase("billing:invoice_list", module=S),
    RouteCase("billing:invoice_detail", _invoice, module=S),
    RouteCase("billing:invoice_issue", _draft_invoice, methods=("POST",), module=S, action=EDIT),
    RouteCase("billing:invoice_credit", _invoice, methods=("POST",), module=S, action=EDIT),
    RouteCase("billing:payment_create", _invoice, methods=("POST",), module=S, action=EDIT),
    RouteCase("billing:credit_note_detail", _credit_note, module=S),
    RouteCase("billing:document_pdf", _invoice, module=S),
    RouteCase("billing:account_edit", _account, module=S, action=EDIT),
    RouteCase("billing:commissions", module=S),
    RouteCase("billing:deal_calculator", _deal, module=S),
    RouteCase("billing:deal_line_create", _deal, methods=("POST",), module=S, action=EDIT),
    RouteCase("billing:deal_line_delete", _deal_line, methods=("POST",), module=S, action=EDIT),
    # API
    RouteCase("GET /products", module=S),
    RouteCase(
        "POST /products",
        methods=("POST",),
        module=S,
        action=EDIT,
        body={"code": "ROLE", "name": "Role", "price": "1"},
    ),
    RouteCase("GET /products/{product_id}", _product, module=S),
    RouteCase(
        "PATCH /products/{product_id}",
        _product,
        methods=("PATCH",),
        module=S,
        action=EDIT,
        body={"name": "x"},
    ),
    RouteCase("GET /price-lists", module=S),
    RouteCase(
        "POST /price-lists",
        methods=("POST",),
        module=S,
        action=EDIT,
        body={"name": "Role list", "currency": "EUR"},
    ),
    RouteCase("GET /price-lists/{price_list_id}", _price_list, module=S),
    RouteCase(
        "PATCH /price-lists/{price_list_id}",
        _price_list,
        methods=("PATCH",),
        module=S,
        action=EDIT,
        body={"active": False},
    ),
    RouteCase(
        "POST /price-lists/{price_list_id}/items",
        _price_list,
        methods=("POST",),
        module=S,
        action=EDIT,
        body={"product": 0, "unit_price": "1"},
    ),
    RouteCase(
        "DELETE /price-lists/{price_list_id}/items/{item_id}",
        _price_item,
        methods=("DELETE",),
        module=S,
        action=EDIT,
    ),
    RouteCase("GET /tax-rates", module=S),
    RouteCase(
        "POST /tax-rates",
        methods=("POST",),
        module=SET,
        action=EDIT,
        body={"country": "IT", "category": "standard", "rate": "23", "valid_from": "2040-01-01"},
    ),
    RouteCase("GET /exchange-rates", module=S),
    RouteCase(
        "POST /exchange-rates",
        methods=("POST",),
        module=SET,
        action=EDIT,
        body={"currency": "HUF", "valid_on": "2026-01-01", "rate": "0.0025"},
    ),
    RouteCase("POST /exchange-rates/import", methods=("POST",), module=SET, action=EDIT, body={"csv": ""}),
    RouteCase("GET /quotes", module=S),
    RouteCase("POST /quotes", methods=("POST",), module=S, action=EDIT, body=LINE),
    RouteCase("POST /quotes/preview", methods=("POST",), module=S, body=LINE),
    RouteCase("GET /quotes/{document_id}", _quote, module=S),
    RouteCase(
        "PATCH /quotes/{document_id}", _quote, methods=("PATCH",), module=S, action=EDIT, body={"notes": "x"}
    ),
    RouteCase(
        "POST /quotes/{document_id}/send",
        _quote,
        methods=("POST",),
        module=S,
        action=EDIT,
        body={"to": "a@b.it"},
    ),
    RouteCase("POST /quotes/{document_id}/accept", _quote, methods=("POST",), module=S, action=EDIT),
    RouteCase("POST /quotes/{document_id}/decline", _quote, methods=("POST",), module=S, action=EDIT),
    RouteCase("GET /quotes/{document_id}/calculator", _quote, module=S),
    RouteCase("GET /orders", module=S),
    RouteCase("GET /orders/{document_id}", _order, module=S),
    RouteCase("POST /orders/{document_id}/invoice", _order, methods=("POST",), module=S, action=EDIT),
    RouteCase("GET /invoices", module=S),
    RouteCase("GET /invoices/{document_id}", _invoice, module=S),
    RouteCase(
        "PATCH /invoices/{document_id}",
        _invoice,
        methods=("PATCH",),
        module=S,
        action=EDIT,
        body={"notes": "x"},
    ),
    RouteCase("POST /invoices/{document_id}/issue", _draft_invoice, methods=("POST",), module=S, action=EDIT),
    RouteCase("POST /invoices/{document_id}/credit-note", _invoice, methods=("POST",), module=S, action=EDIT),
    RouteCase("GET /invoices/{document_id}/payments", _invoice, module=S),
    RouteCase(
        "POST /invoices/{document_id}/payments",
        _invoice,
        methods=("POST",),
        module=S,
        action=EDIT,
        body={"amount": "1"},
    ),
    RouteCase("GET /people/{person_id}/balance", _person, module=S),
    RouteCase("GET /companies/{company_id}/balance", _company, module=S),
    RouteCase(
        "PATCH /people/{person_id}/account", _person, methods=("PATCH",), module=S, action=EDIT, body={}
    ),
    RouteCase(
        "PATCH /companies/{company_id}/account", _company, methods=("PATCH",), module=S, action=EDIT, body={}
    ),
    RouteCase("GET /commission-plans", module=S),
    RouteCase(
        "POST /commission-plans",
        methods=("POST",),
        module=SET,
        action=EDIT,
        body={"name": "Role plan", "tiers": [{"threshold": "0", "rate": "3"}], "members": []},
    ),
    RouteCase("GET /commission-statements", module=S),
    RouteCase("GET /deals/{deal_id}/lines", _deal, module=S),
    RouteCase(
        "POST /deals/{deal_id}/lines",
        _deal,
        methods=("POST",),
        module=S,
        action=EDIT,
        body={"description": "x", "unit_price": "1"},
    ),
    RouteCase(
        "DELETE /deals/{deal_id}/lines/{line_id}", _deal_line, methods=("DELETE",), module=S, action=EDIT
    ),
    RouteCase("GET /deals/{deal_id}/calculator", _deal, module=S),
)
