"""One error family. Each carries its HTTP status, a stable code and a message that says what to fix.

The web tier renders them as ``{"error", "message", "field"}`` JSON for the API and as a page for people.
"""

from __future__ import annotations


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.headers = headers or {}

    def to_dict(self) -> dict[str, str | None]:
        return {"error": self.code, "message": self.message, "field": self.field}


class BadRequest(AppError):
    status_code, code = 400, "bad_request"


class NotAuthenticated(AppError):
    status_code, code = 401, "not_authenticated"


class PaymentRequired(AppError):
    status_code, code = 402, "insufficient_credits"


class Forbidden(AppError):
    status_code, code = 403, "forbidden"


class NotFound(AppError):
    status_code, code = 404, "not_found"


class Conflict(AppError):
    status_code, code = 409, "conflict"


class Gone(AppError):
    status_code, code = 410, "gone"


class PayloadTooLarge(AppError):
    status_code, code = 413, "payload_too_large"


class UnsupportedMediaType(AppError):
    status_code, code = 415, "unsupported_media_type"


class Invalid(AppError):
    status_code, code = 422, "invalid"


class BadGateway(AppError):
    status_code, code = 502, "bad_gateway"


class TooManyRequests(AppError):
    status_code, code = 429, "too_many_requests"

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after
