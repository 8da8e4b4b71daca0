from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response

from apps.checkout import selectors
from apps.checkout.errors import CartLineNotFound, CartNotFound
from apps.checkout.models import Cart
from apps.checkout.serializers import (
    SKU_REGEX,
    CartCreatedSerializer,
    CartCreateSerializer,
    CartLineSerializer,
    CartSerializer,
    CartUpdateSerializer,
    CodeSerializer,
    LineAddSerializer,
    LineQuantitySerializer,
)
from apps.checkout.services import carts
from apps.checkout.services.merge import carts_merge
from apps.checkout.tokens import HEADER as CART_TOKEN_HEADER
from apps.checkout.types import CartMergeResult
from apps.common.http.conditional import if_match_version
from apps.common.http.openapi import etag_header
from apps.common.http.problems import PreconditionRequired, problem_responses
from apps.common.http.routing import UUID_LOOKUP_REGEX

CART_TOKEN = OpenApiParameter(CART_TOKEN_HEADER, str, OpenApiParameter.HEADER, required=False,
                              description="A guest cart's secret token, from the answer that created it. "
                                          "A signed-in customer's cart needs none (but their credentials).")
IF_MATCH = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True,
                            description='The cart\'s ETag ("<version>"): 428 without it, 412 when it is stale.')
ETAG = etag_header("cart", 200)
ETAG_CREATED = etag_header("cart", 200, 201)
ERRORS = problem_responses(400, 401, 403, 404, 409, 412, 422, 428, 429)
NO_STORE = {"Cache-Control": "no-store"}  # carts are private, and a new guest cart's answer holds its secret
LINE_PATH = rf"lines/(?P<sku>{SKU_REGEX.strip('^$')})"
CODE_PATH = r"codes/(?P<code>[^/]{1,64})"


def _expected_version(request) -> int | None:
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired("Send If-Match with the cart's ETag (from GET) to change it.")
    return if_match_version(header)


def _cart_data(cart: Cart) -> dict:
    return CartSerializer(selectors.cart_priced(cart=cart)).data


def _cart_response(cart: Cart, status_code=status.HTTP_200_OK, headers=None) -> Response:
    return Response(_cart_data(cart), status=status_code,
                    headers={"ETag": f'"{cart.version}"', **NO_STORE, **(headers or {})})


