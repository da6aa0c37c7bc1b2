"""API routes for products, price lists, taxes, exchange rates, quotes, orders, invoices, payments,
balances, commission plans and statements, and the calculator."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from ninja import Router, Status
from ninja.pagination import CursorPagination, paginate

from clientela.billing import commissions, selectors, services
from clientela.billing.models import Document, DocumentKind, PriceList, PriceListItem, Product
from clientela.billing.pricing import LineIn
from clientela.billing.schemas import (
    AcceptOut,
    AccountIn,
    BalanceOut,
    CalculationOut,
    CommissionPlanIn,
    CommissionPlanOut,
    CreditNoteIn,
    DealLineIn,
    DealLineOut,
    DocumentIn,
    DocumentOut,
    DocumentPatch,
    DocumentSummaryOut,
    ExchangeRateIn,
    ExchangeRateOut,
    ExchangeRatesImportIn,
    ExchangeRatesImportOut,
    InvoiceIn,
    PaymentIn,
    PaymentOut,
    PreviewOut,
    PriceListDetailOut,
    PriceListIn,
    PriceListItemIn,
    PriceListItemOut,
    PriceListOut,
    PriceListPatch,
    ProductIn,
    ProductOut,
    ProductPatch,
    SendIn,
    StatementOut,
    TaxRateIn,
    TaxRateOut,
)
from clientela.contacts import selectors as contacts
from clientela.core.errors import PermissionDenied
from clientela.workspaces.http import WorkspaceRequest
from clientela.workspaces.models import User
from clientela.workspaces.permissions import require
from clientela.workspaces.roles import RECORD_SCOPE, Action, Module, RecordScope

router = Router(tags=["billing"])


def _view(request: WorkspaceRequest) -> None:
    require(request.membership, Module.SALES, Action.VIEW)


def _edit(request: WorkspaceRequest) -> None:
    require(request.membership, Module.SALES, Action.EDIT)


def _settings(request: WorkspaceRequest) -> None:
    require(request.membership, Module.SETTINGS, Action.EDIT)


def _document(request: WorkspaceRequest, document_id: int, kind: str) -> Document:
    return selectors.document_get(workspace=request.workspace, document_id=document_id, kind=kind)


def _lines(lines: list[Any] | None) -> list[LineIn] | None:
    if lines is None:
        return None
    return [
        LineIn(
            product_id=line.product,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount_percent=line.discount_percent,
            unit=line.unit,
            tax_rate_id=line.tax_rate,
        )
        for line in lines
    ]


def _header(payload: DocumentIn) -> services.DocumentHeader:
    data = payload.model_dump(exclude={"lines"})
    keys = {
        "person": "person_id",
        "company": "company_id",
        "price_list": "price_list_id",
        "owner": "owner_id",
        "deal": "deal_id",
    }
    return services.DocumentHeader(**{keys.get(k, k): v for k, v in data.items()})


# --- catalogue ------------------------------------------------------------------------------------


@router.get("/products", response=list[ProductOut], operation_id="billing_product_list")
@paginate(CursorPagination, ordering=("name", "id"))
def product_list(request: WorkspaceRequest, q: str = "", active: bool | None = None) -> Any:
    _view(request)
    return selectors.product_list(workspace=request.workspace, q=q, active=active)


@router.post("/products", response={201: ProductOut}, operation_id="billing_product_create")
def product_create(request: WorkspaceRequest, payload: ProductIn) -> Status:
    _edit(request)
    return Status(
        201,
        services.product_create(
            workspace=request.workspace, actor=request.user, attributes=payload.model_dump()
        ),
    )


@router.get("/products/{product_id}", response=ProductOut, operation_id="billing_product_get")
def product_get(request: WorkspaceRequest, product_id: int) -> Product:
    _view(request)
    return selectors.product_get(workspace=request.workspace, product_id=product_id)


@router.patch("/products/{product_id}", response=ProductOut, operation_id="billing_product_update")
def product_update(request: WorkspaceRequest, product_id: int, payload: ProductPatch) -> Product:
    _edit(request)
    product = selectors.product_get(workspace=request.workspace, product_id=product_id)
    return services.product_update(
        product=product, actor=request.user, attributes=payload.model_dump(exclude_unset=True)
    )


@router.get("/price-lists", response=list[PriceListOut], operation_id="billing_price_list_list")
@paginate(CursorPagination, ordering=("name", "id"))
def price_list_list(request: WorkspaceRequest) -> Any:
    _view(request)
    return selectors.price_list_list(workspace=request.workspace)


@router.post("/price-lists", response={201: PriceListOut}, operation_id="billing_price_list_create")
def price_list_create(request: WorkspaceRequest, payload: PriceListIn) -> Status:
    _edit(request)
    return Status(
        201,
        services.price_list_create(
            workspace=request.workspace, actor=request.user, attributes=payload.model_dump()
        ),
    )


@router.get(
    "/price-lists/{price_list_id}", response=PriceListDetailOut, operation_id="billing_price_list_get"
)
def price_list_get(request: WorkspaceRequest, price_list_id: int) -> PriceList:
    _view(request)
    return selectors.price_list_get(workspace=request.workspace, price_list_id=price_list_id)


@router.patch("/price-lists/{price_list_id}", response=PriceListOut, operation_id="billing_price_list_update")
def price_list_update(request: WorkspaceRequest, price_list_id: int, payload: PriceListPatch) -> PriceList:
    _edit(request)
    price_list = selectors.price_list_get(workspace=request.workspace, price_list_id=price_list_id)
    return services.price_list_update(
        price_list=price_list, actor=request.user, attributes=payload.model_dump(exclude_unset=True)
    )


@router.post(
    "/price-lists/{price_list_id}/items",
    response={201: PriceListItemOut},
    operation_id="billing_price_list_item_set",
)
def price_list_item_set(request: WorkspaceRequest, price_list_id: int, payload: PriceListItemIn) -> Status:
    """Set a product's price from a quantity up (another quantity adds a quantity break)."""
    _edit(request)
    price_list = selectors.price_list_get(workspace=request.workspace, price_list_id=price_list_id)
    return Status(
        201,
        services.price_list_item_set(
            price_list=price_list,
            product_id=payload.product,
            unit_price=payload.unit_price,
            min_quantity=payload.min_quantity,
        ),
    )


