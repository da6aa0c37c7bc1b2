"""RFC 9457 problem details for every API error: ``application/problem+json`` with a stable ``code``."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from clientela.core.errors import ApplicationError

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/problem+json"


def problem(
    status: int,
    code: str,
    title: str,
    detail: str = "",
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": f"urn:clientela:problem:{code}",
        "title": title,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    response = JsonResponse(body, status=status, content_type=CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    # ninja prefixes the source ("body", "query", "path") and the parameter name; keep what a client sees.
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form", "file"}:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in {"payload", "data", "body", "filters"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ApplicationError)
    def application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
        errors = [{"field": f, "message": m} for f, msgs in exc.fields.items() for m in msgs] or None
        return problem(exc.status, exc.code, exc.message, errors=errors, **exc.extra)

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        if any("cursor" in e and "loc" not in e for e in exc.errors):  # django-ninja's CursorPagination
            errors = [{"field": "cursor", "message": _("Invalid.")}]
            return problem(422, "validation_failed", _("The page cursor is invalid."), errors=errors)
        errors = [{"field": _field_name(e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors]
        return problem(422, "validation_failed", _("The request has invalid fields."), errors=errors)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem(
            401,
            "unauthenticated",
            _("Authentication required."),
            _("Send a valid API token as 'Authorization: Bearer <token>', or sign in."),
            headers={"WWW-Authenticate": 'Bearer realm="clientela"'},
        )

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, RequestDataTooBig):
            return problem(413, "body_too_large", _("The request body is too large."))
        if exc.status_code == 400 and "parse request body" in str(exc):
            return problem(400, "malformed_body", _("The request body is not valid JSON."))
        if exc.status_code == 403 and "CSRF" in str(exc):
            return problem(
                403,
                "csrf_failed",
                _("CSRF check failed."),
                _("Browser sessions must send the X-CSRFToken header on unsafe methods."),
            )
        return problem(exc.status_code, "http_error", str(exc))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(404, "not_found", _("Not found."))

    @api.exception_handler(ObjectDoesNotExist)
    def does_not_exist(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(404, "not_found", _("Not found."))

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(413, "body_too_large", _("The request body is too large."))

    @api.exception_handler(Exception)
    def server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API error on %s %s", request.method, request.path)
        return problem(500, "server_error", _("Something went wrong on our side. It has been logged."))
