"""Billing pages: catalogue, price lists, billing settings (taxes, currencies, commission plans), the quote
editor with live totals, documents with their actions, payments, customer accounts, commissions and the
calculator. Views parse input and call services; the rules are in the services.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientela.billing import commissions, selectors, services
from clientela.billing.forms import (
    AccountForm,
    BillingSettingsForm,
    CommissionPlanForm,
    ExchangeRateForm,
    ExchangeRateImportForm,
    PaymentForm,
    PriceListForm,
    PriceListItemForm,
    ProductForm,
    TaxRateForm,
)
from clientela.billing.models import (
    Document,
    DocumentKind,
    DocumentStatus,
    PriceListItem,
    TaxTreatment,
)
from clientela.billing.pdf import document_filename, document_pdf
from clientela.billing.pricing import LineIn, resolve_price
from clientela.contacts.models import Company, Person
from clientela.core import money
from clientela.core.errors import ApplicationError, ValidationFailed
from clientela.core.text import fold
from clientela.workspaces.http import WorkspaceRequest
from clientela.workspaces.models import Membership
from clientela.workspaces.permissions import require, workspace_view
from clientela.workspaces.roles import RECORD_SCOPE, Action, Module, RecordScope, role_allows
from clientela.workspaces.selectors import member_list

S, SETTINGS = Module.SALES, Module.SETTINGS
EDIT = Action.EDIT
LIST_TEMPLATES = {
    DocumentKind.QUOTE: (gettext_lazy("Quotes"), "billing:quote_list"),
    DocumentKind.ORDER: (gettext_lazy("Orders"), "billing:order_list"),
    DocumentKind.INVOICE: (gettext_lazy("Invoices"), "billing:invoice_list"),
}
DETAIL_URLS = {
    DocumentKind.QUOTE: "billing:quote_detail",
    DocumentKind.ORDER: "billing:order_detail",
    DocumentKind.INVOICE: "billing:invoice_detail",
    DocumentKind.CREDIT_NOTE: "billing:credit_note_detail",
}


def _can(request: WorkspaceRequest, module: Module = S, action: Action = EDIT) -> bool:
    return role_allows(request.membership.role, module, action)


def _error_text(exc: ApplicationError) -> str:
    return " ".join(m for msgs in exc.fields.values() for m in msgs) or exc.message


def document_url(document: Document) -> str:
    return reverse(DETAIL_URLS[DocumentKind(document.kind)], args=[document.pk])


# --- products -------------------------------------------------------------------------------------


@workspace_view(S)
def product_list(request: WorkspaceRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    products = selectors.product_list(workspace=request.workspace, q=q)
    return render(
        request,
        "billing/pages/product_list.html",
        {"products": products[:500], "q": q, "can_edit": _can(request)},
    )


@workspace_view(S, EDIT)
@require_http_methods(["GET", "POST"])
def product_create(request: WorkspaceRequest) -> HttpResponse:
    return _product_form(request, None)


@workspace_view(S)
@require_http_methods(["GET", "POST"])
def product_edit(request: WorkspaceRequest, product_id: int) -> HttpResponse:
    product = selectors.product_get(workspace=request.workspace, product_id=product_id)
    if request.method == "POST":
        require(request.membership, S, EDIT)
    return _product_form(request, product)


def _product_form(request: WorkspaceRequest, product: Any) -> HttpResponse:
    initial = {f: getattr(product, f) for f in ProductForm.base_fields} if product else None
    form = ProductForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if product is None:
                product = services.product_create(
                    workspace=request.workspace, actor=request.user, attributes=form.cleaned_data
                )
            else:
                services.product_update(product=product, actor=request.user, attributes=form.cleaned_data)
        except ValidationFailed as exc:
            form.add_service_errors(exc.fields, exc.message)
        else:
            messages.success(request, _("%(name)s saved.") % {"name": product})
            return redirect("billing:product_list")
    return render(
        request,
        "billing/pages/product_form.html",
        {"form": form, "product": product, "can_edit": _can(request)},
        status=422 if form.errors else 200,
    )


# --- price lists ----------------------------------------------------------------------------------


@workspace_view(S)
@require_http_methods(["GET", "POST"])
def price_list_list(request: WorkspaceRequest) -> HttpResponse:
    form = PriceListForm(request.POST or None, initial={"currency": request.workspace.default_currency})
    if request.method == "POST":
        require(request.membership, S, EDIT)
        if form.is_valid():
            try:
                price_list = services.price_list_create(
                    workspace=request.workspace, actor=request.user, attributes=form.cleaned_data
                )
            except ValidationFailed as exc:
                form.add_service_errors(exc.fields, exc.message)
            else:
                messages.success(request, _("Price list %(name)s created.") % {"name": price_list.name})
                return redirect("billing:price_list_detail", price_list_id=price_list.pk)
    return render(
        request,
        "billing/pages/price_list_list.html",
        {
            "price_lists": selectors.price_list_list(workspace=request.workspace),
            "form": form,
            "can_edit": _can(request),
        },
        status=422 if form.errors else 200,
    )


@workspace_view(S)
@require_http_methods(["GET", "POST"])
def price_list_detail(request: WorkspaceRequest, price_list_id: int) -> HttpResponse:
    """A list's prices and the form to add one; POST sets a price (or a quantity break)."""
    price_list = selectors.price_list_get(workspace=request.workspace, price_list_id=price_list_id)
    products = selectors.product_list(workspace=request.workspace, active=True)
    item_form = PriceListItemForm(request.POST or None, products=products, prefix="item")
    if request.method == "POST":
        require(request.membership, S, EDIT)
        if item_form.is_valid():
            try:
                services.price_list_item_set(
                    price_list=price_list,
                    product_id=int(item_form.cleaned_data["product"]),
                    unit_price=item_form.cleaned_data["unit_price"],
                    min_quantity=item_form.cleaned_data["min_quantity"],
                )
            except ValidationFailed as exc:
                item_form.add_service_errors(exc.fields, exc.message)
            else:
                messages.success(request, _("Price saved."))
                return redirect("billing:price_list_detail", price_list_id=price_list.pk)
    return render(
        request,
        "billing/pages/price_list_detail.html",
        {"price_list": price_list, "item_form": item_form, "can_edit": _can(request)},
        status=422 if item_form.errors else 200,
    )


