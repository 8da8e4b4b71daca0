from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from apps.common.conditional import if_match_version
from apps.common.idempotency import idempotency_key_parameter, idempotent
from apps.common.problems import problem_responses
from apps.common.routing import UUID_LOOKUP_REGEX
from apps.orders import selectors, services
from apps.orders.models import Order
from apps.orders.serializers import (
    CancelSerializer,
    NoteSerializer,
    OrderCreateSerializer,
    OrderDetailSerializer,
    OrderFilterSerializer,
    OrderSerializer,
    RefundSerializer,
)
from apps.payments.api import PaymentDeclined, PaymentProviderUnavailable

IDEMPOTENCY_HEADER = idempotency_key_parameter()
IF_MATCH_HEADER = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=False,
                                   description="The order's ETag; a stale one gets 412.")
ERRORS = problem_responses(400, 401, 402, 403, 404, 409, 412, 422, 429, 503)


def _expected_version(request) -> int | None:
    """If-Match: "<version>" (the ETag of the order's detail)."""
    return if_match_version(request.headers.get("If-Match"))


def _detail_response(order: Order, request, status_code=status.HTTP_200_OK) -> Response:
    order = selectors.order_get(user=request.user, order_id=order.pk)
    payment = selectors.order_payment(order=order)
    body = OrderDetailSerializer(order, context={"request": request, "payment": payment}).data
    return Response(body, status=status_code, headers={"ETag": f'"{order.version}"'})


@extend_schema(tags=["orders"])
class OrderViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = OrderSerializer
    ordering = "-created_at"
    lookup_value_regex = UUID_LOOKUP_REGEX

    def get_queryset(self):
        filters = OrderFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.order_list(user=self.request.user, **filters.validated_data).prefetch_related("lines")

    def _order(self, pk) -> Order:
        return selectors.order_get(user=self.request.user, order_id=pk)

    def _staff_only(self):
        # Checked after the lookup, so that another customer's order id answers 404 first.
        if not self.request.user.is_staff:
            raise PermissionDenied("Only staff can do this.")

    @extend_schema(parameters=[OrderFilterSerializer], responses={200: OrderSerializer(many=True), **ERRORS})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: OrderDetailSerializer, **ERRORS})
    def retrieve(self, request, pk=None):
        return _detail_response(self._order(pk), request)

    @extend_schema(request=OrderCreateSerializer, parameters=[IDEMPOTENCY_HEADER],
                   responses={201: OrderDetailSerializer, **ERRORS})
    @idempotent
    def create(self, request):
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            order = services.order_place(
                customer=request.user,
                lines=[services.LineRequest(sku=line["sku"], quantity=line["quantity"]) for line in data["lines"]],
                payment_token=data["payment_token"],
                email=data.get("email") or request.user.email,
                phone=data.get("phone", ""),
                idempotency_key=request.headers["Idempotency-Key"],
            )
        except (PaymentDeclined, PaymentProviderUnavailable) as exc:
            # The order exists (payment_failed): the problem links to it.
            if "order_id" in exc.extra:
                exc.extra["order_url"] = self.reverse_action("detail", args=[exc.extra["order_id"]])
            raise
        return _detail_response(order, request, status.HTTP_201_CREATED)

    @extend_schema(request=CancelSerializer, parameters=[IDEMPOTENCY_HEADER, IF_MATCH_HEADER],
                   responses={200: OrderDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, pk=None):
        order = self._order(pk)
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data.get("reason", "")
        order = services.order_cancel(order=order, actor=request.user, reason=reason,
                                      expected_version=_expected_version(request))
        return _detail_response(order, request)

    @extend_schema(request=None, parameters=[IDEMPOTENCY_HEADER, IF_MATCH_HEADER],
                   responses={200: OrderDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def ship(self, request, pk=None):
        order = self._order(pk)
        self._staff_only()
        order = services.order_ship(order=order, actor=request.user, expected_version=_expected_version(request))
        return _detail_response(order, request)

    @extend_schema(request=RefundSerializer, parameters=[IDEMPOTENCY_HEADER, IF_MATCH_HEADER],
                   responses={200: OrderDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def refund(self, request, pk=None):
        order = self._order(pk)
        self._staff_only()
        serializer = RefundSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = services.order_refund(
            order=order, actor=request.user, idempotency_key=request.headers["Idempotency-Key"],
            amount=data.get("amount"),
            lines=[services.LineRequest(sku=line["sku"], quantity=line["quantity"]) for line in data.get("lines", [])],
            expected_version=_expected_version(request),
        )
        return _detail_response(order, request)

    @extend_schema(request=NoteSerializer, responses={201: OrderDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        order = self._order(pk)
        self._staff_only()
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.order_note_add(order=order, actor=request.user, message=serializer.validated_data["message"])
        return _detail_response(order, request, status.HTTP_201_CREATED)


