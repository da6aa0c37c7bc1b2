"""API routes for products, price lists, taxes, quotes, orders, invoices, payments and balances."""

from ninja import Router

router = Router(tags=["billing"])