@workspace_view(S, EDIT)
@require_http_methods(["GET", "POST"])
def price_list_edit(request: WorkspaceRequest, price_list_id: int) -> HttpResponse:
    price_list = selectors.price_list_get(workspace=request.workspace, price_list_id=price_list_id)
    initial = {f: getattr(price_list, f) for f in PriceListForm.base_fields}
    form = PriceListForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.price_list_update(
                price_list=price_list, actor=request.user, attributes=form.cleaned_data
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc.fields, exc.message)
        else:
            messages.success(request, _("Price list saved."))
            return redirect("billing:price_list_detail", price_list_id=price_list.pk)
    return render(
        request,
        "billing/pages/simple_form.html",
        {
            "form": form,
            "title": _("Edit %(name)s") % {"name": price_list.name},
            "back": reverse("billing:price_list_detail", args=[price_list.pk]),
        },
        status=422 if form.errors else 200,
    )


@workspace_view(S, EDIT)
@require_POST
def price_list_item_delete(request: WorkspaceRequest, price_list_id: int, item_id: int) -> HttpResponse:
    item = PriceListItem.objects.get(workspace=request.workspace, price_list_id=price_list_id, pk=item_id)
    services.price_list_item_delete(item=item)
    messages.success(request, _("Price removed."))
    return redirect("billing:price_list_detail", price_list_id=price_list_id)


# --- settings: billing, taxes, exchange rates, commission plans -----------------------------------


@workspace_view(SETTINGS)
@require_http_methods(["GET", "POST"])
def billing_settings(request: WorkspaceRequest) -> HttpResponse:
    """Tax country and rounding, VAT rates, exchange rates (entered or imported) and commission plans."""
    settings = services.billing_settings_for(request.workspace)
    form = BillingSettingsForm(
        request.POST or None, initial={f: getattr(settings, f) for f in BillingSettingsForm.base_fields}
    )
    if request.method == "POST":
        require(request.membership, SETTINGS, EDIT)
        if form.is_valid():
            try:
                services.billing_settings_update(
                    workspace=request.workspace, actor=request.user, attributes=form.cleaned_data
                )
            except ValidationFailed as exc:
                form.add_service_errors(exc.fields, exc.message)
            else:
                messages.success(request, _("Billing settings saved."))
                return redirect("billing:settings")
    return _settings_page(request, settings_form=form)


def _settings_page(request: WorkspaceRequest, **forms: Any) -> HttpResponse:
    settings = services.billing_settings_for(request.workspace)
    context = {
        "settings": settings,
        "settings_form": BillingSettingsForm(
            initial={f: getattr(settings, f) for f in BillingSettingsForm.base_fields}
        ),
        "tax_form": TaxRateForm(initial={"country": settings.country}),
        "rate_form": ExchangeRateForm(initial={"valid_on": timezone.localdate()}),
        "import_form": ExchangeRateImportForm(),
        "plan_form": CommissionPlanForm(members=member_list(workspace=request.workspace)),
        "tax_rates": selectors.tax_rate_list(workspace=request.workspace),
        "exchange_rates": selectors.exchange_rate_list(workspace=request.workspace),
        "plans": commissions.commission_plan_list(workspace=request.workspace),
        "can_edit": _can(request, SETTINGS),
        "today": timezone.localdate(),
        **forms,
    }
    status = 422 if any(f.errors for f in forms.values()) else 200
    return render(request, "billing/pages/settings.html", context, status=status)


