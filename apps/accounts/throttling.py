"""Rate limits of the account flows (sign-in, sign-up, password reset, email verification): one
fixed window per client address and one per account, each flow with its own rates
(ACCOUNTS_THROTTLE_RATES, read at each request so that tests and operators can change them).

The account is the normalised email of the body, hashed (never written to the cache in clear),
or the account a link's uid names, or the signed-in user. The key does not depend on whether
the email is registered: a known and an unknown email are limited alike."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from apps.accounts.validation import email_digest
from apps.common.http.throttling import FixedWindowMixin


class _AccountFlowThrottle(FixedWindowMixin, SimpleRateThrottle):
    """The view's `throttle_scope` ("signin", ...) + this class's dimension names the rate."""

    dimension = ""

    def __init__(self):
        # SimpleRateThrottle reads its rate in __init__, before it knows the view: allow_request does.
        self.rate = None

    def allow_request(self, request, view) -> bool:
        self.scope = f"{view.throttle_scope}_{self.dimension}"
        self.rate = settings.ACCOUNTS_THROTTLE_RATES.get(self.scope)
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str | None:
        ident = self.ident(request)
        return None if ident is None else f"throttle_{self.scope}_{ident}"

    def ident(self, request) -> str | None:
        raise NotImplementedError


class ClientAddressThrottle(_AccountFlowThrottle):
    """Per client address (REMOTE_ADDR, or X-Forwarded-For behind NUM_PROXIES proxies)."""

    dimension = "address"

    def ident(self, request) -> str | None:
        return self.get_ident(request)


class AccountThrottle(_AccountFlowThrottle):
    dimension = "account"

    def ident(self, request) -> str | None:
        data = request.data if isinstance(request.data, dict) else {}
        if isinstance(data.get("email"), str) and data["email"].strip():
            return f"email:{email_digest(data['email'])}"
        if isinstance(data.get("uid"), str) and data["uid"].strip():
            return f"uid:{data['uid'].strip()[:64]}"
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        return None
