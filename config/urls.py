from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.common.http.problems import problem_type
from apps.common.observability.health import healthz, readyz
from apps.common.observability.metrics import metrics_view
from config.api_router import urlpatterns as api_v1

handler400 = "apps.common.http.problems.bad_request"
handler403 = "apps.common.http.problems.permission_denied"
handler404 = "apps.common.http.problems.page_not_found"
handler500 = "apps.common.http.problems.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("api/v1/", include((api_v1, "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("problems/<slug:code>", problem_type, name="problem-type"),
    path("admin/", admin.site.urls),
]
