"""Staff see the projections in the admin, and cannot change them: events are their only writer."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.reporting.models import DailySales, OrderReport
from apps.reporting.services.consumer import reporting_event_apply
from tests.reporting.factories import T0, OrderStory, PaymentStory

pytestmark = pytest.mark.django_db(databases=["default", "reporting"])


@pytest.fixture
def story():
    story = OrderStory.new(total=Decimal("45.00"))
    payment = PaymentStory(order_id=story.order_id)
    for event in (story.place(T0), story.refund("5.00", T0), payment.authorize(T0)):
        reporting_event_apply(event)
    return story


@pytest.mark.parametrize("model", ["orderreport", "dailysales", "orderrefund", "paymentreport", "inboxevent"])
def test_each_projection_has_a_read_only_admin_list(admin_client, story, model):
    response = admin_client.get(reverse(f"admin:reporting_{model}_changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1
    assert reverse(f"admin:reporting_{model}_add") not in response.content.decode()
    assert admin_client.get(reverse(f"admin:reporting_{model}_add")).status_code == 403


def test_an_order_report_opens_read_only_and_cannot_be_edited_or_deleted(admin_client, story):
    change_url = reverse("admin:reporting_orderreport_change", args=[story.order_id])

    page = admin_client.get(change_url)
    assert page.status_code == 200
    assert story.placed.number in page.content.decode()
    assert 'name="_save"' not in page.content.decode()

    assert admin_client.post(change_url, {"status": "cancelled"}).status_code == 403
    assert admin_client.post(reverse("admin:reporting_orderreport_delete", args=[story.order_id]),
                             {"post": "yes"}).status_code == 403
    assert OrderReport.objects.get(pk=story.order_id).status == "partially_refunded"


def test_staff_find_an_order_report_by_number_or_order_id(admin_client, story):
    other = OrderStory.new()
    reporting_event_apply(other.place(T0))
    url = reverse("admin:reporting_orderreport_changelist")

    by_number = admin_client.get(url, {"q": story.placed.number}).context["cl"].result_list
    by_id = admin_client.get(url, {"q": str(story.order_id)}).context["cl"].result_list

    assert [row.order_id for row in by_number] == [story.order_id]
    assert [row.order_id for row in by_id] == [story.order_id]


def test_refunds_are_found_by_order_id_and_other_searches_find_nothing(admin_client, story):
    url = reverse("admin:reporting_orderrefund_changelist")

    assert admin_client.get(url, {"q": str(story.order_id)}).context["cl"].result_count == 1
    assert admin_client.get(url, {"q": "not-an-id"}).context["cl"].result_count == 0


def test_the_bulk_delete_action_is_not_offered(admin_client, story):
    response = admin_client.get(reverse("admin:reporting_dailysales_changelist"))

    assert "delete_selected" not in response.content.decode()
    assert DailySales.objects.count() == 1
