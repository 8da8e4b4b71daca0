"""Admin: payments read-only with their transaction log; a refund action that asks for the amount."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from apps.payments import api
from apps.payments.models import Payment
from tests.payments.conftest import authorize

CHANGELIST = "/admin/payments/payment/"


@pytest.fixture
def admin_client(client, db):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-1"))
    return client


def _captured(amount="80.00"):
    info = authorize(amount=amount)
    return api.payment_capture(payment_id=info.payment_id, idempotency_key=f"cap-{info.payment_id}")


@pytest.mark.django_db
def test_the_payment_page_is_read_only_with_its_transaction_log(admin_client):
    info = _captured()
    page = admin_client.get(f"{CHANGELIST}{info.payment_id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "transaction log" in html.lower()
    assert "capture" in html and "succeeded" in html
    assert 'name="_save"' not in html
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.post(f"{CHANGELIST}{info.payment_id}/delete/", {"post": "yes"}).status_code == 403
    assert Payment.objects.filter(pk=info.payment_id).exists()


@pytest.mark.django_db
def test_the_refund_action_asks_for_the_amount_then_refunds_once(admin_client):
    info = _captured("80.00")
    ask = admin_client.post(CHANGELIST, {"action": "refund_payments", "_selected_action": [str(info.payment_id)]})
    assert ask.status_code == 200
    assert 'name="amount"' in ask.content.decode()
    assert Payment.objects.get().amount_refunded == 0
    token = ask.context["form"].initial["refund_token"]

    form = {"action": "refund_payments", "_selected_action": [str(info.payment_id)], "apply": "1",
            "refund_token": token, "amount": "25.00"}
    done = admin_client.post(CHANGELIST, form, follow=True)
    assert "refunded" in done.content.decode()
    admin_client.post(CHANGELIST, form, follow=True)  # the same form sent again
    payment = Payment.objects.get()
    assert (payment.status, payment.amount_refunded) == ("partially_refunded", Decimal("25.00"))
    assert payment.refunds.count() == 1


@pytest.mark.django_db
def test_an_invalid_amount_shows_the_form_again_and_refunds_nothing(admin_client):
    info = _captured()
    again = admin_client.post(CHANGELIST, {"action": "refund_payments", "_selected_action": [str(info.payment_id)],
                                           "apply": "1", "refund_token": "t", "amount": "-3"})
    assert again.status_code == 200
    assert "errorlist" in again.content.decode()
    assert Payment.objects.get().amount_refunded == 0


@pytest.mark.django_db
def test_a_refund_the_payment_does_not_allow_is_reported_not_applied(admin_client):
    info = authorize()  # authorized, not captured
    response = admin_client.post(CHANGELIST, {
        "action": "refund_payments", "_selected_action": [str(info.payment_id)], "apply": "1",
        "refund_token": "t", "amount": "5.00"}, follow=True)
    assert "not refunded" in response.content.decode()
    assert Payment.objects.get().amount_refunded == 0
