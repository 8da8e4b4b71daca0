"""A state-changing endpoint guarded by Idempotency-Key: each execution creates one Group."""

import threading

from django.contrib.auth.models import Group
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.http.idempotency import idempotent

gate = threading.Event()  # when cleared, the view waits for it: a request "in flight"
executions = {"count": 0}


class CreateGroup(APIView):
    permission_classes = [AllowAny]

    @idempotent
    def post(self, request):
        executions["count"] += 1
        gate.wait(timeout=30)
        if request.data.get("explode"):
            raise RuntimeError("provider exploded")
        group = Group.objects.create(name=f"{request.data['name']}-{executions['count']}")
        return Response({"id": group.pk, "name": group.name}, status=201, headers={"Location": f"/groups/{group.pk}"})


urlpatterns = [path("api/v1/groups/", CreateGroup.as_view())]
