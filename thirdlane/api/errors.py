"""One error type for the domain, one handler for everything.

Services raise ``DomainError`` (or a subclass) with a stable ``code``. The DRF exception handler
turns any exception, ours, DRF's or Django's, into RFC 9457 problem+json:

    {"type": ".../errors/<code>", "title": ..., "status": 409, "detail": ..., "code": "in_use",
     "errors": {"field": [{"code": ..., "message": ...}]}, "request_id": ...}

Every code is registered here (``register_error_code``) so docs/api.md and the OpenAPI enum are
generated from the same list. Apps register their own codes at import time.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from thirdlane.context import current_request_id

logger = logging.getLogger("thirdlane.api")

PROBLEM_CONTENT_TYPE = "application/problem+json"
ERROR_TYPE_BASE = "https://docs.thirdlane.example/errors/"


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    title: str


ERROR_CODES: dict[str, ErrorCode] = {}


def register_error_code(code: str, status: int, title: str) -> str:
    existing = ERROR_CODES.get(code)
    if existing and (existing.status, existing.title) != (status, title):
        raise ValueError(f"error code {code!r} registered twice with different meanings")
    ERROR_CODES[code] = ErrorCode(code, status, title)
    return code


for _code, _status, _title in [
    ("validation_error", 400, "The request has invalid fields."),
    ("malformed_json", 400, "The request body is not valid JSON."),
    ("invalid_pagination", 400, "limit or offset is not a non-negative integer in range."),
    ("unknown_filter", 400, "A query parameter is not a filter of this resource."),
    ("invalid_filter", 400, "A filter value is not valid."),
    ("invalid_ordering", 400, "The ordering names a field that cannot be ordered by."),
    ("bad_request", 400, "The request cannot be processed."),
    ("not_authenticated", 401, "Credentials are required."),
    ("invalid_api_key", 401, "The API key is malformed or unknown."),
    ("api_key_expired", 401, "The API key has expired."),
    ("api_key_revoked", 401, "The API key has been revoked."),
    ("invalid_credentials", 401, "The user name or password is wrong."),
    ("permission_denied", 403, "The credential may not do this."),
    ("read_only_credential", 403, "The credential is read-only."),
    ("csrf_failed", 403, "The CSRF token is missing or wrong."),
    ("tenant_suspended", 403, "The tenant is suspended."),
    ("not_found", 404, "No such object."),
    ("tenant_not_found", 404, "No such tenant."),
    ("method_not_allowed", 405, "The method is not allowed on this resource."),
    ("not_acceptable", 406, "The requested representation cannot be produced."),
    ("conflict", 409, "The request conflicts with the current state."),
    ("in_use", 409, "The object is still in use."),
    ("duplicate", 409, "An object with this identity already exists."),
    ("payload_too_large", 413, "The request body is too large."),
    ("unsupported_media_type", 415, "The request content type is not supported."),
    ("limit_exceeded", 422, "A limit of the tenant would be exceeded."),
    ("rate_limited", 429, "Too many requests."),
    ("internal_error", 500, "Unexpected server error."),
    ("service_unavailable", 503, "A backing service is unavailable."),
]:
    register_error_code(_code, _status, _title)


class DomainError(Exception):
    """A failure a client can act on. ``errors`` maps field names to messages."""

    code = "bad_request"
    status: int | None = None

    def __init__(self, detail: str = "", *, code: str | None = None, field: str | None = None,
                 errors: dict | None = None, status: int | None = None, extra: dict | None = None):
        self.code = code or self.code
        if self.code not in ERROR_CODES:
            raise ValueError(f"unregistered error code {self.code!r}")
        self.status = status or self.status or ERROR_CODES[self.code].status
        self.detail = detail or ERROR_CODES[self.code].title
        self.errors = errors or ({field: [{"code": self.code, "message": self.detail}]} if field else None)
        self.extra = extra or {}
        super().__init__(self.detail)


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class InUse(DomainError):
    code = "in_use"


class Invalid(DomainError):
    code = "validation_error"


def problem(code: str, detail: str | None = None, *, status: int | None = None,
            errors: dict | None = None, **extra) -> dict:
    info = ERROR_CODES.get(code) or ERROR_CODES["bad_request"]
    body = {
        "type": ERROR_TYPE_BASE + code,
        "title": info.title,
        "status": status or info.status,
        "detail": detail or info.title,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    body["request_id"] = current_request_id()
    return body


def problem_response(code: str, detail: str | None = None, *, status: int | None = None,
                     errors: dict | None = None, headers: dict | None = None, **extra) -> JsonResponse:
    """A plain Django response, for middleware and views outside DRF."""
    body = problem(code, detail, status=status, errors=errors, **extra)
    response = JsonResponse(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def _field_errors(detail) -> dict:
    """Flatten DRF's nested ErrorDetail structures into {field: [{code, message}]}."""
    out: dict[str, list] = {}

    def walk(prefix: str, value):
        if isinstance(value, dict):
            for key, sub in value.items():
                # ListSerializer errors are keyed by the row index: name them like lists, rows[3].field
                if isinstance(key, int):
                    walk(f"{prefix}[{key}]" if prefix else f"[{key}]", sub)
                else:
                    walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list):
            if value and all(isinstance(v, (str, drf.ErrorDetail)) for v in value):
                for v in value:
                    out.setdefault(prefix or "non_field_errors", []).append(
                        {"code": getattr(v, "code", "invalid") or "invalid", "message": str(v)})
            else:
                for index, sub in enumerate(value):
                    if sub:
                        walk(f"{prefix}[{index}]" if prefix else f"[{index}]", sub)
        elif value is not None:
            out.setdefault(prefix or "non_field_errors", []).append(
                {"code": getattr(value, "code", "invalid") or "invalid", "message": str(value)})

    walk("", detail)
    return out


