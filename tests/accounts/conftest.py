"""Customer accounts as a client uses them: over HTTP, with the emails the notifications module
actually sends (the outbox relay and the deliveries run in-process after each commit)."""

import re
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from apps.orders.models import Order

PASSWORD = "correct-horse-battery-9"
NEW_PASSWORD = "another-staple-battery-7"
LINK = re.compile(r"[?&]uid=(?P<uid>[A-Za-z0-9_-]+)&token=(?P<token>[0-9a-z]+-[0-9a-f]+)")


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def emails_to(address: str) -> list:
    return [message for message in mail.outbox if message.to == [address]]


def link_in(message) -> dict[str, str]:
    """The uid and token of the link an email carries."""
    match = LINK.search(message.body)
    assert match, message.body
    return {"uid": match["uid"], "token": match["token"]}


@pytest.fixture
def call(db, django_capture_on_commit_callbacks):
    """call(client, method, path, body=None, **extra): the request, then what its commit set off
    (the relay hands the events to notifications, which sends the emails)."""

    def request(client, method: str, path: str, body=None, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return getattr(client, method)(path, body, format="json", **extra)

    return request


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def sign_up(call, anonymous):
    def make(email: str = "ada@example.com", password: str = PASSWORD, remote_addr: str = "127.0.0.1", **fields):
        return call(anonymous, "post", "/api/v1/auth/signup/", {"email": email, "password": password, **fields},
                    REMOTE_ADDR=remote_addr)

    return make


@pytest.fixture
def sign_in(call, anonymous):
    def make(email: str = "ada@example.com", password: str = PASSWORD, **extra):
        return call(anonymous, "post", "/api/v1/auth/signin/", {"email": email, "password": password}, **extra)

    return make


@pytest.fixture
def customer_token(sign_up, sign_in):
    """customer_token(email): a signed-up (unverified) customer's Bearer token."""

    def make(email: str = "ada@example.com") -> str:
        assert sign_up(email).status_code == 202
        response = sign_in(email)
        assert response.status_code == 200, response.content
        return response.json()["token"]

    return make


@pytest.fixture
def verified(sign_up, call, anonymous):
    """verified(email): sign up and follow the verification link; the email's token."""

    def make(email: str = "ada@example.com") -> dict:
        assert sign_up(email).status_code == 202
        response = call(anonymous, "post", "/api/v1/auth/email/verify/", link_in(emails_to(email)[-1]))
        assert response.status_code == 200, response.content
        return response.json()

    return make


def order_for(*, email: str, customer=None, phone: str = "", status: str = Order.Status.CONFIRMED,
              address: dict | None = None) -> Order:
    """An order as placement leaves it (a guest's without a customer), shipped to `address`."""
    now = timezone.now()
    return Order.objects.create(number=f"ORD-{uuid.uuid4().hex[:8].upper()}", customer=customer,
                                idempotency_key=uuid.uuid4().hex, email=email, phone=phone, currency="EUR",
                                subtotal=Decimal("19.99"), total=Decimal("19.99"), status=status,
                                saga_step=Order.SagaStep.COMPLETED, created_at=now, updated_at=now, confirmed_at=now,
                                shipping_address=address, billing_address=address)
