"""One exception tree for the whole service, rendered as RFC 9457 problem+json.

    ServiceError (500)
    ├── BadRequest (400)
    │   └── InvalidInput (422)
    │   └── OverrideRequired (422)   approving text that fails a blocking criterion needs a reason
    ├── Unauthorized (401)          no API key, or an unknown or revoked one
    ├── Forbidden (403)             the key's role does not allow the action
    ├── NotFound (404)
    │   ├── DraftNotFound
    │   ├── KeyNotFound
    │   ├── IncidentNotFound
    │   └── AlertNotFound
    ├── Conflict (409)
    │   ├── ModelNotConfigured      the model judge was asked for, but no model is configured
    │   └── InvalidTransition       the draft's state does not allow the action
    ├── PreconditionFailed (412)    If-Match names a version that is no longer current
    ├── PayloadTooLarge (413)
    ├── PackInvalid (500)          a knowledge pack or prompt file failed validation
    ├── ConfigInvalid (500)        a setting names something that does not exist
    └── UpstreamError (502)
        ├── UpstreamUnavailable (503)
        │   ├── IndexUnavailable   the vector store cannot be reached
        │   └── StoreUnavailable   the draft store cannot be reached
        ├── UpstreamTimeout (504)
        └── ModelOutputInvalid (502)  the model answered, but not in the agreed shape

Adapters translate library errors into these classes. A failed tone check is not an error: it is a
verdict stored on the draft.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://tenang.dev/problems/"


class ServiceError(Exception):
    """Base of every error the service raises on purpose."""

    status = 500
    code = "internal-error"
    title = "Internal error"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class BadRequest(ServiceError):
    status, code, title = 400, "bad-request", "Bad request"


class InvalidInput(BadRequest):
    status, code, title = 422, "invalid-input", "Invalid input"


class OverrideRequired(InvalidInput):
    code, title = "override-required", "Override required"


class Unauthorized(ServiceError):
    status, code, title = 401, "unauthorized", "Unauthorized"


class Forbidden(ServiceError):
    status, code, title = 403, "forbidden", "Forbidden"


class Conflict(ServiceError):
    status, code, title = 409, "conflict", "Conflict"


class ModelNotConfigured(Conflict):
    code, title = "model-not-configured", "No model configured"


class InvalidTransition(Conflict):
    code, title = "invalid-transition", "Invalid transition"


class PreconditionFailed(ServiceError):
    status, code, title = 412, "precondition-failed", "Precondition failed"


class NotFound(ServiceError):
    status, code, title = 404, "not-found", "Not found"


class DraftNotFound(NotFound):
    code, title = "draft-not-found", "Draft not found"


class KeyNotFound(NotFound):
    code, title = "key-not-found", "API key not found"


class IncidentNotFound(NotFound):
    code, title = "incident-not-found", "Incident not found"


class AlertNotFound(NotFound):
    code, title = "alert-not-found", "Alert not found"


class PayloadTooLarge(ServiceError):
    status, code, title = 413, "payload-too-large", "Payload too large"


class PackInvalid(ServiceError):
    code, title = "pack-invalid", "Knowledge pack invalid"


class ConfigInvalid(ServiceError):
    code, title = "config-invalid", "Configuration invalid"


class UpstreamError(ServiceError):
    status, code, title = 502, "upstream-error", "Upstream error"


class UpstreamUnavailable(UpstreamError):
    status, code, title = 503, "upstream-unavailable", "Upstream unavailable"


class IndexUnavailable(UpstreamUnavailable):
    code, title = "index-unavailable", "Vector store unavailable"


class StoreUnavailable(UpstreamUnavailable):
    code, title = "store-unavailable", "Draft store unavailable"


class UpstreamTimeout(UpstreamError):
    status, code, title = 504, "upstream-timeout", "Upstream timeout"


class ModelOutputInvalid(UpstreamError):
    code, title = "model-output-invalid", "Model output invalid"


def problem(
    request: Request, *, status: int, code: str, title: str, detail: str, **extra: Any
) -> JSONResponse:
    body = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": getattr(request.state, "request_id", None),
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def _describe(err: dict[str, Any]) -> str:
    loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
    return f"{loc}: {err.get('msg')}" if loc else str(err.get("msg"))


def install_handlers(app: FastAPI) -> None:
    """Render every error as application/problem+json."""

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        if exc.status >= 500:
            log.warning("service error code=%s detail=%s", exc.code, exc.detail)
        return problem(
            request, status=exc.status, code=exc.code, title=exc.title, detail=exc.detail, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg"), "type": e.get("type")}
            for e in exc.errors()
        ]
        json_invalid = any(e["type"] == "json_invalid" for e in errors)
        detail = (
            "The request body is not valid JSON."
            if json_invalid
            else "; ".join(_describe(e) for e in exc.errors()[:5])
        )
        return problem(
            request,
            status=400 if json_invalid else 422,
            code="invalid-json" if json_invalid else "invalid-input",
            title="Invalid JSON" if json_invalid else "Invalid input",
            detail=detail,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "HTTP error")
        return problem(
            request,
            status=exc.status_code,
            code=title.lower().replace(" ", "-"),
            title=title,
            detail=str(exc.detail),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error request_id=%s", getattr(request.state, "request_id", None))
        return problem(
            request,
            status=500,
            code="internal-error",
            title="Internal error",
            detail="Something went wrong on our side; the request id identifies it in the logs.",
        )
