"""POST /api/v1/carts/{id}/complete/: a storefront's one way from a cart to its order."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.checkout.completion import CartCaller, CompletionRequest, cart_complete
from apps.checkout.tokens import HEADER as CART_TOKEN_HEADER
from apps.common.http.conditional import if_match_version
from apps.common.http.idempotency import idempotency_key_parameter, idempotent
from apps.common.http.openapi import etag_header
from apps.common.http.problems import problem_responses

CART_TOKEN = OpenApiParameter(CART_TOKEN_HEADER, str, OpenApiParameter.HEADER, required=False,
                              description="A guest cart's secret token. A signed-in customer's cart needs none.")
IF_MATCH = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=False,
                            description='The cart\'s ETag as the customer last saw it: 412 if the cart changed '
                                        'since. Without it, the cart is ordered as it stands.')
ORDER_CREATED = OpenApiResponse(
    response={"$ref": "#/components/schemas/OrderDetail"},
    description="The order, as GET /api/v1/orders/{id}/ shows it (Location), confirmed.")
ERRORS = problem_responses(400, 402, 404, 409, 412, 422, 429, 503)
# bandit B105: the sandbox's public test tokens, not secrets
APPROVED_TOKEN = "tok_approved"  # noqa: S105  # nosec B105


class CartCompleteSerializer(serializers.Serializer):
    payment_token = serializers.CharField(
        max_length=255, write_only=True,
        help_text="The payment method's token from the processor; with the sandbox adapter, tok_approved "
                  "approves and tok_declined declines (see POST /api/v1/orders/ for every test token).")
    email = serializers.EmailField(required=False, help_text="Where the confirmation goes: required for a guest "
                                                             "cart; a customer's account email otherwise.")
    phone = serializers.RegexField(r"^\+[1-9]\d{6,14}$", required=False, allow_blank=True,
                                   help_text="For shipping updates by SMS; default: the shipping address's phone.",
                                   error_messages={"invalid": "Use the international format, e.g. +15551234567."})


@extend_schema(tags=["checkout"])
class CartCompleteView(APIView):
    permission_classes = [AllowAny]  # a guest cart answers to its token; a customer's to them only

    @extend_schema(
        operation_id="carts_complete", request=CartCompleteSerializer,
        parameters=[idempotency_key_parameter(), CART_TOKEN, IF_MATCH, etag_header("order", 201)],
        responses={201: ORDER_CREATED, **ERRORS},
        examples=[OpenApiExample("A signed-in customer", request_only=True, value={"payment_token": APPROVED_TOKEN}),
                  OpenApiExample("A guest", request_only=True,
                                 value={"payment_token": APPROVED_TOKEN, "email": "erika@example.com"})])
    @idempotent
    def post(self, request, pk):
        """Place the cart's order: its lines at the prices the cart shows, both addresses (billing
        defaults to shipping), the chosen shipping method and price, the totals breakdown. 201 with
        the order; the cart is then `closed` (`completed`, with its `order_id`).

        A cart completes into exactly one order. The same Idempotency-Key again answers the same
        order. While a completion runs, the cart cannot change and a second completion is 409
        `cart_completing`; a completed cart is 409 `cart_closed`. What the cart lacks is 422
        `cart_incomplete` (`missing`: lines, shipping_address, shipping_method, email), lines that
        can no longer be bought 422 `cart_lines_unavailable`. Stock short for some lines is 409
        `out_of_stock` naming the `skus`, with nothing held; a declined payment is 402, a payment
        processor that cannot answer 503: in each case the cart stays open and says why in
        `last_failure`."""
        serializer = CartCompleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        completion = CompletionRequest(
            idempotency_key=request.headers["Idempotency-Key"], payment_token=data["payment_token"],
            email=data.get("email", ""), phone=data.get("phone", ""),
            expected_version=if_match_version(request.headers.get("If-Match")))
        customer_email = request.user.email if request.user.is_authenticated else ""
        placed = cart_complete(cart_id=pk, caller=CartCaller(user=request.user,
                                                             token=request.headers.get(CART_TOKEN_HEADER)),
                               customer_email=customer_email, request=completion)
        return Response(placed.detail, status=status.HTTP_201_CREATED, headers={
            "ETag": f'"{placed.version}"', "Location": f"/api/v1/orders/{placed.order_id}/",
            "Cache-Control": "no-store"})
