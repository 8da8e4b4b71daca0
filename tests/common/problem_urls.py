"""Views that raise each kind of error, to check how the API answers them."""

from django.contrib.auth import get_user_model
from django.core.exceptions import TooManyFieldsSent
from django.shortcuts import get_object_or_404
from django.urls import path
from rest_framework import serializers
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from apps.common.http.problems import Conflict, PreconditionFailed


class PriceSerializer(serializers.Serializer):
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = serializers.RegexField(r"^[A-Z]{3}$")


class Validate(APIView):
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]

    def post(self, request):
        serializer = PriceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class Private(APIView):
    def get(self, request):
        return Response({"ok": True})


class StaffOnly(APIView):
    permission_classes = [IsAdminUser]

    def get(self, request):
        return Response({"ok": True})


class Missing(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"id": get_object_or_404(get_user_model(), pk=0).pk})


class Raises(APIView):
    permission_classes = [AllowAny]
    errors = {"conflict": Conflict("Order 42 is already shipped."), "stale": PreconditionFailed(),
              "suspicious": TooManyFieldsSent("Too many fields: see settings.DATA_UPLOAD_MAX_NUMBER_FIELDS.")}

    def get(self, request, kind):
        if kind == "bug":
            raise RuntimeError("a bug")
        raise self.errors[kind]


class OnePerMinute(AnonRateThrottle):
    scope = "one"
    rate = "1/minute"

    def get_rate(self):
        return self.rate


class Throttled(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [OnePerMinute]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("api/v1/validate/", Validate.as_view()),
    path("api/v1/private/", Private.as_view()),
    path("api/v1/staff-only/", StaffOnly.as_view()),
    path("api/v1/missing/", Missing.as_view()),
    path("api/v1/raises/<str:kind>/", Raises.as_view()),
    path("api/v1/throttled/", Throttled.as_view()),
]
