"""RFC 9457 problem details: every error the API returns is application/problem+json with a
stable `code` and a `type` URI under /problems/ that documents it."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, JsonResponse
from django.views import defaults
from django.views.decorators.http import require_GET
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

# code -> (HTTP status, title). The codes are part of the API contract: never rename one.
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "validation_error": (400, "The request body or parameters are invalid."),
    "malformed_request": (400, "The request body could not be parsed."),
    "bad_request": (400, "The request cannot be processed."),
    "not_authenticated": (401, "Authentication credentials were not provided."),
    "authentication_failed": (401, "The authentication credentials are invalid."),
    "permission_denied": (403, "You do not have permission to perform this action."),
    "not_found": (404, "The resource does not exist."),
    "method_not_allowed": (405, "The method is not allowed on this resource."),
    "not_acceptable": (406, "No representation matches the Accept header."),
    "conflict": (409, "The request conflicts with the current state of the resource."),
    "precondition_failed": (412, "The resource changed since the version you sent."),
    "unsupported_media_type": (415, "The request body media type is not supported."),
    "unprocessable": (422, "The request is well-formed but cannot be processed."),
    "precondition_required": (428, "This request must be conditional (send If-Match)."),
    "throttled": (429, "Too many requests."),
    "internal_error": (500, "An unexpected error occurred."),
    "service_unavailable": (503, "The service is temporarily unavailable."),
}

_DRF_CODES = {
    exceptions.ValidationError: "validation_error",
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


class ApplicationError(Exception):
    """A typed error raised by services; the API answers it as a problem with this code.

    A subclass that declares a new `code` with its `status` and `title` registers it, so that
    its /problems/<code> page resolves:

        class OutOfStock(ApplicationError):
            code, status, title = "out_of_stock", 409, "Not enough stock for some lines."
    """

    code = "bad_request"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        status, title = cls.__dict__.get("status"), cls.__dict__.get("title")
        if status is not None and title is not None:
            registered = PROBLEM_TYPES.setdefault(cls.code, (status, title))
            if registered != (status, title):
                raise TypeError(f"problem code {cls.code!r} is already registered as {registered}")

    def __init__(self, detail: str | None = None, *, extra: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None):
        self.status = PROBLEM_TYPES[self.code][0]
        self.detail = detail or PROBLEM_TYPES[self.code][1]
        self.extra = extra or {}
        self.headers = headers or {}
        super().__init__(self.detail)


class NotFound(ApplicationError):
    code = "not_found"


class Conflict(ApplicationError):
    code = "conflict"


class PreconditionFailed(ApplicationError):
    code = "precondition_failed"


class PreconditionRequired(ApplicationError):
    code = "precondition_required"


class Unprocessable(ApplicationError):
    code = "unprocessable"


class ServiceUnavailable(ApplicationError):
    code = "service_unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 5, **kwargs):
        super().__init__(detail, **kwargs)
        self.headers.setdefault("Retry-After", str(retry_after))


def problem_body(code: str, *, detail: str | None = None, instance: str | None = None,
                 status_code: int | None = None, **extra: Any) -> dict[str, Any]:
    default_status, title = PROBLEM_TYPES.get(code, (status_code or 400, code.replace("_", " ")))
    body = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status_code or default_status,
        "detail": detail or title,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def flatten_errors(details: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested error details -> [{"field": "lines.0.sku", "code": ..., "message": ...}]."""
    if isinstance(details, dict) and "message" in details and "code" in details:
        field = prefix or "non_field_errors"
        return [{"field": field, "code": str(details["code"]), "message": str(details["message"])}]
    if isinstance(details, dict):
        out = []
        for key, value in details.items():
            if key in ("non_field_errors", "detail"):
                # An error of the object (or list) itself belongs to its own field name.
                out.extend(flatten_errors(value, prefix or "non_field_errors"))
            else:
                out.extend(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(details, list):
        out = []
        for index, value in enumerate(details):
            is_leaf = isinstance(value, dict) and "message" in value
            out.extend(flatten_errors(value, prefix if is_leaf else f"{prefix}.{index}" if prefix else str(index)))
        return out
    return [{"field": prefix or "non_field_errors", "code": "invalid", "message": str(details)}]


def _problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    request = context.get("request")
    instance = request.path if request is not None else None
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, SuspiciousOperation):
        # A request Django refuses to parse (too many fields, a body over the limit, ...): the
        # client's fault, a 400 as Django itself answers outside DRF, never a 500.
        logger.warning("Suspicious request on %s: %s", instance, exc)
        exc = exceptions.ParseError()

    if isinstance(exc, ApplicationError):
        set_rollback()
        body = problem_body(exc.code, detail=exc.detail, instance=instance, **exc.extra)
        return _problem_response(body, exc.headers)

    if isinstance(exc, exceptions.APIException):
        set_rollback()
        code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), None)
        code = code or str(exc.default_code)
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        if isinstance(exc, exceptions.ValidationError):
            body = problem_body(code, instance=instance, status_code=exc.status_code,
                                errors=flatten_errors(exc.get_full_details()))
        else:
            body = problem_body(code, detail=str(exc.detail), instance=instance, status_code=exc.status_code)
        return _problem_response(body, headers)

    # Anything else is a bug: log it with the traceback, answer a problem, never an HTML page.
    set_rollback()
    logger.exception("Unhandled error on %s", instance)
    return _problem_response(problem_body("internal_error", instance=instance,
                                          status_code=status.HTTP_500_INTERNAL_SERVER_ERROR))


def _wants_problem(request) -> bool:
    return request.path.startswith("/api/") or "json" in request.headers.get("Accept", "")


def _django_problem(request, code: str) -> JsonResponse:
    body = problem_body(code, instance=request.path)
    return JsonResponse(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE)


def bad_request(request, exception=None):
    if _wants_problem(request):
        return _django_problem(request, "bad_request")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _wants_problem(request):
        return _django_problem(request, "permission_denied")
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if _wants_problem(request):
        return _django_problem(request, "not_found")
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _wants_problem(request):
        return _django_problem(request, "internal_error")
    return defaults.server_error(request)


class ProblemFieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, for the OpenAPI schema."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    instance = serializers.CharField(required=False)
    errors = ProblemFieldErrorSerializer(many=True, required=False)


def problem_responses(*statuses: int) -> dict[tuple[int, str], type[ProblemSerializer]]:
    """drf-spectacular `responses` entries for error statuses: each answers application/problem+json
    (not the application/json drf-spectacular assumes), with the ProblemSerializer body."""
    return {(status_code, PROBLEM_CONTENT_TYPE): ProblemSerializer for status_code in statuses}


@require_GET
def problem_type(request, code: str):
    """Documents a problem `type` URI, so that every `type` the API returns resolves."""
    if code not in PROBLEM_TYPES:
        raise Http404(code)
    status, title = PROBLEM_TYPES[code]
    return JsonResponse({"type": f"/problems/{code}", "code": code, "status": status, "title": title})
