from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.common.http.idempotency import HEADER as IDEMPOTENCY_KEY_HEADER
from apps.common.http.idempotency import idempotency_key_parameter, idempotent
from apps.common.http.openapi import etag_header
from apps.common.http.pagination import CursorPagination
from apps.common.http.permissions import HasStaffPermission
from apps.common.http.problems import NotFound, problem_responses
from apps.common.http.routing import UUID_LOOKUP_REGEX
from apps.payments import selectors
from apps.payments.models import Payment
from apps.payments.providers import UnknownProvider
from apps.payments.serializers import (
    AmountSerializer,
    PaymentDetailSerializer,
    PaymentFilterSerializer,
    PaymentSerializer,
)
from apps.payments.services.operations import payment_capture, payment_refund, payment_void
from apps.payments.services.webhooks import webhook_receive
from apps.payments.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER

IDEMPOTENCY_PARAMETER = idempotency_key_parameter()
ETAG = etag_header("payment", 200, if_match=False)
ERRORS = problem_responses(400, 401, 402, 403, 404, 409, 422, 429, 503)


class PaymentPagination(CursorPagination):
    ordering = ("-created_at", "-id")


def _detail(payment: Payment) -> Response:
    payment = selectors.payment_get(payment_id=payment.pk)
    return Response(PaymentDetailSerializer(payment, context={"currency": payment.currency}).data,
                    headers={"ETag": f'"{payment.version}"'})


@extend_schema(tags=["payments"])
class PaymentViewSet(viewsets.GenericViewSet):
    """Staff: payments with their transaction log; capture, void and refund."""

    permission_classes = [HasStaffPermission]
    staff_permissions = {
        "list": "payments.view_payment",
        "retrieve": "payments.view_payment",
        "capture": "payments.capture_payment",
        "void": "payments.void_payment",
        "refund": "payments.refund_payment",
    }
    serializer_class = PaymentSerializer
    pagination_class = PaymentPagination
    lookup_value_regex = UUID_LOOKUP_REGEX

    def get_queryset(self):
        filters = PaymentFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.payment_list(**filters.validated_data)

    def _service_key(self, payment: Payment, operation: str) -> str:
        # The HTTP key is the caller's; the payment operation's key must be unique across callers.
        return f"staff:{payment.pk}:{operation}:{self.request.user.pk}:{self.request.headers[IDEMPOTENCY_KEY_HEADER]}"

    def _amount(self, payment: Payment, limit):
        serializer = AmountSerializer(data=self.request.data, context={"currency": payment.currency, "limit": limit})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data.get("amount")

    @extend_schema(parameters=[PaymentFilterSerializer], responses={200: PaymentSerializer(many=True), **ERRORS})
    def list(self, request):
        """Staff: payments, newest first, filtered by the query parameters."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(PaymentSerializer(page, many=True).data)

    @extend_schema(parameters=[ETAG], responses={200: PaymentDetailSerializer, **ERRORS})
    def retrieve(self, request, pk=None):
        """Staff: one payment with its transaction log (every call to the provider) and refunds."""
        return _detail(selectors.payment_get(payment_id=pk))

    @extend_schema(request=AmountSerializer, parameters=[IDEMPOTENCY_PARAMETER, ETAG],
                   responses={200: PaymentDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def capture(self, request, pk=None):
        """Staff: capture an authorized payment, all that remains or `amount`. A declined capture is
        402; a provider without an answer is 503 with Retry-After (reconciliation learns the outcome)."""
        payment = selectors.payment_get(payment_id=pk)
        amount = self._amount(payment, selectors.payment_capturable(payment=payment))
        payment_capture(payment_id=payment.pk, amount=amount,
                        idempotency_key=self._service_key(payment, "capture"))
        return _detail(payment)

    @extend_schema(request=None, parameters=[IDEMPOTENCY_PARAMETER, ETAG],
                   responses={200: PaymentDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def void(self, request, pk=None):
        """Staff: release an authorization that was not captured (409 once captured: refund it)."""
        payment = selectors.payment_get(payment_id=pk)
        payment_void(payment_id=payment.pk, idempotency_key=self._service_key(payment, "void"))
        return _detail(payment)

    @extend_schema(request=AmountSerializer, parameters=[IDEMPOTENCY_PARAMETER, ETAG],
                   responses={200: PaymentDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def refund(self, request, pk=None):
        """Staff: refund captured money, all that remains or `amount`, straight at the provider.
        Refunding an order's lines goes through POST /orders/{id}/refund/ instead."""
        payment = selectors.payment_get(payment_id=pk)
        amount = self._amount(payment, selectors.payment_refundable(payment=payment))
        payment_refund(payment_id=payment.pk, amount=amount,
                       idempotency_key=self._service_key(payment, "refund"))
        return _detail(payment)


class WebhookEventSerializer(serializers.Serializer):
    """The body processors send (see apps.payments.providers.base.PaymentProvider.webhook_notice)."""

    id = serializers.CharField()
    type = serializers.CharField(required=False)
    data = inline_serializer("WebhookEventData", fields={
        "idempotency_key": serializers.CharField(),
        "status": serializers.ChoiceField(choices=["approved", "declined", "failed"]),
        "reference": serializers.CharField(required=False),
        "decline_code": serializers.CharField(required=False),
        "message": serializers.CharField(required=False),
    })


class WebhookAckSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    result = serializers.CharField()
    duplicate = serializers.BooleanField()


@extend_schema(tags=["payments"])
class WebhookView(APIView):
    """Processor webhooks, authenticated by their signature, not by a user."""

    permission_classes = [AllowAny]
    authentication_classes = []  # no session: no CSRF; the HMAC signature is the authentication
    throttle_classes = []  # processors send bursts; a bad signature costs one HMAC

    @extend_schema(
        request=WebhookEventSerializer, auth=[],
        parameters=[
            OpenApiParameter(TIMESTAMP_HEADER, str, OpenApiParameter.HEADER, required=True,
                             description="Unix time (seconds) when the processor signed the request."),
            OpenApiParameter(SIGNATURE_HEADER, str, OpenApiParameter.HEADER, required=True,
                             description='"v1=" + hex HMAC-SHA256 of "<timestamp>.<body>" with the provider secret.'),
        ],
        responses={200: WebhookAckSerializer, **problem_responses(400, 404, 409)})
    def post(self, request, provider: str):
        """Processor webhooks: the outcome of an operation whose answer was lost or late, signed with
        the provider's secret (PAYMENTS_<PROVIDER>_WEBHOOK_SECRET). A repeated event id is
        acknowledged again (`duplicate: true`) and applied once; a bad signature or a timestamp out of
        tolerance is 400, an unknown provider 404."""
        body = request.body  # the exact bytes that were signed
        try:
            event, first = webhook_receive(
                provider_name=provider, body=body, timestamp=request.headers.get(TIMESTAMP_HEADER),
                signature=request.headers.get(SIGNATURE_HEADER))
        except UnknownProvider as exc:
            raise NotFound("No such payment provider.") from exc
        return Response({"event_id": event.event_id, "result": event.result, "duplicate": not first},
                        status=status.HTTP_200_OK)