@workspace_view(SETTINGS, EDIT)
@require_POST
def tax_rate_create(request: WorkspaceRequest) -> HttpResponse:
    form = TaxRateForm(request.POST)
    if form.is_valid():
        try:
            services.tax_rate_create(workspace=request.workspace, actor=request.user, **form.cleaned_data)
        except ValidationFailed as exc:
            form.add_service_errors(exc.fields, exc.message)
        else:
            messages.success(request, _("Tax rate added."))
            return redirect(reverse("billing:settings") + "#tax-rates")
    return _settings_page(request, tax_form=form)


@workspace_view(SETTINGS, EDIT)
@require_POST
def exchange_rate_create(request: WorkspaceRequest) -> HttpResponse:
    form = ExchangeRateForm(request.POST)
    if form.is_valid():
        try:
            services.exchange_rate_set(workspace=request.workspace, **form.cleaned_data)
        except ValidationFailed as exc:
            form.add_service_errors(exc.fields, exc.message)
        else:
            messages.success(request, _("Exchange rate saved."))
            return redirect(reverse("billing:settings") + "#exchange-rates")
    return _settings_page(request, rate_form=form)


@workspace_view(SETTINGS, EDIT)
@require_POST
def exchange_rate_import(request: WorkspaceRequest) -> HttpResponse:
    form = ExchangeRateImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            text = form.cleaned_data["file"].read().decode("utf-8-sig")
            count = services.exchange_rates_import(workspace=request.workspace, text=text)
        except UnicodeDecodeError:
            form.add_error("file", _("The file is not UTF-8 text."))
        except ValidationFailed as exc:
            for row, msgs in exc.fields.items():
                form.add_error(None, f"{row}: {' '.join(msgs)}")
        else:
            messages.success(request, _("%(count)d exchange rates imported.") % {"count": count})
            return redirect(reverse("billing:settings") + "#exchange-rates")
    return _settings_page(request, import_form=form)


@workspace_view(SETTINGS, EDIT)
@require_POST
def commission_plan_create(request: WorkspaceRequest) -> HttpResponse:
    form = CommissionPlanForm(request.POST, members=member_list(workspace=request.workspace))
    if form.is_valid():
        try:
            plan = commissions.commission_plan_create(
                workspace=request.workspace,
                actor=request.user,
                name=form.cleaned_data["name"],
                basis=form.cleaned_data["basis"],
                source=form.cleaned_data["source"],
                period=form.cleaned_data["period"],
                tiers=form.tier_pairs(),
                member_ids=[int(i) for i in form.cleaned_data["members"]],
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc.fields, exc.message)
        else:
            messages.success(request, _("Commission plan %(name)s created.") % {"name": plan.name})
            return redirect(reverse("billing:settings") + "#commission-plans")
    return _settings_page(request, plan_form=form)


# --- documents: lists and pages -------------------------------------------------------------------


def _document_list(request: WorkspaceRequest, kind: str) -> HttpResponse:
    status, q = request.GET.get("status", ""), request.GET.get("q", "").strip()
    documents = selectors.document_list(workspace=request.workspace, kind=kind, status=status, q=q)
    title, url_name = LIST_TEMPLATES[DocumentKind(kind)]
    statuses = sorted(
        set(Document.objects.filter(workspace=request.workspace, kind=kind).values_list("status", flat=True))
    )
    context = {
        "documents": documents,
        "kind": kind,
        "title": title,
        "list_url": reverse(url_name),
        "status": status,
        "q": q,
        "statuses": [(s, DocumentStatus(s).label) for s in statuses],
        "can_edit": _can(request),
        "today": timezone.localdate(),
    }
    if request.htmx and request.htmx.target == "document-results":
        return render(request, "billing/partials/document_rows.html", context)
    return render(request, "billing/pages/document_list.html", context)


@workspace_view(S)
def quote_list(request: WorkspaceRequest) -> HttpResponse:
    return _document_list(request, DocumentKind.QUOTE)


@workspace_view(S)
def order_list(request: WorkspaceRequest) -> HttpResponse:
    return _document_list(request, DocumentKind.ORDER)


@workspace_view(S)
def invoice_list(request: WorkspaceRequest) -> HttpResponse:
    return _document_list(request, DocumentKind.INVOICE)


def _document_page(request: WorkspaceRequest, document_id: int, kind: str, **extra: Any) -> HttpResponse:
    document = selectors.document_get(workspace=request.workspace, document_id=document_id, kind=kind)
    context: dict[str, Any] = {
        "document": document,
        "lines": list(document.lines.all()),
        "payments": list(document.payments.all()),
        "derived": list(document.derived.all()),
        "can_edit": _can(request),
        "today": timezone.localdate(),
    }
    if kind == DocumentKind.QUOTE:
        context["calculation"] = selectors.calculation_for_document(
            workspace=request.workspace, document=document
        )
        if document.status in (DocumentStatus.DRAFT, DocumentStatus.SENT):
            context["credit_warning"] = selectors.credit_warning(
                workspace=request.workspace, document=document
            )
    if kind == DocumentKind.INVOICE and document.status != DocumentStatus.DRAFT:
        due = document.amount_due
        context["payment_form"] = extra.pop(
            "payment_form",
            PaymentForm(
                initial={
                    "kind": "payment",
                    "amount": money.quantize(due, document.currency) if due > 0 else None,
                    "paid_on": timezone.localdate(),
                }
            ),
        )
        remaining = services.creditable_quantities(document)
        context["creditable"] = [
            (line, remaining[line.pk]) for line in context["lines"] if remaining.get(line.pk, 0) > 0
        ]
    context.update(extra)
    status = (
        422 if any(getattr(v, "errors", None) for v in context.values() if hasattr(v, "is_bound")) else 200
    )
    return render(request, "billing/pages/document.html", context, status=status)


