"""The three channels. Each sends one delivery's frozen payload and returns a SendResult or
raises DeliveryFailed (permanent or transient)."""

from __future__ import annotations

import smtplib
import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import validate_email
from django.utils import timezone

from apps.notifications.models import Channel, Delivery
from apps.notifications.outcomes import DeliveryFailed, SendResult, http_post
from apps.notifications.signing import signature_header
from apps.notifications.sms import E164, sms_gateway
from apps.notifications.ssrf import UnsafeDestination, url_check, webhook_session


def channel_send(delivery: Delivery) -> SendResult:
    senders = {Channel.EMAIL: email_send, Channel.SMS: sms_send, Channel.WEBHOOK: webhook_send}
    return senders[delivery.channel](delivery)


def email_send(delivery: Delivery) -> SendResult:
    try:
        validate_email(delivery.recipient)
    except ValidationError as exc:
        raise DeliveryFailed(f"invalid email address {delivery.recipient!r}", permanent=True) from exc
    content = delivery.payload
    message = EmailMultiAlternatives(
        subject=content["subject"], body=content["text"],
        from_email=settings.NOTIFICATIONS_FROM_EMAIL or settings.DEFAULT_FROM_EMAIL, to=[delivery.recipient],
        headers={"X-Event-Id": str(delivery.event_id), "X-Event-Type": delivery.event_type},
    )
    if content.get("html"):
        message.attach_alternative(content["html"], "text/html")
    try:
        connection = get_connection(timeout=settings.NOTIFICATIONS_EMAIL_TIMEOUT_SECONDS)
        connection.send_messages([message])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        transient = all(400 <= code < 500 for code in codes)
        raise DeliveryFailed(f"recipient refused: {exc.recipients}", permanent=not transient,
                             status_code=codes[0] if codes else None) from exc
    except smtplib.SMTPResponseException as exc:
        raise DeliveryFailed(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500,
                             status_code=exc.smtp_code) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"SMTP unavailable: {exc!r}", permanent=False) from exc
    return SendResult(status_code=250)


def sms_send(delivery: Delivery) -> SendResult:
    if not E164.match(delivery.recipient):
        raise DeliveryFailed(f"invalid phone number {delivery.recipient!r}", permanent=True)
    return sms_gateway().send(to=delivery.recipient, body=delivery.payload["text"], key=delivery_key(delivery))


def webhook_send(delivery: Delivery) -> SendResult:
    endpoint = delivery.endpoint
    if endpoint is None:
        raise DeliveryFailed("the webhook endpoint was deleted", permanent=True)
    if not endpoint.is_active:
        raise DeliveryFailed("the webhook endpoint is disabled", permanent=True)
    body = delivery.payload["body"].encode()
    msg_id = str(delivery.event_id)  # stable across retries: receivers dedupe on it
    timestamp = str(int(time.time()))
    secrets_in_force = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and \
            endpoint.previous_secret_expires_at > timezone.now():
        secrets_in_force.append(endpoint.previous_secret)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": signature_header(secrets_in_force, msg_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": "commerce-webhooks/1",
    }
    try:
        url_check(endpoint.url)
        return http_post(webhook_session(), endpoint.url, receiver="the endpoint", data=body, headers=headers,
                         timeout=settings.NOTIFICATIONS_WEBHOOK_TIMEOUT_SECONDS)
    except UnsafeDestination as exc:
        raise DeliveryFailed(f"refused: {exc}", permanent=True) from exc


def delivery_key(delivery: Delivery) -> str:
    return f"{delivery.event_id}:{delivery.channel}:{delivery.recipient}"
