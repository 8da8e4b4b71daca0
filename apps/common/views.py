from django.http import Http404, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.common.health import readiness
from apps.common.problems import PROBLEM_TYPES


@never_cache
@require_GET
def healthz(request):
    """Liveness: the process answers. Touches no backing service."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """Readiness: every database alias, the cache and the broker answer."""
    checks = readiness()
    down = sorted(name for name, problem in checks.items() if problem)
    body = {
        "status": "unavailable" if down else "ready",
        "down": down,
        "checks": {name: {"ok": problem is None, **({"error": problem} if problem else {})}
                   for name, problem in checks.items()},
    }
    return JsonResponse(body, status=503 if down else 200)


@require_GET
def problem_type(request, code: str):
    """Documents a problem `type` URI, so that every `type` the API returns resolves."""
    if code not in PROBLEM_TYPES:
        raise Http404(code)
    status, title = PROBLEM_TYPES[code]
    return JsonResponse({"type": f"/problems/{code}", "code": code, "status": status, "title": title})
