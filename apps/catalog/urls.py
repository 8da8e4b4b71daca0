"""Routes of apps.catalog under /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.catalog.fast import with_fast_reads
from apps.catalog.views import ProductViewSet

router = SimpleRouter()
router.register("products", ProductViewSet, basename="product")

# The list's and the detail's anonymous cached reads are answered before DRF (apps.catalog.fast).
urlpatterns = [with_fast_reads(route) for route in router.urls]
