"""Schemathesis against /api/schema/: every operation, as a customer and as staff, with
schemathesis's default checks and a bounded, reproducible number of examples.

Valid requests (positive mode) get every default check: no 5xx; the status, content type, headers
and body as documented; valid data accepted. Invalid requests (negative mode) get every check but
`negative_data_rejection`: whatever the API answers is documented (a 4xx is a problem+json body)
and never a 5xx. That one check is left out because DRF reads input leniently by design where the
schema is strict (it strips strings, takes JSON 5 for the string "5" and "5" for the integer 5),
so the API accepts some values the schema calls invalid.

Requests go in-process through Django's WSGI handler, inside the test's transaction, to a shop
seeded with a product, an order and its payment, a webhook endpoint, deliveries and report rows;
path parameters name a seeded object half of the time and an unknown one otherwise."""

import uuid
from decimal import Decimal

import pytest
import schemathesis
from django.core.exceptions import ValidationError
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.core.validators import URLValidator
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.specs.openapi.checks import negative_data_rejection

from apps.catalog.serializers import ProductUpdateSerializer
from apps.checkout.serializers import CartUpdateSerializer
from apps.checkout.services.carts import cart_create, cart_line_add
from apps.common.money import currency_exponent
from apps.orders.services.placement import order_place
from apps.orders.types import LineRequest
from apps.payments import api as payments_api
from apps.reporting.services.consumer import reporting_event_apply
from tests.catalog.factories import CategoryFactory, ProductFactory
from tests.notifications.factories import DeliveryFactory, WebhookEndpointFactory
from tests.reporting.factories import T0, OrderStory

pytestmark = pytest.mark.django_db(databases="__all__")

MAX_EXAMPLES = 10  # per operation, role and mode, on top of schemathesis's explicit coverage cases
# Statuses the API documents for requests that are valid but cannot be carried out: a declined
# payment (402), a state conflict (409), a stale If-Match (412), a business rule such as an
# unknown SKU or a reused Idempotency-Key (422).
VALID_BUT_REFUSED = ["402", "409", "412", "422"]
SEEDED_CATEGORY = "kitchen"
SEEDED_SKU = "MUG-1"
PUBLIC_WEBHOOK_URL = "https://93.184.215.14/hooks"  # an address literal: no DNS lookup
SEEDED: dict[str, dict] = {}  # path prefix -> path parameters naming a seeded object (set per test)


