"""SMS gateway adapters: a console one (the embedded default) and an HTTP one.

The HTTP gateway receives POST {"to": "+4915...", "body": "..."} with a bearer token and an
Idempotency-Key (the delivery's key), so a gateway that supports it sends a retried message once."""

from __future__ import annotations

import re
import sys
from typing import Protocol, TextIO

import requests
from django.conf import settings

from apps.notifications.outcomes import DeliveryFailed, SendResult, http_post

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def phone_normalize(raw: str) -> str:
    """Drop the separators people type; keep a leading +. Validity is checked at send."""
    return re.sub(r"[\s().-]", "", raw or "")


class SmsGateway(Protocol):
    def send(self, *, to: str, body: str, key: str) -> SendResult: ...


class ConsoleSmsGateway:
    def __init__(self, stream: TextIO | None = None):
        self.stream = stream

    def send(self, *, to: str, body: str, key: str) -> SendResult:
        stream = self.stream or sys.stdout
        stream.write(f"SMS to {to} [{key}]\n{body}\n{'-' * 40}\n")
        stream.flush()
        return SendResult()


class HttpSmsGateway:
    def __init__(self, *, url: str, token: str, timeout: float):
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, *, to: str, body: str, key: str) -> SendResult:
        if not self.url:
            raise DeliveryFailed("NOTIFICATIONS_SMS_GATEWAY_URL is not set", permanent=False)
        headers = {"Idempotency-Key": key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return http_post(requests, self.url, receiver="the SMS gateway", json={"to": to, "body": body},
                         headers=headers, timeout=self.timeout)


def sms_gateway() -> SmsGateway:
    backend = settings.NOTIFICATIONS_SMS_BACKEND
    if backend == "http":
        return HttpSmsGateway(url=settings.NOTIFICATIONS_SMS_GATEWAY_URL,
                              token=settings.NOTIFICATIONS_SMS_GATEWAY_TOKEN,
                              timeout=settings.NOTIFICATIONS_SMS_TIMEOUT_SECONDS)
    if backend == "console":
        return ConsoleSmsGateway()
    raise ValueError(f"unknown NOTIFICATIONS_SMS_BACKEND {backend!r} (console or http)")
