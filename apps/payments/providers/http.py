"""The "http" provider: a processor's REST API at PAYMENTS_HTTP_BASE_URL.

Every request carries `Authorization: Bearer <PAYMENTS_HTTP_SECRET>` and our `Idempotency-Key`,
with a connect timeout and a read timeout. Amounts travel as decimal strings, never floats.

    POST {base}/authorizations                   {"amount", "currency", "token"}
    POST {base}/authorizations/{ref}/captures    {"amount", "currency"}
    POST {base}/authorizations/{ref}/void        {}
    POST {base}/authorizations/{ref}/refunds     {"amount", "currency"}
    GET  {base}/operations/{idempotency key}     the outcome of an earlier request; 404: never received

Answers: 2xx {"id", "status": "approved|declined|failed", "decline_code", "message"};
402 is a decline; another 4xx is a refusal of the request (declined, "request_refused");
5xx, a read timeout or a broken answer leave the outcome unknown; a refused or timed-out
connection means the request never arrived."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests
from django.core.exceptions import ImproperlyConfigured
from urllib3.exceptions import NewConnectionError

from apps.payments.providers.base import (
    Outcome,
    PaymentProvider,
    ProviderNotReached,
    ProviderOutcomeUnknown,
    ProviderResult,
)


def _never_sent(exc: requests.ConnectionError) -> bool:
    """A connection that was never established: refused, unresolvable or timed out while
    connecting. A connection dropped after the request went out ("Connection aborted") is not."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


class HttpProvider(PaymentProvider):
    name = "http"

    def __init__(self, *, base_url: str, secret: str, connect_timeout: float, read_timeout: float,
                 session: requests.Session | None = None):
        if not base_url or not secret:
            raise ImproperlyConfigured("The http payment provider needs PAYMENTS_HTTP_BASE_URL and "
                                       "PAYMENTS_HTTP_SECRET.")
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.timeout = (connect_timeout, read_timeout)
        self.session = session or requests.Session()

    def _request(self, method: str, path: str, *, idempotency_key: str, body: dict | None = None) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.secret}", "Idempotency-Key": idempotency_key,
                   "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        try:
            return self.session.request(method, f"{self.base_url}{path}", data=data, headers=headers,
                                        timeout=self.timeout, allow_redirects=False)
        except requests.ConnectionError as exc:
            if _never_sent(exc):
                raise ProviderNotReached(f"http: could not connect: {type(exc).__name__}") from exc
            raise ProviderOutcomeUnknown(f"http: connection lost: {type(exc).__name__}") from exc
        except requests.Timeout as exc:
            raise ProviderOutcomeUnknown(f"http: no answer within {self.timeout[1]}s") from exc
        except requests.RequestException as exc:
            raise ProviderOutcomeUnknown(f"http: broken answer: {type(exc).__name__}") from exc

    @staticmethod
    def _json(response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise ProviderOutcomeUnknown(f"http: {response.status_code} answer is not JSON") from exc
        if not isinstance(body, dict):
            raise ProviderOutcomeUnknown(f"http: {response.status_code} answer is not an object")
        return body

    def _result(self, response: requests.Response) -> ProviderResult:
        if response.status_code >= 500:
            raise ProviderOutcomeUnknown(f"http: the processor answered {response.status_code}")
        if response.status_code >= 400:
            try:
                body = self._json(response)
            except ProviderOutcomeUnknown:
                body = {}
            code = str(body.get("decline_code") or ("card_declined" if response.status_code == 402
                                                      else "request_refused"))
            return ProviderResult(outcome=Outcome.DECLINED, decline_code=code,
                                  message=str(body.get("message") or f"HTTP {response.status_code}")[:255],
                                  raw={"http_status": response.status_code, **body})
        body = self._json(response)
        try:
            outcome = Outcome(body.get("status"))
        except ValueError as exc:
            raise ProviderOutcomeUnknown(f"http: unknown status {body.get('status')!r}") from exc
        return ProviderResult(outcome=outcome, reference=str(body.get("id") or ""),
                              decline_code=str(body.get("decline_code") or ""),
                              message=str(body.get("message") or "")[:255],
                              raw={"http_status": response.status_code, **body})

    def _post(self, path: str, body: dict, idempotency_key: str) -> ProviderResult:
        return self._result(self._request("POST", path, idempotency_key=idempotency_key, body=body))

    def authorize(self, *, amount: Decimal, currency: str, token: str, idempotency_key: str) -> ProviderResult:
        return self._post("/authorizations", {"amount": str(amount), "currency": currency, "token": token},
                          idempotency_key)

    def capture(self, *, reference: str, amount: Decimal, currency: str, idempotency_key: str) -> ProviderResult:
        return self._post(f"/authorizations/{quote(reference, safe='')}/captures",
                          {"amount": str(amount), "currency": currency}, idempotency_key)

    def void(self, *, reference: str, idempotency_key: str) -> ProviderResult:
        return self._post(f"/authorizations/{quote(reference, safe='')}/void", {}, idempotency_key)

    def refund(self, *, reference: str, amount: Decimal, currency: str, idempotency_key: str) -> ProviderResult:
        return self._post(f"/authorizations/{quote(reference, safe='')}/refunds",
                          {"amount": str(amount), "currency": currency}, idempotency_key)

    def lookup(self, *, idempotency_key: str) -> ProviderResult | None:
        response = self._request("GET", f"/operations/{quote(idempotency_key, safe='')}",
                                 idempotency_key=idempotency_key)
        if response.status_code == 404:
            return None
        result = self._result(response)
        if result.raw.get("http_status", 200) >= 400:
            raise ProviderOutcomeUnknown(f"http: lookup answered {response.status_code}")
        return result
