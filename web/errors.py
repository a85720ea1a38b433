"""Render every error the same way: ``{"error", "message", "field"}`` for the API, a page for people.

Litestar's own exceptions (unknown route, bad JSON, validation, oversize body, CSRF) are mapped onto
the ``AppError`` family so a client sees one shape and a message that says what to fix.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from agentledger.platform.errors import (
    AppError,
    BadRequest,
    Forbidden,
    Invalid,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
)

log = logging.getLogger("agentledger.web")

_BY_STATUS: dict[int, type[AppError]] = {
    400: BadRequest, 401: NotAuthenticated, 403: Forbidden, 404: NotFound, 413: PayloadTooLarge,
}


_NAMED_FIELD = re.compile(r"field `([^`]+)`|Missing required \w+ parameter '([^']+)'")


def _from_validation(exc: ValidationException) -> AppError:
    """422 naming the field: Litestar says ``key: data`` for whole-body problems, so take the field
    from msgspec's message ("Object missing required field `name`") when it names one."""
    extra: Any = exc.extra if isinstance(exc.extra, list) else []
    first = extra[0] if extra and isinstance(extra[0], dict) else {}
    message = str(first.get("message", "")) or exc.detail or "the request is invalid"
    key = str(first.get("key") or "")
    named = _NAMED_FIELD.search(message)
    field = (named.group(1) or named.group(2)) if named else (key if key and key != "data" else None)
    if field is None and key == "data":
        return Invalid(f"the request body is invalid: {message}")
    return Invalid(f"{field}: {message}" if field else message, field=field)


def to_app_error(exc: Exception) -> AppError:
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, ValidationException):
        return _from_validation(exc)
    if isinstance(exc, HTTPException):
        cls = _BY_STATUS.get(exc.status_code)
        if exc.status_code == 404:
            return NotFound("no such page or endpoint")
        if exc.status_code == 400:
            return BadRequest(f"the request could not be read ({exc.detail}); send valid JSON")
        if cls is not None:
            return cls(exc.detail)
        error = AppError(exc.detail, headers=dict(exc.headers or {}))  # a 405 keeps its Allow (RFC 9110)
        error.status_code = exc.status_code
        error.code = exc.detail.lower().replace(" ", "_")[:40] or "error"
        return error
    log.exception("unhandled error", exc_info=exc)
    error = AppError("something went wrong on our side; the error has been logged")
    error.status_code, error.code = HTTP_500_INTERNAL_SERVER_ERROR, "internal_error"
    return error


def wants_json(request: Request) -> bool:
    """The API, machines (Stripe's webhook) and callers that ask for JSON get the error body; people a page."""
    return request.url.path.startswith(("/api/", "/webhooks/")) or request.headers.get("accept", "").startswith("application/json")


def handle(request: Request, exc: Exception) -> Response[Any]:
    error = to_app_error(exc)
    if wants_json(request):
        return Response(error.to_dict(), status_code=error.status_code, headers=error.headers,
                        media_type=MediaType.JSON)
    if error.status_code == 401:
        return Redirect(f"/login?next={quote(request.url.path)}", status_code=303)
    return Template("error.html", context={"error": error}, status_code=error.status_code, headers=error.headers)


exception_handlers = {Exception: handle}
