"""API routes for sales (pipelines, deals)."""

from ninja import Router

router = Router(tags=["sales"])
