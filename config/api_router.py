"""/api/v1/: each module owns its routes in apps/<app>/urls.py."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

MODULES = ("accounts", "catalog", "orders", "payments", "notifications", "reporting", "checkout")

urlpatterns = [
    *DefaultRouter().urls,  # the API root
    *(path("", include(f"apps.{module}.urls")) for module in MODULES),
]