@router.delete(
    "/price-lists/{price_list_id}/items/{item_id}",
    response={204: None},
    operation_id="billing_price_list_item_delete",
)
def price_list_item_delete(request: WorkspaceRequest, price_list_id: int, item_id: int) -> Status:
    _edit(request)
    item = PriceListItem.objects.get(workspace=request.workspace, price_list_id=price_list_id, pk=item_id)
    services.price_list_item_delete(item=item)
    return Status(204, None)


# --- taxes and currencies -------------------------------------------------------------------------


@router.get("/tax-rates", response=list[TaxRateOut], operation_id="billing_tax_rate_list")
@paginate(CursorPagination, ordering=("country", "category", "-valid_from", "id"))
def tax_rate_list(request: WorkspaceRequest, country: str = "") -> Any:
    """VAT rates by country and category with their validity (Italy, Hungary, Romania are seeded)."""
    _view(request)
    services.billing_settings_for(request.workspace)
    return selectors.tax_rate_list(workspace=request.workspace, country=country)


@router.post("/tax-rates", response={201: TaxRateOut}, operation_id="billing_tax_rate_create")
def tax_rate_create(request: WorkspaceRequest, payload: TaxRateIn) -> Status:
    _settings(request)
    return Status(
        201, services.tax_rate_create(workspace=request.workspace, actor=request.user, **payload.model_dump())
    )


@router.get("/exchange-rates", response=list[ExchangeRateOut], operation_id="billing_exchange_rate_list")
@paginate(CursorPagination, ordering=("-valid_on", "currency", "id"))
def exchange_rate_list(request: WorkspaceRequest) -> Any:
    _view(request)
    return selectors.exchange_rate_list(workspace=request.workspace, limit=None)