@workspace_view(S)
def quote_detail(request: WorkspaceRequest, document_id: int) -> HttpResponse:
    return _document_page(request, document_id, DocumentKind.QUOTE)


@workspace_view(S)
def order_detail(request: WorkspaceRequest, document_id: int) -> HttpResponse:
    return _document_page(request, document_id, DocumentKind.ORDER)


@workspace_view(S)
def invoice_detail(request: WorkspaceRequest, document_id: int) -> HttpResponse:
    return _document_page(request, document_id, DocumentKind.INVOICE)


@workspace_view(S)
def credit_note_detail(request: WorkspaceRequest, document_id: int) -> HttpResponse:
    return _document_page(request, document_id, DocumentKind.CREDIT_NOTE)


@workspace_view(S)
@require_GET
def document_pdf_view(request: WorkspaceRequest, document_id: int) -> HttpResponse:
    document = selectors.document_get(workspace=request.workspace, document_id=document_id)
    response = HttpResponse(document_pdf(document=document), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{document_filename(document)}"'
    return response


# --- documents: actions ---------------------------------------------------------------------------


def _action(request: WorkspaceRequest, document: Document, run: Any, done: str) -> HttpResponse:
    """Run a service action; a refusal becomes an error message on the document's page."""
    try:
        result = run()
    except ApplicationError as exc:
        messages.error(request, _error_text(exc) if isinstance(exc, ValidationFailed) else exc.message)
        return redirect(document_url(document))
    target = result if isinstance(result, Document) else document
    messages.success(request, done % {"number": target.number})
    return redirect(document_url(target))


@workspace_view(S, EDIT)
@require_POST
def quote_send(request: WorkspaceRequest, document_id: int) -> HttpResponse:
    quote = selectors.document_get(
        workspace=request.workspace, document_id=document_id, kind=DocumentKind.QUOTE
    )
    return _action(
        request,
        quote,
        lambda: services.quote_send(
            quote=quote,
            actor=request.user,
            to=request.POST.get("to", ""),
            message=request.POST.get("message", ""),
            language=request.LANGUAGE_CODE,
        ),
        _("Quote %(number)s sent."),
    )


@workspace_view(S, EDIT)
@require_POST
def quote_accept(request: WorkspaceRequest, document_id: int) -> HttpResponse:
    quote = selectors.document_get(
        workspace=request.workspace, document_id=document_id, kind=DocumentKind.QUOTE
    )
    try:
        accepted = services.quote_accept(quote=quote, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(document_url(quote))
    for warning in accepted.warnings:
        messages.warning(request, warning)
    messages.success(
        request, _("Quote accepted: order %(number)s created.") % {"number": accepted.order.number}
    )
    return redirect(document_url(accepted.order))


@workspace_view(S, EDIT)
@require_POST
def quote_decline(request: WorkspaceRequest, document_id: int) -> HttpResponse:
    quote = selectors.document_get(
        workspace=request.workspace, document_id=document_id, kind=DocumentKind.QUOTE
    )
    return _action(
        request,
        quote,
        lambda: services.quote_decline(quote=quote, actor=request.user),
        _("Quote %(number)s declined."),
    )


@workspace_view(S, EDIT)
@require_POST
def order_invoice(request: WorkspaceRequest, document_id: int) -> HttpResponse:
    order = selectors.document_get(
        workspace=request.workspace, document_id=document_id, kind=DocumentKind.ORDER
    )
    return _action(
        request,
        order,
        lambda: services.order_invoice(order=order, actor=request.user),
        _("Invoice %(number)s issued."),
    )


@workspace_view(S, EDIT)
@require_POST
def invoice_issue(request: WorkspaceRequest, document_id: int) -> HttpResponse:
    invoice = selectors.document_get(
        workspace=request.workspace, document_id=document_id, kind=DocumentKind.INVOICE
    )
    return _action(
        request,
        invoice,
        lambda: services.invoice_issue(invoice=invoice, actor=request.user),
        _("Invoice %(number)s issued."),
    )


@workspace_view(S, EDIT)
@require_POST
def invoice_credit(request: WorkspaceRequest, document_id: int) -> HttpResponse:
    invoice = selectors.document_get(
        workspace=request.workspace, document_id=document_id, kind=DocumentKind.INVOICE
    )
    return _action(
        request,
        invoice,
        lambda: services.invoice_credit(
            invoice=invoice,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            lines=_credit_lines(request.POST),
        ),
        _("Credit note %(number)s issued."),
    )


def _credit_lines(data: QueryDict) -> list[services.CreditLineIn] | None:
    """The form's ``credit-<line id>`` quantities (blank = 0); None when it sent none (all of it)."""
    lines = [
        services.CreditLineIn(
            line_id=int(name.removeprefix("credit-")), quantity=data.get(name, "").strip() or "0"
        )
        for name in data
        if name.startswith("credit-") and name.removeprefix("credit-").isdigit()
    ]
    return lines or None


@workspace_view(S, EDIT)
@require_POST
def payment_create(request: WorkspaceRequest, document_id: int) -> HttpResponse:
    invoice = selectors.document_get(
        workspace=request.workspace, document_id=document_id, kind=DocumentKind.INVOICE
    )
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            payment = services.payment_register(invoice=invoice, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_service_errors(exc.fields, exc.message)
            if exc.fields:
                form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                (
                    _("Refund of %(amount)s registered.")
                    if payment.kind == "refund"
                    else _("Payment of %(amount)s registered.")
                )
                % {"amount": f"{payment.amount} {invoice.currency}"},
            )
            return redirect(document_url(invoice))
    return _document_page(request, document_id, DocumentKind.INVOICE, payment_form=form)


# --- the quote editor -----------------------------------------------------------------------------


@workspace_view(S, EDIT)
@require_http_methods(["GET", "POST"])
def quote_create(request: WorkspaceRequest) -> HttpResponse:
    """The editor: header, lines with live totals (htmx), the calculator; POST saves the quote."""
    return _editor(request, None)


@workspace_view(S, EDIT)
@require_http_methods(["GET", "POST"])
def quote_edit(request: WorkspaceRequest, document_id: int) -> HttpResponse:
    quote = selectors.document_get(
        workspace=request.workspace, document_id=document_id, kind=DocumentKind.QUOTE
    )
    if not quote.is_editable:
        messages.error(request, _("This quote can no longer be changed."))
        return redirect(document_url(quote))
    return _editor(request, quote)


def _editor(request: WorkspaceRequest, quote: Document | None) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        header, lines, _rows = editor_input(request.POST)
        try:
            if quote is None:
                quote = services.quote_create(
                    workspace=request.workspace, actor=request.user, header=header, lines=lines
                )
            else:
                services.document_update(document=quote, actor=request.user, header=header, lines=lines)
        except ValidationFailed as exc:
            errors = exc.fields or {"__all__": [exc.message]}
        else:
            messages.success(request, _("Quote %(number)s saved.") % {"number": quote.number})
            return redirect(document_url(quote))
    context = _editor_context(request, quote, request.POST if request.method == "POST" else None)
    context["errors"] = errors
    if errors:
        context["preview"] = _preview(request, request.POST, quote)
    return render(request, "billing/pages/quote_form.html", context, status=422 if errors else 200)


def editor_input(data: QueryDict) -> tuple[services.DocumentHeader, list[LineIn], list[str]]:
    """The editor's form as a document header and lines (the rows' ids in order, for the live totals)."""
    customer = data.get("customer", "")
    kind, _sep, ident = customer.partition(":")

    def number(name: str) -> int | None:
        value = data.get(name, "")
        return int(value) if value.isdigit() else None

    header = services.DocumentHeader(
        person_id=int(ident) if kind == "person" and ident.isdigit() else None,
        company_id=int(ident) if kind == "company" and ident.isdigit() else None,
        currency=data.get("currency") or None,
        price_list_id=number("price_list"),
        issue_date=data.get("issue_date") or None,
        valid_until=data.get("valid_until") or None,
        terms=data.get("terms", ""),
        notes=data.get("notes", ""),
        discount_percent=data.get("discount_percent") or "0",
        tax_treatment=data.get("tax_treatment") or None,
        exemption_reason=data.get("exemption_reason", ""),
        owner_id=number("owner"),
        deal_id=number("deal"),
    )
    rows = data.getlist("row")
    columns = {
        name: data.getlist(name) for name in ("product", "description", "quantity", "unit_price", "discount")
    }
    lines = []
    for i in range(len(rows)):

        def cell(name: str, i: int = i) -> str:
            values = columns[name]
            return values[i].strip() if i < len(values) else ""

        if not any(cell(n) for n in ("product", "description", "unit_price")):
            continue  # an untouched empty row
        lines.append(
            LineIn(
                product_id=int(cell("product")) if cell("product").isdigit() else None,
                description=cell("description"),
                quantity=cell("quantity") or "1",
                unit_price=cell("unit_price") or None,
                discount_percent=cell("discount") or "0",
            )
        )
    used = [
        rows[i]
        for i in range(len(rows))
        if any(columns[n][i].strip() for n in ("product", "description", "unit_price") if i < len(columns[n]))
    ]
    return header, lines, used


def _editor_context(
    request: WorkspaceRequest, quote: Document | None, data: QueryDict | None
) -> dict[str, Any]:
    workspace = request.workspace
    settings = services.billing_settings_for(workspace)
    from_deal, deal_currency = None, ""
    if data is not None:
        rows = _rows_from_post(data)
        customer = data.get("customer", "")
    elif quote is not None:
        rows = [
            {
                "uid": secrets.token_hex(4),
                "product": str(line.product_id or ""),
                "description": line.description,
                "quantity": f"{line.quantity.normalize():f}",
                "unit_price": f"{line.unit_price.normalize():f}",
                "discount": f"{line.discount_percent.normalize():f}" if line.discount_percent else "",
            }
            for line in quote.lines.all()
        ]
        customer = f"company:{quote.company_id}" if quote.company_id else f"person:{quote.person_id}"
    else:
        rows = [_blank_row()]
        person, company = request.GET.get("person", ""), request.GET.get("company", "")
        from_deal = _deal_or_none(request, request.GET.get("deal", ""))
        if from_deal is not None:  # a quote for a deal: its customer, currency and products
            person = person or str(from_deal.person_id or "")
            company = company or str(from_deal.company_id or "")
            rows = [_row_from_deal_line(line) for line in from_deal.billing_lines.all()] or rows
        customer = (
            f"company:{company}" if company.isdigit() else f"person:{person}" if person.isdigit() else ""
        )
        if from_deal is not None and from_deal.currency:
            deal_currency = from_deal.currency
    values = {
        "currency": (data.get("currency") if data else None)
        or (quote.currency if quote else deal_currency or workspace.default_currency),
        "price_list": (data.get("price_list") if data else None)
        or (str(quote.price_list_id or "") if quote else ""),
        "issue_date": (data.get("issue_date") if data else None)
        or (quote.issue_date.isoformat() if quote else timezone.localdate().isoformat()),
        "valid_until": (data.get("valid_until") if data else None)
        or (quote.valid_until.isoformat() if quote and quote.valid_until else "")
        or (timezone.localdate() + dt.timedelta(days=settings.quote_validity_days)).isoformat(),
        "discount_percent": (data.get("discount_percent") if data else None)
        or (f"{quote.discount_percent.normalize():f}" if quote and quote.discount_percent else ""),
        "tax_treatment": (data.get("tax_treatment") if data else None) or "",
        "exemption_reason": (data.get("exemption_reason") if data else None)
        or (quote.exemption_reason if quote else ""),
        "owner": (data.get("owner") if data else None)
        or str((quote.owner_id if quote else request.user.pk) or ""),
        "terms": data.get("terms", "") if data else (quote.terms if quote else settings.quote_terms),
        "notes": data.get("notes", "") if data else (quote.notes if quote else ""),
        "deal": (data.get("deal") if data else None)
        or (str(quote.deal_id or "") if quote else request.GET.get("deal", "")),
    }
    context = {
        "quote": quote,
        "rows": rows,
        "values": values,
        "customer_options": _customer_options(workspace, "", selected=customer),
        "customer": customer,
        "products": selectors.product_list(workspace=workspace, active=True),
        "price_lists": selectors.price_list_list(workspace=workspace).filter(active=True),
        "members": member_list(workspace=workspace),
        "currencies": _currencies(workspace),
        "treatments": TaxTreatment.choices,
        "errors": {},
    }
    if quote is not None and data is None:
        context["preview"] = _preview(request, _post_from_quote(quote, rows, values, customer), quote)
    return context


def _blank_row() -> dict[str, str]:
    return {
        "uid": secrets.token_hex(4),
        "product": "",
        "description": "",
        "quantity": "1",
        "unit_price": "",
        "discount": "",
    }


def _rows_from_post(data: QueryDict) -> list[dict[str, str]]:
    rows = []
    for i, uid in enumerate(data.getlist("row")):

        def cell(name: str, i: int = i) -> str:
            values = data.getlist(name)
            return values[i] if i < len(values) else ""

        rows.append(
            {
                "uid": uid,
                "product": cell("product"),
                "description": cell("description"),
                "quantity": cell("quantity"),
                "unit_price": cell("unit_price"),
                "discount": cell("discount"),
            }
        )
    return rows or [_blank_row()]


def _post_from_quote(
    quote: Document, rows: list[dict[str, str]], values: dict[str, str], customer: str
) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, value in values.items():
        data[key] = value
    data["customer"] = customer
    for row in rows:
        data.appendlist("row", row["uid"])
        for name in ("product", "description", "quantity", "unit_price", "discount"):
            data.appendlist(name, row[name])
    return data


def _currencies(workspace: Any) -> list[str]:
    codes = {workspace.default_currency.upper()}
    codes.update(r.currency for r in selectors.exchange_rate_list(workspace=workspace))
    return sorted(codes)


def _preview(request: WorkspaceRequest, data: QueryDict, quote: Document | None) -> dict[str, Any]:
    """Priced lines (by row id) and totals of what the editor holds now, with the calculator."""
    header, lines, rows = editor_input(data)
    preview = services.document_preview(
        workspace=request.workspace, header=header, lines=lines, document=quote
    )
    by_row: dict[str, Any] = {}
    valid_totals = iter(preview.totals.lines)
    for i, (uid, priced) in enumerate(zip(rows, preview.lines, strict=False)):
        line_errors = [m for k, msgs in preview.errors.items() if k.startswith(f"lines.{i}.") for m in msgs]
        by_row[uid] = {
            "line": priced,
            "totals": next(valid_totals) if priced is not None else None,
            "errors": line_errors,
        }
    owner = None
    if header.owner_id:
        membership = (
            Membership.objects.filter(workspace=request.workspace, user_id=header.owner_id)
            .select_related("user")
            .first()
        )
        owner = membership.user if membership else None
    calculation = selectors.calculation_for_totals(
        workspace=request.workspace, totals=preview.totals, owner=owner, on=preview.context.issue_date
    )
    header_errors = {k: v for k, v in preview.errors.items() if not k.startswith("lines.")}
    return {
        "totals": preview.totals,
        "rows": by_row,
        "header_errors": header_errors,
        "treatment": TaxTreatment(preview.context.treatment).label,
        "calculation": calculation,
    }


@workspace_view(S)
@require_POST
def quote_preview(request: WorkspaceRequest) -> HttpResponse:
    """The editor's live totals: net, each tax and gross, line amounts and the calculator (htmx)."""
    quote = None
    if request.POST.get("quote", "").isdigit():
        quote = selectors.document_get(
            workspace=request.workspace, document_id=int(request.POST["quote"]), kind=DocumentKind.QUOTE
        )
    return render(
        request, "billing/partials/quote_preview.html", {"preview": _preview(request, request.POST, quote)}
    )


@workspace_view(S)
@require_GET
def quote_line(request: WorkspaceRequest) -> HttpResponse:
    """A line row for the editor: blank (add a line) or filled from the chosen product."""
    row = _blank_row()
    row["uid"] = request.GET.get("row") or row["uid"]
    product_id = request.GET.get("product", "")
    hint = ""
    if product_id.isdigit():
        product = selectors.product_list(workspace=request.workspace).filter(pk=int(product_id)).first()
        if product is not None:
            row.update(
                product=str(product.pk), description=product.name, quantity=request.GET.get("quantity") or "1"
            )
            hint = _price_hint(request, product, row["quantity"])
    response = render(
        request,
        "billing/partials/quote_line.html",
        {
            "row": row,
            "products": selectors.product_list(workspace=request.workspace, active=True),
            "hint": hint,
        },
    )
    response["HX-Trigger"] = "recalc"
    return response


def _price_hint(request: WorkspaceRequest, product: Any, quantity: str) -> str:
    """The catalogue price the line will get if no price is typed, as the input's placeholder."""
    header, _lines, _rows = editor_input(request.GET)
    ctx = services.pricing_context(workspace=request.workspace, header=header)
    try:
        found = resolve_price(ctx, product, money.to_decimal(quantity or "1"))
    except money.MoneyError:
        return ""
    return f"{found[0].normalize():f}" if found else ""


@workspace_view(S)
@require_GET
def customer_options(request: WorkspaceRequest) -> HttpResponse:
    """Options of the editor's customer picker matching ``q`` (companies, then people); the first match
    is chosen, and the totals follow (the tax treatment depends on the customer)."""
    q = request.GET.get("q", "").strip()
    options = _customer_options(request.workspace, q, "" if q else request.GET.get("customer", ""))
    if q and options and not any(selected for _v, _l, selected in options):
        options[0] = (options[0][0], options[0][1], True)
    response = render(request, "billing/partials/customer_options.html", {"options": options})
    response["HX-Trigger"] = "recalc"
    return response


def _customer_options(workspace: Any, q: str, selected: str) -> list[tuple[str, str, bool]]:
    companies = Company.objects.filter(workspace=workspace)
    people = Person.objects.filter(workspace=workspace).select_related("company")
    if q:
        companies = companies.filter(name__icontains=q)
        people = people.filter(search_text__icontains=fold(q))
    options = [(f"company:{c.pk}", c.name, False) for c in companies.order_by("name")[:15]]
    options += [
        (f"person:{p.pk}", f"{p.full_name}{f' · {p.company.name}' if p.company else ''}", False)
        for p in people.order_by("last_name", "first_name")[:15]
    ]
    kind, _sep, ident = selected.partition(":")
    if ident.isdigit() and selected not in {o[0] for o in options}:
        record = (
            (Company if kind == "company" else Person)
            .objects.filter(workspace=workspace, pk=int(ident))
            .first()
        )
        if record is not None:
            options.insert(0, (selected, str(record), True))
    return [(value, label, value == selected) for value, label, _s in options]


# --- customers, commissions, calculator -----------------------------------------------------------


@workspace_view(S, EDIT)
@require_http_methods(["GET", "POST"])
def account_edit(request: WorkspaceRequest, entity: str, record_id: int) -> HttpResponse:
    """A customer's group, credit limit and payment terms."""
    model = {"person": Person, "company": Company}.get(entity)
    if model is None:
        return HttpResponse(status=404)
    record = model.objects.get(workspace=request.workspace, pk=record_id)
    account = selectors.customer_account_get(workspace=request.workspace, record=record)
    initial = {f: getattr(account, f) for f in AccountForm.base_fields} if account else None
    form = AccountForm(request.POST or None, initial=initial)
    back = reverse(
        "contacts:person_card" if entity == "person" else "contacts:company_card", args=[record.pk]
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_account_update(
                workspace=request.workspace, actor=request.user, record=record, attributes=form.cleaned_data
            )
        except ValidationFailed as exc:
            form.add_service_errors(exc.fields, exc.message)
        else:
            messages.success(request, _("Credit and terms of %(name)s saved.") % {"name": record})
            return redirect(back)
    return render(
        request,
        "billing/pages/simple_form.html",
        {"form": form, "title": _("Credit and terms: %(name)s") % {"name": record}, "back": back},
        status=422 if form.errors else 200,
    )


@workspace_view(S)
def commission_statements(request: WorkspaceRequest) -> HttpResponse:
    """Statements per person and period; managers choose anyone, salespeople see their own."""
    sees_all = RECORD_SCOPE.get(request.membership.role) == RecordScope.ALL
    members = list(member_list(workspace=request.workspace)) if sees_all else []
    user = request.user
    wanted = request.GET.get("user", "")
    if sees_all and wanted.isdigit():
        user = next((m.user for m in members if m.user_id == int(wanted)), request.user)
    try:
        on = commissions.parse_period(request.GET.get("period", ""))
    except ValidationFailed as exc:
        messages.error(request, exc.message)
        on = timezone.localdate()
    statements = commissions.commission_statements(workspace=request.workspace, user=user, on=on)
    return render(
        request,
        "billing/pages/commissions.html",
        {
            "statements": statements,
            "person": user,
            "members": members,
            "sees_all": sees_all,
            "period": on.strftime("%Y-%m"),
            "can_manage": _can(request, SETTINGS),
        },
    )


def _deal(request: WorkspaceRequest, deal_id: int) -> Any:
    """A deal the member may see (a salesperson: their own), else Deal.DoesNotExist (404)."""
    from clientela.sales.selectors import deal_get

    return deal_get(workspace=request.workspace, viewer=request.membership, deal_id=deal_id)


def _deal_or_none(request: WorkspaceRequest, value: str) -> Any:
    """The deal named by a ``?deal=`` parameter, if the member may see it."""
    from clientela.sales.models import Deal

    if not value.isdigit():
        return None
    try:
        return _deal(request, int(value))
    except Deal.DoesNotExist:
        return None


def _row_from_deal_line(line: Any) -> dict[str, str]:
    return {
        "uid": secrets.token_hex(4),
        "product": str(line.product_id or ""),
        "description": line.description,
        "quantity": f"{line.quantity.normalize():f}",
        "unit_price": f"{line.unit_price.normalize():f}" if line.unit_price is not None else "",
        "discount": f"{line.discount_percent.normalize():f}" if line.discount_percent else "",
    }


@workspace_view(S)
def deal_calculator(request: WorkspaceRequest, deal_id: int) -> HttpResponse:
    """A deal's lines and cost breakdown: a panel for htmx, or a page of its own."""
    deal = _deal(request, deal_id)
    context = {
        "deal": deal,
        "deal_lines": selectors.deal_lines(workspace=request.workspace, deal_id=deal.pk),
        "calculation": selectors.calculation_for_deal(workspace=request.workspace, deal=deal),
        "products": selectors.product_list(workspace=request.workspace, active=True),
        "can_edit": _can(request),
    }
    template = (
        "billing/partials/deal_calculator.html" if request.htmx else "billing/pages/deal_calculator.html"
    )
    return render(request, template, context)


@workspace_view(S, EDIT)
@require_POST
def deal_line_create(request: WorkspaceRequest, deal_id: int) -> HttpResponse:
    deal = _deal(request, deal_id)
    product = request.POST.get("product", "")
    try:
        services.deal_line_add(
            workspace=request.workspace,
            actor=request.user,
            deal=deal,
            line=LineIn(
                product_id=int(product) if product.isdigit() else None,
                description=request.POST.get("description", ""),
                quantity=request.POST.get("quantity") or "1",
                unit_price=request.POST.get("unit_price") or None,
                discount_percent=request.POST.get("discount") or "0",
            ),
        )
    except ValidationFailed as exc:
        messages.error(request, _error_text(exc))
    return redirect("billing:deal_calculator", deal_id=deal.pk)


@workspace_view(S, EDIT)
@require_POST
def deal_line_delete(request: WorkspaceRequest, deal_id: int, line_id: int) -> HttpResponse:
    line = selectors.deal_lines(workspace=request.workspace, deal_id=_deal(request, deal_id).pk).get(
        pk=line_id
    )
    services.deal_line_delete(line=line)
    return redirect("billing:deal_calculator", deal_id=deal_id)
