"""API routes for customer imports (filled in by the imports work)."""

from ninja import Router

router = Router(tags=["customers"])