@router.post("/exchange-rates", response={201: ExchangeRateOut}, operation_id="billing_exchange_rate_set")
def exchange_rate_set(request: WorkspaceRequest, payload: ExchangeRateIn) -> Status:
    _settings(request)
    return Status(201, services.exchange_rate_set(workspace=request.workspace, **payload.model_dump()))


@router.post(
    "/exchange-rates/import", response=ExchangeRatesImportOut, operation_id="billing_exchange_rate_import"
)
def exchange_rate_import(request: WorkspaceRequest, payload: ExchangeRatesImportIn) -> dict:
    """Import ``date,currency,rate`` rows (CSV); all or nothing."""
    _settings(request)
    return {"imported": services.exchange_rates_import(workspace=request.workspace, text=payload.csv)}


# --- quotes, orders, invoices ---------------------------------------------------------------------


def _documents(request: WorkspaceRequest, kind: str, *, status: str, q: str = "") -> Any:
    """Every document of a kind (the list is paginated), newest first."""
    return selectors.document_list(workspace=request.workspace, kind=kind, status=status, q=q, limit=None)


@router.get("/quotes", response=list[DocumentSummaryOut], operation_id="billing_quote_list")
@paginate(CursorPagination, ordering=("-issue_date", "-id"))
def quote_list(request: WorkspaceRequest, status: str = "", q: str = "") -> Any:
    _view(request)
    return _documents(request, DocumentKind.QUOTE, status=status, q=q)


@router.post("/quotes", response={201: DocumentOut}, operation_id="billing_quote_create")
def quote_create(request: WorkspaceRequest, payload: DocumentIn) -> Status:
    _edit(request)
    quote = services.quote_create(
        workspace=request.workspace,
        actor=request.user,
        header=_header(payload),
        lines=_lines(payload.lines) or [],
    )
    return Status(201, _document(request, quote.pk, DocumentKind.QUOTE))


@router.post("/quotes/preview", response=PreviewOut, operation_id="billing_quote_preview")
def quote_preview(request: WorkspaceRequest, payload: DocumentIn) -> dict:
    """Totals of a quote as it would be saved (net, each tax, gross), without saving it."""
    _view(request)
    preview = services.document_preview(
        workspace=request.workspace, header=_header(payload), lines=_lines(payload.lines) or []
    )
    return {
        "currency": preview.totals.currency,
        "net": preview.totals.net,
        "tax": preview.totals.tax,
        "gross": preview.totals.gross,
        "taxes": preview.totals.taxes,
        "lines": [
            {"net": str(t.net), "tax": str(t.tax), "gross": str(t.gross)} for t in preview.totals.lines
        ],
        "errors": preview.errors,
    }


@router.get("/quotes/{document_id}", response=DocumentOut, operation_id="billing_quote_get")
def quote_get(request: WorkspaceRequest, document_id: int) -> Document:
    _view(request)
    return _document(request, document_id, DocumentKind.QUOTE)


@router.patch("/quotes/{document_id}", response=DocumentOut, operation_id="billing_quote_update")
def quote_update(request: WorkspaceRequest, document_id: int, payload: DocumentPatch) -> Document:
    _edit(request)
    quote = _document(request, document_id, DocumentKind.QUOTE)
    services.document_update(
        document=quote, actor=request.user, header=_header(payload), lines=_lines(payload.lines)
    )
    return _document(request, document_id, DocumentKind.QUOTE)


@router.post("/quotes/{document_id}/send", response=DocumentOut, operation_id="billing_quote_send")
def quote_send(request: WorkspaceRequest, document_id: int, payload: SendIn) -> Document:
    """Email the quote as a PDF to the customer (or ``to``) and mark it sent."""
    _edit(request)
    quote = _document(request, document_id, DocumentKind.QUOTE)
    services.quote_send(quote=quote, actor=request.user, to=payload.to, message=payload.message)
    return _document(request, document_id, DocumentKind.QUOTE)


