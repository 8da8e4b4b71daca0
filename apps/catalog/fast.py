"""Anonymous, cached product reads answered before DRF's dispatch.

A GET or HEAD of the product list or of a product's detail that carries no credentials (no
Authorization header, no session cookie) and asks for JSON is looked up in the cache; a hit is
counted against the client's anon rate in the same Redis round trip (apps.catalog.cache) and
sent as the cache holds it, rendered. Everything else goes to the DRF view, which answers it
exactly as before: a miss (it rebuilds the entry), a cached 404, the cache off or down, a query
parameter not handled here, another method or media type, any credentials (staff see inactive
products; bad credentials get DRF's 401). What is sent here is what DRF sends: the same
status, body and headers, the same 429 from the same counter; no 304 (DRF sends none).

The fast views take the place of the router's views on the same routes (same URL pattern, name
and view attributes), so URL names, the metrics' route label and the OpenAPI schema are those of
the DRF views."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.renderers import JSONRenderer

from apps.catalog.cache import CountedHit, product_detail_hit, product_list_hit
from apps.catalog.serializers import ProductFilterSerializer
from apps.catalog.views import ProductPagination, list_filters, list_page_parts
from apps.common.http.problems import problem_exception_handler
from apps.common.http.throttling import AnonThrottle, Window

# Accept values DRF's negotiation answers with its JSONRenderer and a plain application/json
# (no parameters such as indent=, which change the body); anything else is negotiated by DRF.
JSON_MEDIA_RANGES = frozenset({"*/*", "application/*", "application/json"})
# Query parameters the list's fast path understands: the filters and the page (list_filters
# validates them as the DRF view does); others (`format` picks a renderer) go to DRF.
LIST_PARAMETERS = frozenset({*ProductFilterSerializer().fields, ProductPagination.cursor_query_param,
                             ProductPagination.page_size_query_param})

Lookup = Callable[[HttpRequest, dict, Window | None], CountedHit | None]


def _carries_credentials(request: HttpRequest) -> bool:
    """Anything DRF's authentication could take: an Authorization header, a session cookie, or
    the user or token DRF's test client signs a request in with (force_authenticate)."""
    return ("HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME in request.COOKIES
            or getattr(request, "_force_auth_user", None) is not None
            or getattr(request, "_force_auth_token", None) is not None)


def _anonymous_json_read(request: HttpRequest) -> bool:
    accept = request.META.get("HTTP_ACCEPT")
    return (request.method in ("GET", "HEAD")
            and not _carries_credentials(request)
            and (accept is None or all(part.strip() in JSON_MEDIA_RANGES for part in accept.split(","))))


def _counter(window: Window | None) -> dict:
    """The cache's arguments to count this request in `window` (none: no rate applies)."""
    if window is None:
        return {}
    return {"counter_key": window.key, "counter_timeout": window.timeout}


def _detail_hit(request: HttpRequest, kwargs: dict, window: Window | None) -> CountedHit | None:
    if request.META.get("QUERY_STRING"):
        return None
    return product_detail_hit(sku=kwargs["sku"], **_counter(window))


def _list_hit(request: HttpRequest, kwargs: dict, window: Window | None) -> CountedHit | None:
    params = request.GET if request.META.get("QUERY_STRING") else {}  # the first page's, parsed only if any
    if not LIST_PARAMETERS.issuperset(params):
        return None
    try:
        filters = list_filters(params)
    except ValidationError:
        return None  # DRF's view answers the 400
    return product_list_hit(parts=list_page_parts(request, filters=filters, staff=False), **_counter(window))


def _drf_headers(drf_view) -> dict[str, str]:
    """The headers DRF's view adds to every response of its own (Allow, Vary: Accept), computed
    by DRF from the viewset bound to its actions, as the view binds them per request."""
    viewset = drf_view.cls(**drf_view.initkwargs)
    for method, action in {"head": drf_view.actions["get"], **drf_view.actions}.items():
        setattr(viewset, method, getattr(viewset, action))
    return viewset.default_response_headers


def _throttled(request: HttpRequest, throttle: AnonThrottle, headers: dict[str, str]) -> HttpResponse:
    """The 429 DRF answers when this throttle refuses a request (its exception, its handler)."""
    problem = problem_exception_handler(Throttled(throttle.wait()), {"request": request})
    return HttpResponse(JSONRenderer().render(problem.data), status=problem.status_code,
                        content_type=problem.content_type, headers={**headers, "Retry-After": problem["Retry-After"]})


def served_from_cache(drf_view, lookup: Lookup):
    """`drf_view`, answering first the anonymous JSON reads that `lookup` finds in the cache."""
    headers = _drf_headers(drf_view)

    @functools.wraps(drf_view)  # keeps cls, actions, initkwargs, csrf_exempt: the schema and DRF see their view
    def view(request: HttpRequest, *args, **kwargs):
        if not _anonymous_json_read(request):
            return drf_view(request, *args, **kwargs)
        # The throttle's key looks at request.user, hence at the session: SessionMiddleware adds
        # Vary: Cookie, as to DRF's answers (SessionAuthentication looks at it too).
        throttle = AnonThrottle()
        window = throttle.window(request, None)
        hit = lookup(request, kwargs, window)
        if hit is None:
            return drf_view(request, *args, **kwargs)  # nothing was counted: DRF's throttle counts it
        if window is not None and not throttle.admit(window, hit.count):
            return _throttled(request, throttle, headers)
        etag = {"ETag": hit.read.etag} if hit.read.etag else {}
        return HttpResponse(hit.read.body, content_type="application/json", headers={**etag, **headers})

    return view


FAST_READS: dict[str, Lookup] = {"product-list": _list_hit, "product-detail": _detail_hit}


def with_fast_reads(route: URLPattern) -> URLPattern:
    """The router's `route`, its view answering cached anonymous reads first if it is the list or the detail."""
    lookup = FAST_READS.get(route.name)
    if lookup is None:
        return route
    return URLPattern(route.pattern, served_from_cache(route.callback, lookup), route.default_args, route.name)
