from django.urls import path

from bench import views
from config.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    path("bench/hello", views.hello),
    path("bench/insert", views.insert),
    path("bench/products/<str:sku>", views.product_values),
    path("bench/products", views.product_list_values),
    *app_urlpatterns,
]
