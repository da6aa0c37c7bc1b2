"""Answers whose body a selector already made in its response schema's exact shape."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse


def as_validated(request: HttpRequest, body: Any, status: int = 200) -> HttpResponse:
    """Render ``body`` as ninja renders a validated response: the same renderer and content type.

    Only for bodies that are their schema's output already, key for key, such as the rows of
    ``contacts.selectors.customer_rows`` (its tests hold them to PersonOut and CompanyOut): validating
    50 rows again through ninja's schemas costs more than reading them from the database.
    """
    from clientela.api.api import api  # not at import time: api.py imports the routers that use this

    return api.create_response(request, body, status=status)
