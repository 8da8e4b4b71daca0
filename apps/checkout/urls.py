"""Routes of apps.checkout under /api/v1/."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from apps.checkout.views import CartViewSet
from apps.checkout.views_completion import CartCompleteView
from apps.common.http.routing import UUID_LOOKUP_REGEX

router = SimpleRouter()
router.register("carts", CartViewSet, basename="cart")

urlpatterns = [
    *router.urls,
    re_path(rf"^carts/(?P<pk>{UUID_LOOKUP_REGEX})/complete/$", CartCompleteView.as_view(), name="cart-complete"),
]
