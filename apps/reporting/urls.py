"""Routes of apps.reporting under /api/v1/."""

from django.urls import path

from apps.reporting import views

urlpatterns = [
    path("reports/daily-sales/", views.DailySalesReportView.as_view(), name="report-daily-sales"),
    path("reports/daily-sales/export.csv", views.DailySalesExportView.as_view(), name="report-daily-sales-export"),
    path("reports/orders/", views.OrderReportView.as_view(), name="report-orders"),
    path("reports/orders/export.csv", views.OrderReportExportView.as_view(), name="report-orders-export"),
    path("reports/promotions/", views.PromotionUsageReportView.as_view(), name="report-promotions"),
    path("reports/vouchers/", views.VoucherUsageReportView.as_view(), name="report-vouchers"),
]
