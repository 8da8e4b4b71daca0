"""Routes of apps.payments under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.payments.views import PaymentViewSet, WebhookView

router = SimpleRouter()
router.register("payments", PaymentViewSet, basename="payment")

urlpatterns = [
    path("payments/webhooks/<slug:provider>/", WebhookView.as_view(), name="payment-webhook"),
    *router.urls,
]
