import functools
import json

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.catalog import selectors
from apps.catalog.cache import CachedRead, product_detail_cached, product_list_cached
from apps.catalog.errors import ProductNotFound
from apps.catalog.serializers import (
    ProductCreateSerializer,
    ProductDetailSerializer,
    ProductFilterSerializer,
    ProductSerializer,
    ProductUpdateSerializer,
    StockAdjustmentCreateSerializer,
    StockAdjustmentSerializer,
)
from apps.catalog.services.adjustments import stock_adjust
from apps.catalog.services.products import product_create, product_deactivate, product_update
from apps.common.http.conditional import if_match_version
from apps.common.http.idempotency import idempotency_key_parameter, idempotent
from apps.common.http.openapi import etag_header
from apps.common.http.pagination import CursorPagination
from apps.common.http.permissions import HasStaffPermission, permission_require
from apps.common.http.problems import PreconditionRequired, problem_responses

IF_MATCH_REQUIRED = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True,
                                     description='The product\'s ETag ("<version>"); a stale one gets 412.')
IF_MATCH_OPTIONAL = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=False,
                                     description="The product's ETag; a stale one gets 412.")
IDEMPOTENCY_HEADER = idempotency_key_parameter("A unique key per intended adjustment; retries reuse it.")
ETAG = etag_header("product", 200)
ETAG_CREATED = etag_header("product", 201)
ERRORS = problem_responses(400, 401, 403, 404, 409, 412, 422, 428, 429)
PRICE_FIELDS = frozenset({"price", "currency"})
CREATE_EXAMPLES = [
    OpenApiExample("A lamp in euros", request_only=True, value={
        "sku": "LAMP-1", "name": "Walnut Desk Lamp", "price": "49.90", "currency": "EUR", "weight": "1.250",
        "tax_class": "standard", "attributes": {"color": "walnut"}}),
    OpenApiExample("A book at the reduced tax rate", request_only=True, value={
        "sku": "BOOK-1", "name": "Field Guide to Mushrooms", "price": "24.00", "currency": "EUR", "weight": "0.640",
        "tax_class": "reduced"}),
]
UPDATE_EXAMPLES = [
    OpenApiExample("Weighed again", request_only=True, value={"weight": "1.180"}),
    OpenApiExample("Taxed at the reduced rate", request_only=True, value={"tax_class": "reduced"}),
]


class ProductPagination(CursorPagination):
    ordering = "sku"


def _if_match(request, *, required: bool) -> int | None:
    """If-Match: "<version>" (the ETag of the detail); "*" matches any version."""
    header = request.headers.get("If-Match")
    if not header:
        if required:
            raise PreconditionRequired("Send If-Match with the product's ETag (from GET) to change it.")
        return None
    return if_match_version(header)


@functools.cache
def _no_filters() -> tuple:
    filters = ProductFilterSerializer(data={})
    filters.is_valid(raise_exception=True)
    return tuple(filters.validated_data.items())


def list_filters(params) -> dict:
    """The list's validated filters (a ValidationError if they are not). A request without query
    parameters (the catalog's first page, the most read one) reuses the empty filters' result:
    building the serializer's fields cost as much as the rest of a cached read."""
    if not params:
        return dict(_no_filters())
    filters = ProductFilterSerializer(data=params)
    filters.is_valid(raise_exception=True)
    return filters.validated_data


def list_page_parts(request, *, filters: dict, staff: bool) -> list[tuple[str, object]]:
    """Everything a list page depends on, its cache key (apps.catalog.fast finds pages by it too):
    the filters, who asks, and the address it was asked at (the page and the page size are in it,
    and the links to the next and previous pages repeat its host and every query parameter)."""
    return [*filters.items(), ("staff", staff), ("url", request.build_absolute_uri())]


def _rendered(data, *, etag: str | None = None) -> CachedRead:
    """What the cache keeps: the body as DRF's JSONRenderer renders it for application/json."""
    return CachedRead(body=JSONRenderer().render(data), etag=etag)


def _detail_data(sku: str) -> dict | None:
    product = selectors.product_find(sku=sku)
    if product is None:
        return None
    return ProductDetailSerializer(product, context={"stock": selectors.stock_find(sku=sku)}).data


def _detail_read(sku: str) -> CachedRead | None:
    data = _detail_data(sku)
    return None if data is None else _rendered(data, etag=f'"{data["version"]}"')


def _detail_response(sku: str, status_code=status.HTTP_200_OK, headers=None) -> Response:
    data = _detail_data(sku)
    if data is None:
        raise ProductNotFound(f"No product with SKU {sku}.")
    return Response(data, status=status_code, headers={"ETag": f'"{data["version"]}"', **(headers or {})})


