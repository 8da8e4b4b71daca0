"""Routes of apps.checkout under /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.checkout.views import CartViewSet

router = SimpleRouter()
router.register("carts", CartViewSet, basename="cart")

urlpatterns = [*router.urls]
