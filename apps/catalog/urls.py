"""Routes of apps.catalog under /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.catalog.views import ProductViewSet

router = SimpleRouter()
router.register("products", ProductViewSet, basename="product")

urlpatterns = [*router.urls]
