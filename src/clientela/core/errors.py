"""Errors raised by services. Each carries a user-readable message and a stable machine code.

The API turns them into RFC 9457 problem details, the web UI into form errors or flash messages.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}
        self.extra = extra


class ValidationFailed(ApplicationError):
    status = 422
    code = "validation_failed"


class NotFound(ApplicationError):
    """Missing and forbidden look the same: an id from another workspace is simply not found."""

    status = 404
    code = "not_found"


class PermissionDenied(ApplicationError):
    status = 403
    code = "permission_denied"


class Conflict(ApplicationError):
    status = 409
    code = "conflict"


class RateLimited(ApplicationError):
    status = 429
    code = "rate_limited"