@extend_schema(tags=["catalog"])
class ProductViewSet(viewsets.GenericViewSet):
    """Products: anyone reads (cached in Redis), staff write, each write with its permission."""

    serializer_class = ProductSerializer
    pagination_class = ProductPagination
    lookup_field = "sku"
    lookup_value_regex = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"

    staff_permissions = {
        "create": "catalog.add_product",
        "partial_update": "catalog.change_product",  # and catalog.change_price for price or currency
        "deactivate": "catalog.change_product",
        "stock_adjustments": "catalog.adjust_stock",
    }

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [AllowAny()]
        return [HasStaffPermission()]

    def get_queryset(self):
        return selectors.product_list(include_inactive=self.request.user.has_perm("catalog.view_product"))

    @extend_schema(parameters=[ProductFilterSerializer], responses={200: ProductSerializer(many=True), **ERRORS})
    def list(self, request):
        """Products on sale by SKU, filtered by the query parameters; staff with catalog.view_product
        also see inactive ones.
        Anyone may read; pages are cached for CATALOG_CACHE_LIST_SECONDS at most (writes clear them)."""
        filters = list_filters(request.query_params)
        staff = request.user.has_perm("catalog.view_product")

        def build() -> CachedRead:
            queryset = selectors.product_list(include_inactive=staff, **filters)
            page = self.paginate_queryset(queryset)
            return _rendered(self.get_paginated_response(ProductSerializer(page, many=True).data).data)

        cached = product_list_cached(parts=list_page_parts(request, filters=filters, staff=staff), build=build)
        return Response(json.loads(cached.body))

    @extend_schema(parameters=[ETAG], responses={200: ProductDetailSerializer, **ERRORS})
    def retrieve(self, request, sku=None):
        """One product with its stock. Anyone may read. Its ETag is what If-Match takes."""
        cached = product_detail_cached(sku=sku, build=lambda: _detail_read(sku))
        if cached is None:
            raise ProductNotFound(f"No product with SKU {sku}.")
        return Response(json.loads(cached.body), headers={"ETag": cached.etag})

    @extend_schema(request=ProductCreateSerializer, parameters=[ETAG_CREATED], examples=CREATE_EXAMPLES,
                   responses={201: ProductDetailSerializer, **ERRORS})
    def create(self, request):
        """Staff (catalog.add_product): add a product; 409 if its SKU exists. Units come in through
        stock adjustments. An unknown `tax_class` is a 400 naming the field."""
        serializer = ProductCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = product_create(**serializer.validated_data)
        return _detail_response(product.sku, status.HTTP_201_CREATED,
                                {"Location": request.build_absolute_uri(f"{product.sku}/")})

    @extend_schema(request=ProductUpdateSerializer, parameters=[IF_MATCH_REQUIRED, ETAG], examples=UPDATE_EXAMPLES,
                   responses={200: ProductDetailSerializer, **ERRORS})
    def partial_update(self, request, sku=None):
        """Staff (catalog.change_product; catalog.change_price too for `price` or `currency`, not for
        `weight` or `tax_class`): change any of a product's fields. If-Match is required: 428
        without it, 412 when the product changed since that ETag."""
        product = selectors.product_get(sku=sku)
        expected = _if_match(request, required=True)
        serializer = ProductUpdateSerializer(data=request.data, context={"product": product})
        serializer.is_valid(raise_exception=True)
        if PRICE_FIELDS & set(serializer.validated_data):
            permission_require(user=request.user, codename="catalog.change_price")
        product = product_update(sku=sku, changes=serializer.validated_data, expected_version=expected)
        return _detail_response(product.sku)

    @extend_schema(request=None, parameters=[IF_MATCH_OPTIONAL, ETAG],
                   responses={200: ProductDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, sku=None):
        """Staff (catalog.change_product): take the product off sale (idempotent); orders no longer accept it."""
        product_deactivate(sku=sku, expected_version=_if_match(request, required=False))
        return _detail_response(sku)

    @extend_schema(request=StockAdjustmentCreateSerializer, parameters=[IDEMPOTENCY_HEADER],
                   responses={201: StockAdjustmentSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="stock-adjustments")
    @idempotent
    def stock_adjustments(self, request, sku=None):
        """Staff (catalog.adjust_stock): put units in or take available units out; audited with who and why."""
        selectors.product_get(sku=sku)
        serializer = StockAdjustmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        adjustment = stock_adjust(sku=sku, **serializer.validated_data, actor_id=str(request.user.pk),
                                  actor_name=request.user.get_username())
        return Response(StockAdjustmentSerializer(adjustment).data, status=status.HTTP_201_CREATED)
