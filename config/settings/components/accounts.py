"""Settings owned by apps.accounts (read from the environment). Star-imported by base.py."""

import datetime as dt

from config.env import env

# Where the links in verification and reset emails point: the shop's front end, which posts the
# uid and token of the link to /api/v1/auth/email/verify/ or /api/v1/auth/password/reset/confirm/.
ACCOUNTS_FRONTEND_URL = env("ACCOUNTS_FRONTEND_URL", default="http://localhost:3000").rstrip("/")
ACCOUNTS_VERIFY_EMAIL_PATH = env("ACCOUNTS_VERIFY_EMAIL_PATH", default="/account/verify-email")
ACCOUNTS_RESET_PASSWORD_PATH = env("ACCOUNTS_RESET_PASSWORD_PATH", default="/account/reset-password")

# A verification link works this long; a reset link PASSWORD_RESET_TIMEOUT (Django's setting).
ACCOUNTS_EMAIL_VERIFICATION_TIMEOUT = env.int("ACCOUNTS_EMAIL_VERIFICATION_TIMEOUT", default=3 * 24 * 3600)
PASSWORD_RESET_TIMEOUT = env.int("ACCOUNTS_PASSWORD_RESET_TIMEOUT", default=3600)

# Customer credentials (django-rest-knox): sent as "Authorization: Bearer <token>", stored as a
# SHA-512 digest, valid this long unless refreshed (POST /api/v1/auth/token/refresh/).
ACCOUNTS_TOKEN_TTL_SECONDS = env.int("ACCOUNTS_TOKEN_TTL_SECONDS", default=24 * 3600)
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": dt.timedelta(seconds=ACCOUNTS_TOKEN_TTL_SECONDS),
    "AUTO_REFRESH": False,
}
# Sessions (tokens) one customer may hold; signing in past it ends the oldest.
ACCOUNTS_MAX_SESSIONS = env.int("ACCOUNTS_MAX_SESSIONS", default=20)
# Addresses one customer may keep.
ACCOUNTS_MAX_ADDRESSES = env.int("ACCOUNTS_MAX_ADDRESSES", default=50)

# Rate limits of the account flows, per client address and per account (the normalised email, or
# the account a link names), as DRF rates "<n>/<second|minute|hour|day>"; None turns one off.
ACCOUNTS_THROTTLE_RATES: dict[str, str | None] = {
    "signin_address": env("ACCOUNTS_THROTTLE_SIGNIN_ADDRESS", default="30/minute"),
    "signin_account": env("ACCOUNTS_THROTTLE_SIGNIN_ACCOUNT", default="10/minute"),
    "signup_address": env("ACCOUNTS_THROTTLE_SIGNUP_ADDRESS", default="20/hour"),
    "signup_account": env("ACCOUNTS_THROTTLE_SIGNUP_ACCOUNT", default="3/hour"),
    "password_reset_address": env("ACCOUNTS_THROTTLE_PASSWORD_RESET_ADDRESS", default="20/hour"),
    "password_reset_account": env("ACCOUNTS_THROTTLE_PASSWORD_RESET_ACCOUNT", default="3/hour"),
    "email_verification_address": env("ACCOUNTS_THROTTLE_EMAIL_VERIFICATION_ADDRESS", default="30/hour"),
    "email_verification_account": env("ACCOUNTS_THROTTLE_EMAIL_VERIFICATION_ACCOUNT", default="10/hour"),
}
