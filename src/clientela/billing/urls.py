from django.urls import path

from clientela.billing import views

app_name = "billing"

urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<int:product_id>/", views.product_edit, name="product_edit"),
    path("price-lists/", views.price_list_list, name="price_list_list"),
    path("price-lists/<int:price_list_id>/", views.price_list_detail, name="price_list_detail"),
    path("price-lists/<int:price_list_id>/edit/", views.price_list_edit, name="price_list_edit"),
    path(
        "price-lists/<int:price_list_id>/items/<int:item_id>/delete/",
        views.price_list_item_delete,
        name="price_list_item_delete",
    ),
    path("settings/billing/", views.billing_settings, name="settings"),
    path("settings/billing/tax-rates/", views.tax_rate_create, name="tax_rate_create"),
    path("settings/billing/exchange-rates/", views.exchange_rate_create, name="exchange_rate_create"),
    path("settings/billing/exchange-rates/import/", views.exchange_rate_import, name="exchange_rate_import"),
    path("settings/billing/commission-plans/", views.commission_plan_create, name="commission_plan_create"),
    path("quotes/", views.quote_list, name="quote_list"),
    path("quotes/new/", views.quote_create, name="quote_create"),
    path("quotes/preview/", views.quote_preview, name="quote_preview"),
    path("quotes/line/", views.quote_line, name="quote_line"),
    path("quotes/customers/", views.customer_options, name="customer_options"),
    path("quotes/<int:document_id>/", views.quote_detail, name="quote_detail"),
    path("quotes/<int:document_id>/edit/", views.quote_edit, name="quote_edit"),
    path("quotes/<int:document_id>/send/", views.quote_send, name="quote_send"),
    path("quotes/<int:document_id>/accept/", views.quote_accept, name="quote_accept"),
    path("quotes/<int:document_id>/decline/", views.quote_decline, name="quote_decline"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/<int:document_id>/", views.order_detail, name="order_detail"),
    path("orders/<int:document_id>/invoice/", views.order_invoice, name="order_invoice"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/<int:document_id>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:document_id>/issue/", views.invoice_issue, name="invoice_issue"),
    path("invoices/<int:document_id>/credit-note/", views.invoice_credit, name="invoice_credit"),
    path("invoices/<int:document_id>/payments/", views.payment_create, name="payment_create"),
    path("credit-notes/<int:document_id>/", views.credit_note_detail, name="credit_note_detail"),
    path("documents/<int:document_id>/pdf/", views.document_pdf_view, name="document_pdf"),
    path("customers/<str:entity>/<int:record_id>/account/", views.account_edit, name="account_edit"),
    path("commissions/", views.commission_statements, name="commissions"),
    path("deals/<int:deal_id>/calculator/", views.deal_calculator, name="deal_calculator"),
    path("deals/<int:deal_id>/lines/", views.deal_line_create, name="deal_line_create"),
    path("deals/<int:deal_id>/lines/<int:line_id>/delete/", views.deal_line_delete, name="deal_line_delete"),
]
