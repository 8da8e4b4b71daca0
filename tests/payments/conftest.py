import json
import time
import uuid
from decimal import Decimal

import pytest

from apps.payments.services.operations import payment_authorize
from apps.payments.webhooks import webhook_sign
from tests.payments.fake_processor import FakeProcessor

WEBHOOK_SECRET = "whsec_test_payments"
PROCESSOR_SECRET = "sk_test_fake_processor"


@pytest.fixture(autouse=True)
def _payments_settings(settings):
    # The cache (and with it the sandbox's ledger and the breakers' state) is flushed before
    # each test by tests/conftest.py; these are the settings every payments test starts from.
    settings.PAYMENTS_PROVIDERS = {"card": "sandbox"}
    settings.PAYMENTS_WEBHOOK_SECRETS = {"sandbox": WEBHOOK_SECRET, "http": WEBHOOK_SECRET}
    settings.PAYMENTS_WEBHOOK_TOLERANCE_SECONDS = 300
    settings.PAYMENTS_BREAKER_REDIS_URL = ""
    settings.PAYMENTS_BREAKER_FAILURE_THRESHOLD = 3
    settings.PAYMENTS_BREAKER_RESET_SECONDS = 30
    settings.PAYMENTS_BREAKER_PROBE_SECONDS = 30
    settings.PAYMENTS_RECONCILE_AFTER_SECONDS = 60


@pytest.fixture
def processor(settings):
    """The fake processor on loopback, and the "card" method routed to the http adapter."""
    fake = FakeProcessor(secret=PROCESSOR_SECRET, slow_seconds=1.5).start()
    settings.PAYMENTS_PROVIDERS = {"card": "http"}
    settings.PAYMENTS_HTTP_BASE_URL = fake.base_url
    settings.PAYMENTS_HTTP_SECRET = PROCESSOR_SECRET
    settings.PAYMENTS_HTTP_CONNECT_TIMEOUT = 1.0
    settings.PAYMENTS_HTTP_READ_TIMEOUT = 0.75
    yield fake
    fake.stop()


def authorize(amount="100.00", currency="EUR", token="tok_approved", key=None, order_id=None):
    return payment_authorize(order_id=order_id or uuid.uuid4(), amount=Decimal(amount), currency=currency,
                             token=token, idempotency_key=key or f"auth-{uuid.uuid4()}")


def signed_webhook(client, provider, payload, *, secret=WEBHOOK_SECRET, timestamp=None):
    """POST `payload` (JSON-encoded, or bytes as they are) signed with `secret`."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    return client.generic("POST", f"/api/v1/payments/webhooks/{provider}/", body, content_type="application/json",
                          HTTP_WEBHOOK_TIMESTAMP=timestamp,
                          HTTP_WEBHOOK_SIGNATURE=webhook_sign(secret=secret, timestamp=timestamp, body=body))


def webhook_payload(*, provider_key, status="approved", reference="", event_id=None, decline_code=""):
    return {"id": event_id or f"evt_{uuid.uuid4().hex}", "type": f"operation.{status}",
            "data": {"idempotency_key": provider_key, "status": status, "reference": reference,
                     "decline_code": decline_code}}
