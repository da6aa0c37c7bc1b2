"""API routes for customer dedupe (filled in by the dedupe work)."""

from ninja import Router

router = Router(tags=["customers"])