class InTransactionWSGIHandler(WSGIHandler):
    """Django's WSGI handler without the connection cleanup around each request, as
    django.test.Client does it: every request runs in the test's transaction, which closing the
    connection at request_finished would break."""

    def __call__(self, environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = super().__call__(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                response.close()  # sends request_finished, while close_old_connections is off
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


def load_schema(mode: str):
    config = schemathesis.Config.from_dict({
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        # NUL characters are refused in every text field (PostgreSQL cannot store them).
        "generation": {"mode": mode, "max-examples": MAX_EXAMPLES, "deterministic": True, "allow-x00": False},
        "checks": {"positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "401", "403", "404", "429", *VALID_BUT_REFUSED]}},
    })
    return schemathesis.openapi.from_wsgi("/api/schema/", InTransactionWSGIHandler(), config=config)


valid = load_schema("positive")
# GET /notifications/dead-letters/ takes no input at all: nothing to make invalid.
invalid = load_schema("negative").exclude(path="/api/v1/notifications/dead-letters/")

# Rules the API documents in words, not in the schema: valid requests are generated to follow them.


@valid.hook("map_case")
def no_made_up_cursor(context, case):
    """A cursor is opaque: only one from a page's next or previous link is valid (others are 400)."""
    if case.query and "cursor" in case.query:
        case.query = {name: value for name, value in case.query.items() if name != "cursor"}
    return case


@valid.hook("filter_case").apply_to(path_regex=r"^/api/v1/reports/")
def from_not_after_to(context, case):
    query = case.query or {}
    return not ("from" in query and "to" in query and str(query["from"]) > str(query["to"]))


@valid.hook("filter_case").apply_to(path="/api/v1/products/", method="GET")
def min_price_not_above_max_price(context, case):
    query = case.query or {}
    return not ("min_price" in query and "max_price" in query
                and Decimal(str(query["min_price"])) > Decimal(str(query["max_price"])))


@valid.hook("map_case").apply_to(path=["/api/v1/products/", "/api/v1/products/{sku}/"], method=["POST", "PATCH"])
def price_in_minor_units_of_a_known_category(context, case):
    body = case.body
    if isinstance(body, dict):
        if body.get("category") is not None:
            body = {**body, "category": SEEDED_CATEGORY}
        if body.get("tax_class") is not None:  # a code pricing has (an unknown one is a 400, like a category)
            body = {**body, "tax_class": "reduced"}
        if isinstance(body.get("price"), str):
            # A PATCH without a currency prices in the product's own, which an earlier case may
            # have changed (to ZAR, say: 2 places, where the generated price had 3): whole units
            # are valid in every currency.
            currency = body.get("currency")
            places = currency_exponent(currency.upper()) if isinstance(currency, str) else 0
            body = {**body, "price": str(Decimal(body["price"]).quantize(Decimal(1).scaleb(-places), "ROUND_DOWN"))}
        case.body = body
    return case


@valid.hook("map_case").apply_to(path="/api/v1/carts/{id}/", method="PATCH")
def a_real_vat_number(context, case):
    """A generated tax_id has no valid check digits (a 400 invalid_tax_id): send a real one."""
    if isinstance(case.body, dict) and case.body.get("tax_id"):
        case.body = {**case.body, "tax_id": "FR40303265045"}
    return case


@valid.hook("map_case").apply_to(path="/api/v1/orders/", method="POST")
def lines_of_the_seeded_product(context, case):
    """SKUs name a product on sale (a generated one is an unknown SKU, a 422); every other order
    pays with the sandbox's approved test token (any other token is declined, a 402)."""
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("lines"), list):
        lines = [{**line, "sku": SEEDED_SKU} if isinstance(line, dict) else line for line in body["lines"]]
        body = {**body, "lines": lines}
        if sum(line.get("quantity", 0) for line in lines if isinstance(line, dict)) % 2:
            body["payment_token"] = "tok_approved"
        case.body = body
    return case


@valid.hook("filter_case").apply_to(path="/api/v1/products/{sku}/", method="PATCH")
def at_least_one_field_to_change(context, case):
    return isinstance(case.body, dict) and bool(case.body.keys() & ProductUpdateSerializer().fields.keys())


@valid.hook("filter_case").apply_to(path="/api/v1/carts/{id}/", method="PATCH")
def a_cart_change_names_something_and_each_address_once(context, case):
    body = case.body
    # As for a product: a body naming none of the fields (only unknown keys) changes nothing: 400.
    return isinstance(body, dict) and bool(body.keys() & CartUpdateSerializer().fields.keys()) and not any(
        f"{kind}_address" in body and f"{kind}_address_id" in body for kind in ("shipping", "billing"))


@valid.hook("filter_case").apply_to(path="/api/v1/orders/{id}/refund/")
def an_amount_or_lines_to_refund(context, case):
    return isinstance(case.body, dict) and ("amount" in case.body) != ("lines" in case.body)


@valid.hook("map_case").apply_to(path_regex=r"^/api/v1/payments/\{id\}/(capture|refund)/$")
def all_that_remains(context, case):
    """What remains to capture or refund depends on the payment's history, which the generator
    cannot know; an amount over it is a 400 (tests/payments/test_api.py covers amounts)."""
    if isinstance(case.body, dict) and "amount" in case.body:
        case.body = {key: value for key, value in case.body.items() if key != "amount"}
    return case


def url_of_a_public_address(context, case):
    """Webhook URLs must resolve to public addresses: a generated host name would be looked up in
    DNS (no test should need the network) and seldom resolves (a 422). Deliveries are not sent.
    An invalid request keeps a URL that is the invalid part of it."""
    if isinstance(case.body, dict) and isinstance(case.body.get("url"), str):
        try:
            if case.meta is None or not case.meta.generation.mode.is_positive:
                URLValidator()(case.body["url"])
        except ValidationError:
            return case
        case.body = {**case.body, "url": PUBLIC_WEBHOOK_URL}
    return case


for _schema in (valid, invalid):
    _schema.hook("map_case").apply_to(path_regex=r"^/api/v1/notifications/webhook-endpoints/")(url_of_a_public_address)


@valid.hook("flatmap_path_parameters")
def seeded_half_of_the_time(context, path_parameters):
    """Half of the generated requests name a seeded object (the other half get 404s)."""
    for prefix, known in SEEDED.items():
        if context.operation.path.startswith(prefix):
            return st.sampled_from([{**path_parameters, **known}, path_parameters])
    return st.just(path_parameters)


# --- The seeded shop ---------------------------------------------------------------------------


@pytest.fixture
def shop(customer, staff):
    CategoryFactory(slug=SEEDED_CATEGORY)
    ProductFactory(sku=SEEDED_SKU, price=Decimal("12.50"), currency="USD", units=1_000_000, category_id=SEEDED_CATEGORY)
    ProductFactory(sku="OLD-1", active=False)
    order = order_place(
        customer=customer, lines=[LineRequest(sku=SEEDED_SKU, quantity=2)],
        payment_token="tok_approved", email=customer.email, idempotency_key=uuid.uuid4().hex).order
    payment = payments_api.payment_for_order(order_id=order.pk)
    endpoint = WebhookEndpointFactory(owner=staff)
    dead = DeliveryFactory(dead=True)
    DeliveryFactory(channel="webhook", endpoint=endpoint, recipient=str(endpoint.pk))
    story = OrderStory.new(total=Decimal("25.00"), currency="USD")
    for event in (story.place(T0), story.pay(T0)):
        reporting_event_apply(event)
    cart = cart_create(customer_id=customer.pk, currency="USD").cart
    cart_line_add(cart_id=cart.pk, expected_version=None, sku=SEEDED_SKU, quantity=1)
    SEEDED.update({
        "/api/v1/carts/{id}/": {"id": str(cart.pk)},
        "/api/v1/orders/{id}/": {"id": str(order.pk)},
        "/api/v1/payments/{id}/": {"id": str(payment.payment_id)},
        "/api/v1/products/{sku}/": {"sku": SEEDED_SKU},
        "/api/v1/notifications/webhook-endpoints/{id}/": {"id": str(endpoint.pk)},
        "/api/v1/notifications/deliveries/{id}/": {"id": dead.pk},
    })
    yield
    SEEDED.clear()


@pytest.fixture
def authorization(shop, customer, staff):
    """The Authorization header of each role (DRF token authentication)."""
    return {role: {"Authorization": f"Token {Token.objects.create(user=user).key}"}
            for role, user in (("customer", customer), ("staff", staff))}


# The examples of one test share its fixtures, so its transaction too: what one request changes (a
# cancelled order, a used Idempotency-Key), the next one sees, as a client's next request would.
HYPOTHESIS = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ROLES = pytest.mark.parametrize("role", ["customer", "staff"])


@ROLES
@HYPOTHESIS
@valid.parametrize()
def test_valid_requests_get_documented_answers(case, role, authorization):
    case.call_and_validate(headers=authorization[role])


@ROLES
@HYPOTHESIS
@invalid.parametrize()
def test_invalid_requests_get_a_documented_problem_never_a_server_error(case, role, authorization):
    case.call_and_validate(headers=authorization[role], excluded_checks=[negative_data_rejection])