@extend_schema(tags=["checkout"])
class CartViewSet(viewsets.GenericViewSet):
    """Carts of guests (a secret cart token) and of signed-in customers. Every figure of a cart is
    computed from the catalog when it is read; every write takes the cart's ETag as If-Match."""

    serializer_class = CartSerializer
    pagination_class = None
    lookup_value_regex = UUID_LOOKUP_REGEX

    def get_permissions(self):
        if self.action in ("list", "merge"):
            return [IsAuthenticated()]
        return [AllowAny()]

    def _cart(self, pk) -> Cart:
        return selectors.cart_for_caller(cart_id=pk, user=self.request.user,
                                         token=self.request.headers.get(CART_TOKEN_HEADER))

    def _customer_id(self) -> int | None:
        return self.request.user.pk if self.request.user.is_authenticated else None

    @extend_schema(responses={200: CartSerializer(many=True), **ERRORS})
    def list(self, request):
        """A signed-in customer's open carts (one per currency at most), most recently changed first."""
        return Response([_cart_data(cart) for cart in selectors.customer_carts(user=request.user)], headers=NO_STORE)

    @extend_schema(request=CartCreateSerializer, parameters=[ETAG_CREATED],
                   responses={201: CartCreatedSerializer, 200: CartSerializer, **ERRORS},
                   examples=[OpenApiExample("A cart in euros", request_only=True, value={"currency": "EUR"})])
    def create(self, request):
        """Start a cart in a currency. A guest gets a new cart and its secret `token` (201), to send
        as X-Cart-Token on every later call. A signed-in customer gets their open cart in that
        currency (200), or a new one (201): a customer has one open cart per currency."""
        serializer = CartCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = carts.cart_create(customer_id=self._customer_id(), currency=serializer.validated_data["currency"])
        data = _cart_data(outcome.cart)
        if outcome.token is not None:
            data["token"] = outcome.token
        location = request.build_absolute_uri(f"{outcome.cart.pk}/")
        return Response(data, status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK,
                        headers={"ETag": f'"{outcome.cart.version}"', "Location": location, **NO_STORE})

    @extend_schema(parameters=[CART_TOKEN, ETAG], responses={200: CartSerializer, **ERRORS})
    def retrieve(self, request, pk=None):
        """The cart priced now: each line at the catalog's price, with warnings when a line became
        unavailable, short of stock, changed price or currency since it was added; the shipping
        methods that serve its shipping address with their prices; the totals."""
        return _cart_response(self._cart(pk))

    @extend_schema(request=CartUpdateSerializer, parameters=[CART_TOKEN, IF_MATCH, ETAG],
                   responses={200: CartSerializer, **ERRORS},
                   examples=[OpenApiExample("Ship to Berlin", request_only=True, value={"shipping_address": {
                       "name": "Erika Mustermann", "line1": "Heidestrasse 17", "city": "Berlin",
                       "postal_code": "10557", "country": "DE"}})])
    def partial_update(self, request, pk=None):
        """Set or clear (null) the shipping and billing addresses, inline or from your address book
        (`..._address_id`, signed in), and the shipping method: one of the cart's `shipping_methods`,
        else 422 `shipping_method_unavailable` (`shipping_address_required` before an address)."""
        cart = self._cart(pk)
        expected = _expected_version(request)
        serializer = CartUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = carts.cart_update(cart_id=cart.pk, expected_version=expected,
                                 customer_id=self._customer_id(), changes=serializer.validated_data)
        return _cart_response(cart)

    @extend_schema(request=LineAddSerializer, parameters=[CART_TOKEN, IF_MATCH, ETAG],
                   responses={200: CartSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="lines")
    def lines(self, request, pk=None):
        """Add units of a product (to its line, if the cart has one). Unknown or inactive products and
        products in another currency are 422; more units than are available is 409."""
        cart = self._cart(pk)
        expected = _expected_version(request)
        serializer = LineAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = carts.cart_line_add(cart_id=cart.pk, expected_version=expected,
                                   **serializer.validated_data)
        return _cart_response(cart)

    @extend_schema(methods=["GET"], parameters=[CART_TOKEN, ETAG], responses={200: CartLineSerializer, **ERRORS},
                   description="One line of the cart, priced now, with the cart's ETag (404 if the cart has no "
                               "line for the SKU).")
    @extend_schema(methods=["PUT"], request=LineQuantitySerializer, parameters=[CART_TOKEN, IF_MATCH, ETAG],
                   responses={200: CartSerializer, **ERRORS},
                   description="Set the line's quantity, making the line if the cart has none for the SKU, at the "
                               "catalog's current price; the same checks as adding. Answers the whole cart.")
    @extend_schema(methods=["DELETE"], request=None, parameters=[CART_TOKEN, IF_MATCH, ETAG],
                   responses={200: CartSerializer, **ERRORS},
                   description="Remove the line (404 if the cart has none for the SKU). Answers the whole cart.")
    @action(detail=True, methods=["get", "put", "delete"], url_path=LINE_PATH)
    def line(self, request, pk=None, sku=None):
        cart, sku = self._cart(pk), sku.upper()
        if request.method == "GET":
            priced = selectors.cart_priced(cart=cart)  # a line's discount share depends on the whole cart
            found = next((line for line in priced.lines if line.sku == sku), None)
            if found is None:
                raise CartLineNotFound(f"The cart has no line for {sku}.")
            return Response(CartLineSerializer(found, context={"totals": priced.totals}).data,
                            headers={"ETag": f'"{cart.version}"', **NO_STORE})
        expected = _expected_version(request)
        if request.method == "DELETE":
            return _cart_response(carts.cart_line_remove(cart_id=cart.pk, expected_version=expected, sku=sku))
        serializer = LineQuantitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = carts.cart_line_set(cart_id=cart.pk, expected_version=expected, sku=sku,
                                   quantity=serializer.validated_data["quantity"])
        return _cart_response(cart)

    @extend_schema(request=CodeSerializer, parameters=[CART_TOKEN, IF_MATCH, ETAG],
                   responses={200: CartSerializer, **ERRORS},
                   examples=[OpenApiExample("A welcome code", request_only=True, value={"code": "WELCOME10"})])
    @action(detail=True, methods=["post"], url_path="codes")
    def codes(self, request, pk=None):
        """Apply a voucher code (any case). The cart keeps it only if it gives a discount now; else 422
        with the reason's stable code: `voucher_not_found`, `voucher_expired`, `voucher_not_yet_valid`,
        `voucher_exhausted`, `voucher_customer_limit`, `voucher_not_applicable` (minimum subtotal,
        currency or products), `voucher_not_combinable` (a better promotion that does not combine
        applies). A code the cart holds already changes nothing. Answers the cart, priced with it
        (`discount_lines`); a code that later gives nothing shows in `code_problems`."""
        cart = self._cart(pk)
        expected = _expected_version(request)
        serializer = CodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart = carts.cart_code_apply(cart_id=cart.pk, expected_version=expected,
                                     code=serializer.validated_data["code"])
        return _cart_response(cart)

    @extend_schema(request=None, parameters=[CART_TOKEN, IF_MATCH, ETAG], responses={200: CartSerializer, **ERRORS})
    @action(detail=True, methods=["delete"], url_path=CODE_PATH)
    def code(self, request, pk=None, code=None):
        """Remove a voucher code from the cart (any case; 404 if the cart does not hold it)."""
        cart = self._cart(pk)
        expected = _expected_version(request)
        return _cart_response(carts.cart_code_remove(cart_id=cart.pk, expected_version=expected, code=code))

    @extend_schema(request=None, parameters=[CART_TOKEN, ETAG], responses={200: CartSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="merge")
    def merge(self, request, pk=None):
        """Right after signing in: bring the guest cart (`{id}` and its X-Cart-Token) into the
        customer's open cart of the same currency (its lines added, its addresses and shipping
        method filling what the customer's cart lacks), or make it the customer's cart if they have
        none in that currency. Answers the customer's cart; calling it again changes nothing. An
        unknown or expired cart, a wrong token, or another customer's cart: 404."""
        outcome = carts_merge(user_id=request.user.pk, cart_id=pk,
                              cart_token=request.headers.get(CART_TOKEN_HEADER) or "")
        if outcome.result is CartMergeResult.NOT_FOUND:
            raise CartNotFound("No such cart.")
        return _cart_response(selectors.cart_for_caller(cart_id=outcome.cart_id, user=request.user, token=None))
