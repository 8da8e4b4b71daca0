"""The accounts events: each one the flows emit meets its published schema, reaches its recipient
by email through notifications, and goes nowhere else (no webhook, no report)."""

import io

import pytest
from django.core.management import call_command

from apps.common.messaging.consumers import consumers_for
from apps.common.messaging.schemas import SCHEMA_DIR, validate_event_data
from apps.common.models import OutboxEvent
from apps.notifications.models import Channel, Delivery
from tests.accounts.conftest import PASSWORD, bearer, emails_to
from tests.notifications.factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db

ACCOUNT_EVENT_TYPES = sorted(path.name.rsplit(".v", 1)[0] for path in SCHEMA_DIR.glob("accounts.*.v1.json"))
ENDPOINTS = "/api/v1/notifications/webhook-endpoints/"
PUBLIC_URL = "https://93.184.215.14/hooks"


def test_every_accounts_event_validates_and_is_emailed_to_its_recipient_only(sign_up, call, anonymous):
    # Given a webhook endpoint that subscribes to every event
    endpoint = WebhookEndpointFactory(event_types=["*"])
    # When the flows run: sign-up, a second sign-up with the same email, a reset request
    sign_up("ada@example.com", first_name="Ada")
    sign_up("ada@example.com")
    call(anonymous, "post", "/api/v1/auth/password/reset/", {"email": "ada@example.com"})
    # Then each accounts event was recorded, and meets its schema
    events = list(OutboxEvent.objects.filter(event_type__startswith="accounts."))
    assert sorted({event.event_type for event in events}) == ACCOUNT_EVENT_TYPES
    for event in events:
        validate_event_data(event.event_type, event.version, event.data)
    # and each became one email to Ada, and no webhook delivery
    assert len(emails_to("ada@example.com")) == 3
    deliveries = Delivery.objects.filter(event_type__startswith="accounts.")
    assert {(d.channel, d.recipient) for d in deliveries} == {(Channel.EMAIL, "ada@example.com")}
    assert not Delivery.objects.filter(endpoint=endpoint).exists()


def test_staff_cannot_subscribe_a_webhook_to_accounts_events(staff_client):
    for event_type in ("accounts.password_reset_requested", "accounts.email_verification_requested"):
        response = staff_client.post(ENDPOINTS, {"url": PUBLIC_URL, "event_types": [event_type]}, format="json")
        assert response.status_code == 422
        assert response.json()["code"] == "webhook_event_type_not_routed"


def test_only_notifications_consumes_accounts_events():
    for event_type in ACCOUNT_EVENT_TYPES:
        assert [consumer.name for consumer in consumers_for(event_type)] == ["notifications"]


@pytest.mark.django_db(databases="__all__")  # demo_setup seeds the catalog too
def test_make_run_prints_a_demo_customer_whose_credentials_and_token_work(settings, tmp_path, sign_in):
    settings.VAR_DIR = tmp_path
    out = io.StringIO()
    call_command("demo_setup", products=0, stdout=out)
    lines = out.getvalue().splitlines()
    email, password = next(line for line in lines if line.startswith("Customer: "))[10:].split("  password: ")
    token = next(line for line in lines if line.startswith("Customer token")).rsplit("Bearer ", 1)[1]
    # The printed token works, and so do the printed email and password
    me = bearer(token).get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["email"] == email and me.json()["email_verified"] is True
    assert bearer(token).get("/api/v1/me/addresses/").json()[0]["city"] == "Berlin"
    assert sign_in(email, password).status_code == 200
    # and a second run keeps the password (var/customer-credentials.txt) and issues a new token
    again = io.StringIO()
    call_command("demo_setup", products=0, stdout=again)
    assert f"Customer: {email}  password: {password}" in again.getvalue()
    assert sign_in(email, PASSWORD).status_code == 401