@router.post("/quotes/{document_id}/accept", response=AcceptOut, operation_id="billing_quote_accept")
def quote_accept(request: WorkspaceRequest, document_id: int) -> dict:
    """The quote becomes an order; ``warnings`` says when the customer goes over their credit limit."""
    _edit(request)
    accepted = services.quote_accept(
        quote=_document(request, document_id, DocumentKind.QUOTE), actor=request.user
    )
    return {"order": _document(request, accepted.order.pk, DocumentKind.ORDER), "warnings": accepted.warnings}


@router.post("/quotes/{document_id}/decline", response=DocumentOut, operation_id="billing_quote_decline")
def quote_decline(request: WorkspaceRequest, document_id: int) -> Document:
    _edit(request)
    services.quote_decline(quote=_document(request, document_id, DocumentKind.QUOTE), actor=request.user)
    return _document(request, document_id, DocumentKind.QUOTE)


@router.get(
    "/quotes/{document_id}/calculator", response=CalculationOut, operation_id="billing_quote_calculator"
)
def quote_calculator(request: WorkspaceRequest, document_id: int) -> Any:
    """Cost, price, discount, taxes, the salesperson's commission and the margin of a quote."""
    _view(request)
    quote = _document(request, document_id, DocumentKind.QUOTE)
    return selectors.calculation_for_document(workspace=request.workspace, document=quote)


@router.get("/orders", response=list[DocumentSummaryOut], operation_id="billing_order_list")
@paginate(CursorPagination, ordering=("-issue_date", "-id"))
def order_list(request: WorkspaceRequest, status: str = "") -> Any:
    _view(request)
    return _documents(request, DocumentKind.ORDER, status=status)


@router.get("/orders/{document_id}", response=DocumentOut, operation_id="billing_order_get")
def order_get(request: WorkspaceRequest, document_id: int) -> Document:
    _view(request)
    return _document(request, document_id, DocumentKind.ORDER)


@router.post(
    "/orders/{document_id}/invoice", response={201: DocumentOut}, operation_id="billing_order_invoice"
)
def order_invoice(request: WorkspaceRequest, document_id: int, payload: InvoiceIn) -> Status:
    """Invoice the order (issued at once, numbered in its series and year, unless ``issue`` is false)."""
    _edit(request)
    invoice = services.order_invoice(
        order=_document(request, document_id, DocumentKind.ORDER),
        actor=request.user,
        issue_date=payload.issue_date,
        issue=payload.issue,
    )
    return Status(201, _document(request, invoice.pk, DocumentKind.INVOICE))


@router.get("/invoices", response=list[DocumentSummaryOut], operation_id="billing_invoice_list")
@paginate(CursorPagination, ordering=("-issue_date", "-id"))
def invoice_list(request: WorkspaceRequest, status: str = "", q: str = "") -> Any:
    _view(request)
    return _documents(request, DocumentKind.INVOICE, status=status, q=q)


@router.get("/invoices/{document_id}", response=DocumentOut, operation_id="billing_invoice_get")
def invoice_get(request: WorkspaceRequest, document_id: int) -> Document:
    _view(request)
    return _document(request, document_id, DocumentKind.INVOICE)


@router.patch("/invoices/{document_id}", response=DocumentOut, operation_id="billing_invoice_update")
def invoice_update(request: WorkspaceRequest, document_id: int, payload: DocumentPatch) -> Document:
    """Change a draft invoice; an issued one is refused (409): issue a credit note instead."""
    _edit(request)
    invoice = _document(request, document_id, DocumentKind.INVOICE)
    services.document_update(
        document=invoice, actor=request.user, header=_header(payload), lines=_lines(payload.lines)
    )
    return _document(request, document_id, DocumentKind.INVOICE)


