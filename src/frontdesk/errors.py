"""One error hierarchy, one JSON error shape, one WebSocket close code per kind.

    FrontdeskError                 500 internal_error        (close 1011)
    ├── ConfigurationError         refuses to start; never reaches a client
    ├── BadRequest                 400 bad_request           (close 4400)
    │   └── ValidationFailed       422 validation_error      (close 4422)
    ├── Unauthorized               401 unauthorized          (close 4401)
    ├── Forbidden                  403 forbidden             (close 4403)
    ├── NotFound                   404 not_found             (close 4404)
    ├── MethodNotAllowed           405 method_not_allowed
    ├── Conflict                   409 conflict
    ├── PayloadTooLarge            413 payload_too_large     (close 1009)
    ├── UnsupportedMediaType       415 unsupported_media_type
    ├── RateLimited                429 rate_limited          (close 4429)
    ├── ServiceUnavailable         503 unavailable
    ├── RequestTimeout             408 request_timeout       (HTTP connections only)
    └── HeadersTooLarge            431 headers_too_large     (HTTP connections only)

Every subclass keeps its status; ``code`` is refined per raise site (``token_expired``,
``bad_signature``, …) so a client can tell failures apart without parsing the message.
The body is always ``{"success": false, "code": …, "message": …}`` plus optional ``details``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class FrontdeskError(Exception):
    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "internal_error"
    ws_close_code: ClassVar[int] = 1011

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details
        self.headers = headers or {}

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"success": False, "code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class ConfigurationError(FrontdeskError):
    default_code = "configuration_error"


class BadRequest(FrontdeskError):
    status = 400
    default_code = "bad_request"
    ws_close_code = 4400


class ValidationFailed(BadRequest):
    status = 422
    default_code = "validation_error"
    ws_close_code = 4422


class Unauthorized(FrontdeskError):
    status = 401
    default_code = "unauthorized"
    ws_close_code = 4401


class Forbidden(FrontdeskError):
    status = 403
    default_code = "forbidden"
    ws_close_code = 4403


class NotFound(FrontdeskError):
    status = 404
    default_code = "not_found"
    ws_close_code = 4404


class MethodNotAllowed(FrontdeskError):
    status = 405
    default_code = "method_not_allowed"


class Conflict(FrontdeskError):
    status = 409
    default_code = "conflict"


class PayloadTooLarge(FrontdeskError):
    status = 413
    default_code = "payload_too_large"
    ws_close_code = 1009


class UnsupportedMediaType(FrontdeskError):
    status = 415
    default_code = "unsupported_media_type"


class RateLimited(FrontdeskError):
    status = 429
    default_code = "rate_limited"
    ws_close_code = 4429


class ServiceUnavailable(FrontdeskError):
    status = 503
    default_code = "unavailable"


class RequestTimeout(FrontdeskError):
    status = 408
    default_code = "request_timeout"


class HeadersTooLarge(FrontdeskError):
    status = 431
    default_code = "headers_too_large"
