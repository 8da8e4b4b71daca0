from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.common.http.conditional import if_match_version
from apps.common.http.idempotency import idempotency_key_parameter, idempotent
from apps.common.http.openapi import etag_header
from apps.common.http.permissions import permission_require
from apps.common.http.problems import problem_responses
from apps.common.http.routing import UUID_LOOKUP_REGEX
from apps.orders import selectors
from apps.orders.models import Order
from apps.orders.serializers import (
    CancelSerializer,
    NoteSerializer,
    OrderCreateSerializer,
    OrderDetailSerializer,
    OrderFilterSerializer,
    OrderSerializer,
    RefundSerializer,
    order_detail_data,
)
from apps.orders.services.lifecycle import order_cancel, order_note_add, order_refund, order_ship
from apps.orders.services.placement import order_place
from apps.orders.types import LineRequest
from apps.payments.api import PaymentDeclined, PaymentProviderUnavailable

IDEMPOTENCY_HEADER = idempotency_key_parameter()
IF_MATCH_HEADER = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=False,
                                   description="The order's ETag; a stale one gets 412.")
ETAG = etag_header("order", 200)
ETAG_CREATED = etag_header("order", 201)
# bandit B105: the sandbox's public test tokens, not secrets
APPROVED_TOKEN, DECLINED_TOKEN = "tok_approved", "tok_declined"  # nosec B105
PLACEMENT_EXAMPLES = [
    OpenApiExample("Approved payment", request_only=True,
                   value={"lines": [{"sku": "MUG-1", "quantity": 2}], "payment_token": APPROVED_TOKEN}),
    OpenApiExample("Declined payment (402)", request_only=True,
                   value={"lines": [{"sku": "MUG-1", "quantity": 1}], "payment_token": DECLINED_TOKEN}),
]
ERRORS = problem_responses(400, 401, 402, 403, 404, 409, 412, 422, 429, 503)


def _expected_version(request) -> int | None:
    """If-Match: "<version>" (the ETag of the order's detail)."""
    return if_match_version(request.headers.get("If-Match"))


def _detail_response(order: Order, request, status_code=status.HTTP_200_OK) -> Response:
    """The order as it stands now, read afresh."""
    order = selectors.order_get(user=request.user, order_id=order.pk)
    return _order_response(order, request, status_code, lines=order.lines.all(), timeline=order.timeline.all(),
                           payment=selectors.order_payment(order=order))


