"""Routes of apps.accounts under /api/v1/: auth/ (anyone) and me/ (the signed-in customer)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.accounts import views

router = SimpleRouter()
router.register("me/addresses", views.AddressViewSet, basename="address")
router.register("me/sessions", views.SessionViewSet, basename="session")

urlpatterns = [
    path("auth/signup/", views.SignUpView.as_view(), name="auth-signup"),
    path("auth/email/verify/", views.EmailVerifyView.as_view(), name="auth-email-verify"),
    path("auth/email/verification/", views.EmailVerificationView.as_view(), name="auth-email-verification"),
    path("auth/signin/", views.SignInView.as_view(), name="auth-signin"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="auth-token-refresh"),
    path("auth/signout/", views.SignOutView.as_view(), name="auth-signout"),
    path("auth/password/reset/", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path("auth/password/reset/confirm/", views.PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/password/", views.PasswordChangeView.as_view(), name="me-password"),
    path("me/delete/", views.AccountDeleteView.as_view(), name="me-delete"),
    *router.urls,
]