@router.post("/invoices/{document_id}/issue", response=DocumentOut, operation_id="billing_invoice_issue")
def invoice_issue(request: WorkspaceRequest, document_id: int) -> Document:
    _edit(request)
    services.invoice_issue(invoice=_document(request, document_id, DocumentKind.INVOICE), actor=request.user)
    return _document(request, document_id, DocumentKind.INVOICE)


@router.post(
    "/invoices/{document_id}/credit-note", response={201: DocumentOut}, operation_id="billing_invoice_credit"
)
def invoice_credit(request: WorkspaceRequest, document_id: int, payload: CreditNoteIn) -> Status:
    _edit(request)
    invoice = _document(request, document_id, DocumentKind.INVOICE)
    lines = (
        [services.CreditLineIn(line_id=item.line, quantity=item.quantity) for item in payload.lines]
        if payload.lines is not None
        else None
    )
    note = services.invoice_credit(invoice=invoice, actor=request.user, reason=payload.reason, lines=lines)
    return Status(201, _document(request, note.pk, DocumentKind.CREDIT_NOTE))


@router.get(
    "/invoices/{document_id}/payments", response=list[PaymentOut], operation_id="billing_payment_list"
)
def payment_list(request: WorkspaceRequest, document_id: int) -> Any:
    _view(request)
    return list(_document(request, document_id, DocumentKind.INVOICE).payments.all())


@router.post(
    "/invoices/{document_id}/payments", response={201: PaymentOut}, operation_id="billing_payment_register"
)
def payment_register(request: WorkspaceRequest, document_id: int, payload: PaymentIn) -> Status:
    """A payment (partial or full) or a refund; more than the amount due needs ``as_credit``."""
    _edit(request)
    invoice = _document(request, document_id, DocumentKind.INVOICE)
    return Status(201, services.payment_register(invoice=invoice, actor=request.user, **payload.model_dump()))


# --- customers ------------------------------------------------------------------------------------


def _balance(request: WorkspaceRequest, record: Any) -> dict:
    balance = selectors.customer_balance(workspace=request.workspace, customer=record)
    return {
        **{k: getattr(balance, k) for k in BalanceOut.model_fields if k != "buckets"},
        "buckets": balance.buckets,
    }


@router.get("/people/{person_id}/balance", response=BalanceOut, operation_id="billing_person_balance")
def person_balance(request: WorkspaceRequest, person_id: int) -> dict:
    """Invoiced minus paid, overdue by age (0-30, 31-60, 61-90, 90+ days), credit limit and terms."""
    _view(request)
    return _balance(request, contacts.person_get(workspace=request.workspace, person_id=person_id))


@router.get("/companies/{company_id}/balance", response=BalanceOut, operation_id="billing_company_balance")
def company_balance(request: WorkspaceRequest, company_id: int) -> dict:
    _view(request)
    return _balance(request, contacts.company_get(workspace=request.workspace, company_id=company_id))


@router.patch("/people/{person_id}/account", response=BalanceOut, operation_id="billing_person_account")
def person_account(request: WorkspaceRequest, person_id: int, payload: AccountIn) -> dict:
    """Set the customer group, credit limit and payment terms of a person."""
    _edit(request)
    person = contacts.person_get(workspace=request.workspace, person_id=person_id)
    services.customer_account_update(
        workspace=request.workspace,
        actor=request.user,
        record=person,
        attributes=payload.model_dump(exclude_unset=True),
    )
    return _balance(request, person)


@router.patch("/companies/{company_id}/account", response=BalanceOut, operation_id="billing_company_account")
def company_account(request: WorkspaceRequest, company_id: int, payload: AccountIn) -> dict:
    _edit(request)
    company = contacts.company_get(workspace=request.workspace, company_id=company_id)
    services.customer_account_update(
        workspace=request.workspace,
        actor=request.user,
        record=company,
        attributes=payload.model_dump(exclude_unset=True),
    )
    return _balance(request, company)


# --- commissions ----------------------------------------------------------------------------------


