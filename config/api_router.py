"""The /api/v1/ router: every module registers its viewsets and extra routes here."""

from rest_framework.routers import DefaultRouter

router = DefaultRouter()

urlpatterns = [*router.urls]
