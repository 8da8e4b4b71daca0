"""Reference endpoints measured against the real ones on the same stack (gunicorn, Django,
middleware, database pool): each does the least work its scenario could possibly do."""

import json

from django.apps import apps
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from bench.models import BenchRow


def hello(request):
    return HttpResponse(b'{"hello":"world"}', content_type="application/json")


@csrf_exempt
def insert(request):
    with transaction.atomic():
        row = BenchRow.objects.create(payload=json.loads(request.body or b"{}"))
    return JsonResponse({"id": row.pk}, status=201)


def _products():
    return apps.get_model("catalog", "Product").objects


def product_values(request, sku):
    row = _products().filter(pk=sku).values().first()
    return JsonResponse(row or {}, status=200 if row else 404, json_dumps_params={"default": str})


def product_list_values(request):
    rows = list(_products().order_by("pk").values()[:50])
    return JsonResponse({"results": rows}, json_dumps_params={"default": str})