def _order_response(order: Order, request, status_code, *, lines, timeline, payment) -> Response:
    body = order_detail_data(order, lines=lines, timeline=timeline, payment=payment)
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

    @extend_schema(parameters=[OrderFilterSerializer], responses={200: OrderSerializer(many=True), **ERRORS})
    def list(self, request, *args, **kwargs):
        """The caller's orders, newest first; staff with orders.view_order see every customer's.
        Filter by `status`."""
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[ETAG], responses={200: OrderDetailSerializer, **ERRORS})
    def retrieve(self, request, pk=None):
        """One order with its lines, payment and timeline. Its ETag is what If-Match takes."""
        return _detail_response(self._order(pk), request)

    @extend_schema(request=OrderCreateSerializer, parameters=[IDEMPOTENCY_HEADER, ETAG_CREATED],
                   examples=PLACEMENT_EXAMPLES, responses={201: OrderDetailSerializer, **ERRORS})
    @idempotent
    def create(self, request):
        """Place an order server to server: price the lines, hold the stock, authorize the payment, confirm.

        For integrations that order without a cart (a marketplace, a point of sale, a back
        office): nothing is shipped, so the order has no addresses and no shipping method, and
        its total is its subtotal. A storefront completes a cart instead
        (`POST /api/v1/carts/{id}/complete/`), which records the addresses, the shipping method
        and price and the totals breakdown.

        A retry with the same Idempotency-Key gets the first answer (`Idempotent-Replayed: true`),
        never a second order. Unknown or inactive SKUs are 422, missing stock is 409; a declined
        payment is 402 and a processor that cannot answer is 503 with Retry-After, both naming the
        order (`order_id`, `order_number`), which ends `payment_failed` with its stock released.

        With the sandbox payment adapter (`PAYMENTS_PROVIDERS=card=sandbox`, the default),
        `payment_token` chooses the outcome:

        | `payment_token` | answer |
        |---|---|
        | `tok_approved` | 201, order `confirmed` |
        | `tok_declined` | 402, decline code `card_declined` |
        | `tok_insufficient_funds` | 402, decline code `insufficient_funds` |
        | `tok_processing_error` | 503, failure code `processing_error` |
        | `tok_timeout` | 503, outcome unknown: approved, but the answer was lost (reconciliation voids it) |
        | `tok_timeout_lost` | 503, outcome unknown: the request never reached the processor |
        | anything else | 402, decline code `invalid_token` |
        """
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            placement = order_place(
                customer=request.user,
                lines=[LineRequest(sku=line["sku"], quantity=line["quantity"]) for line in data["lines"]],
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
        # From what placement wrote and learned: reading the order back would cost as much again.
        return _order_response(placement.order, request, status.HTTP_201_CREATED, lines=placement.lines,
                               timeline=placement.timeline, payment=placement.payment)

    @extend_schema(request=CancelSerializer, parameters=[IDEMPOTENCY_HEADER, IF_MATCH_HEADER, ETAG],
                   responses={200: OrderDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def cancel(self, request, pk=None):
        """Cancel a confirmed order (its customer, or staff with orders.cancel_order): the payment is
        voided, or refunded if captured, and the stock given back. A shipped order cannot be
        cancelled (409)."""
        order = self._order(pk)
        if order.customer_id != request.user.pk:
            permission_require(user=request.user, codename="orders.cancel_order")
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reason = serializer.validated_data.get("reason", "")
        order = order_cancel(order=order, actor=request.user, reason=reason,
                             expected_version=_expected_version(request))
        return _detail_response(order, request)

    @extend_schema(request=None, parameters=[IDEMPOTENCY_HEADER, IF_MATCH_HEADER, ETAG],
                   responses={200: OrderDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def ship(self, request, pk=None):
        """Staff (orders.ship_order): ship a confirmed order. The payment is captured and the held
        stock committed."""
        order = self._order(pk)  # before the permission, so that another customer's order is 404
        permission_require(user=request.user, codename="orders.ship_order")
        order = order_ship(order=order, actor=request.user, expected_version=_expected_version(request))
        return _detail_response(order, request)

    @extend_schema(request=RefundSerializer, parameters=[IDEMPOTENCY_HEADER, IF_MATCH_HEADER, ETAG],
                   responses={200: OrderDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    @idempotent
    def refund(self, request, pk=None):
        """Staff (orders.refund_order): refund a shipped order, either an `amount` or `lines`
        (quantities per SKU), not both. Each refund takes a new Idempotency-Key; more than what
        remains to refund is 422."""
        order = self._order(pk)
        permission_require(user=request.user, codename="orders.refund_order")
        serializer = RefundSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = order_refund(
            order=order, actor=request.user, idempotency_key=request.headers["Idempotency-Key"],
            amount=data.get("amount"),
            lines=[LineRequest(sku=line["sku"], quantity=line["quantity"]) for line in data.get("lines", [])],
            expected_version=_expected_version(request),
        )
        return _detail_response(order, request)

    @extend_schema(request=NoteSerializer, parameters=[ETAG_CREATED], responses={201: OrderDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        """Staff (orders.add_note): add a note to the order's timeline; the order itself does not change."""
        order = self._order(pk)
        permission_require(user=request.user, codename="orders.add_note")
        serializer = NoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order_note_add(order=order, actor=request.user, message=serializer.validated_data["message"])
        return _detail_response(order, request, status.HTTP_201_CREATED)


