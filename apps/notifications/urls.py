"""Routes of apps.notifications under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.notifications.views import DeadLettersView, DeliveryViewSet, WebhookEndpointViewSet

router = SimpleRouter()
router.register("notifications/webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("notifications/deliveries", DeliveryViewSet, basename="delivery")

urlpatterns = [
    path("notifications/dead-letters/", DeadLettersView.as_view(), name="notifications-dead-letters"),
    *router.urls,
]