@router.get(
    "/commission-plans", response=list[CommissionPlanOut], operation_id="billing_commission_plan_list"
)
def commission_plan_list(request: WorkspaceRequest) -> Any:
    _view(request)
    return commissions.commission_plan_list(workspace=request.workspace)


@router.post(
    "/commission-plans", response={201: CommissionPlanOut}, operation_id="billing_commission_plan_create"
)
def commission_plan_create(request: WorkspaceRequest, payload: CommissionPlanIn) -> Status:
    _settings(request)
    plan = commissions.commission_plan_create(
        workspace=request.workspace,
        actor=request.user,
        name=payload.name,
        basis=payload.basis,
        source=payload.source,
        period=payload.period,
        tiers=[(t.threshold, t.rate) for t in payload.tiers],
        member_ids=payload.members,
    )
    return Status(201, plan)


@router.get(
    "/commission-statements", response=list[StatementOut], operation_id="billing_commission_statements"
)
def commission_statements(request: WorkspaceRequest, user: int | None = None, period: str = "") -> Any:
    """A person's statements for a period (``2026-03`` or ``2026-Q1``; default: now). Managers see
    anyone's; a salesperson sees their own only."""
    _view(request)
    return commissions.commission_statements(
        workspace=request.workspace, user=statement_user(request, user), on=commissions.parse_period(period)
    )


def statement_user(request: WorkspaceRequest, user_id: int | None) -> User:
    """Whose statement the caller may read: their own, or anyone's with an all-records scope."""
    if user_id is None or user_id == request.user.pk:
        return request.user
    if RECORD_SCOPE.get(request.membership.role) != RecordScope.ALL:
        raise PermissionDenied(_("You can see your own commission statement only."))
    from clientela.workspaces.models import Membership

    return Membership.objects.select_related("user").get(workspace=request.workspace, user_id=user_id).user


# --- deals ----------------------------------------------------------------------------------------


def _deal(request: WorkspaceRequest, deal_id: int) -> Any:
    """A deal the caller may see (a salesperson: their own), else Deal.DoesNotExist (404)."""
    from clientela.sales.selectors import deal_get

    return deal_get(workspace=request.workspace, viewer=request.membership, deal_id=deal_id)


@router.get("/deals/{deal_id}/lines", response=list[DealLineOut], operation_id="billing_deal_line_list")
def deal_line_list(request: WorkspaceRequest, deal_id: int) -> Any:
    _view(request)
    return selectors.deal_lines(workspace=request.workspace, deal_id=_deal(request, deal_id).pk)


@router.post("/deals/{deal_id}/lines", response={201: DealLineOut}, operation_id="billing_deal_line_add")
def deal_line_add(request: WorkspaceRequest, deal_id: int, payload: DealLineIn) -> Status:
    _edit(request)
    line = LineIn(
        product_id=payload.product,
        description=payload.description,
        quantity=payload.quantity,
        unit_price=payload.unit_price,
        unit_cost=payload.unit_cost,
        discount_percent=payload.discount_percent,
    )
    return Status(
        201,
        services.deal_line_add(
            workspace=request.workspace, actor=request.user, deal=_deal(request, deal_id), line=line
        ),
    )


@router.delete(
    "/deals/{deal_id}/lines/{line_id}", response={204: None}, operation_id="billing_deal_line_delete"
)
def deal_line_delete(request: WorkspaceRequest, deal_id: int, line_id: int) -> Status:
    _edit(request)
    line = selectors.deal_lines(workspace=request.workspace, deal_id=_deal(request, deal_id).pk).get(
        pk=line_id
    )
    services.deal_line_delete(line=line)
    return Status(204, None)


@router.get("/deals/{deal_id}/calculator", response=CalculationOut, operation_id="billing_deal_calculator")
def deal_calculator(request: WorkspaceRequest, deal_id: int) -> Any:
    """Cost, price, discount, taxes, commission and margin of a deal's lines."""
    _view(request)
    return selectors.calculation_for_deal(workspace=request.workspace, deal=_deal(request, deal_id))