_AUTH_CODES = {"invalid_api_key", "api_key_expired", "api_key_revoked", "invalid_credentials", "not_authenticated"}


def _translate(exc) -> tuple[str, str | None, dict | None, int | None]:
    """Map an exception to (code, detail, errors, status)."""
    if isinstance(exc, DomainError):
        return exc.code, exc.detail, exc.errors, exc.status
    if isinstance(exc, drf.ValidationError):
        errors = _field_errors(exc.detail)
        first = next(iter(errors.values()), [{}])[0].get("message")
        fields = ", ".join(sorted(errors))
        return "validation_error", f"Invalid fields: {fields}." if fields else first, errors, 400
    if isinstance(exc, drf.ParseError):
        return "malformed_json", str(exc.detail), None, 400
    if isinstance(exc, drf.UnsupportedMediaType):
        return "unsupported_media_type", str(exc.detail), None, 415
    if isinstance(exc, drf.NotAuthenticated):
        return "not_authenticated", str(exc.detail), None, 401
    if isinstance(exc, drf.AuthenticationFailed):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "invalid_credentials"
        return (code if code in _AUTH_CODES else "invalid_credentials"), str(exc.detail), None, 401
    if isinstance(exc, drf.PermissionDenied):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "permission_denied"
        if code not in ERROR_CODES:
            code = "permission_denied"
        detail = str(exc.detail)
        if "CSRF" in detail:
            code = "csrf_failed"
        return code, detail, None, 403
    if isinstance(exc, (drf.NotFound, Http404)):
        return "not_found", "No such object.", None, 404
    if isinstance(exc, drf.MethodNotAllowed):
        return "method_not_allowed", str(exc.detail), None, 405
    if isinstance(exc, drf.NotAcceptable):
        return "not_acceptable", str(exc.detail), None, 406
    if isinstance(exc, drf.Throttled):
        return "rate_limited", str(exc.detail), None, 429
    if isinstance(exc, RequestDataTooBig):
        return "payload_too_large", "The request body is too large.", None, 413
    if isinstance(exc, DjangoPermissionDenied):
        return "permission_denied", str(exc) or None, None, 403
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            errors = {f: [{"code": e.code or "invalid", "message": " ".join(e.messages)} for e in errs]
                      for f, errs in exc.error_dict.items()}
        else:
            errors = {"non_field_errors": [{"code": e.code or "invalid", "message": " ".join(e.messages)}
                                           for e in exc.error_list]}
        return "validation_error", "Invalid fields: " + ", ".join(sorted(errors)) + ".", errors, 400
    if isinstance(exc, drf.APIException):
        return "bad_request", str(exc.detail), None, exc.status_code
    return "internal_error", None, None, 500


def exception_handler(exc, context):
    code, detail, errors, status = _translate(exc)
    extra = exc.extra if isinstance(exc, DomainError) else {}
    if status >= 500 and not isinstance(exc, DomainError):  # a DomainError's detail is meant for the client
        logger.exception("unhandled error in API view", exc_info=exc)
        detail = "Unexpected server error. Quote the request id when reporting it."
    body = problem(code, detail, status=status, errors=errors, **extra)
    headers = {}
    if isinstance(exc, drf.APIException):
        for header in ("WWW-Authenticate", "Retry-After"):
            auth = getattr(exc, "auth_header", None)
            if header == "WWW-Authenticate" and auth:
                headers[header] = auth
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
    if status == 401 and "WWW-Authenticate" not in headers:
        headers["WWW-Authenticate"] = 'Basic realm="api", X-API-Key'
    response = Response(body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    # Problem bodies are rendered as JSON whatever the negotiated renderer would have been.
    from rest_framework.renderers import JSONRenderer

    response.accepted_renderer = JSONRenderer()
    response.accepted_media_type = PROBLEM_CONTENT_TYPE
    response.renderer_context = context
    return response
