"""Notification content from Django templates, per event type and channel:

    notifications/email/<event type>/subject.txt, body.txt, body.html
    notifications/sms/<event type>.txt

Rendered once when the delivery is created, so every retry sends the same content."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string


def _amount(value: Any) -> Any:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return value


def template_context(*, event_type: str, event_id: str, occurred_at: str, data: dict) -> dict[str, Any]:
    # Amounts travel as decimal strings; templates get Decimals (never floats).
    lines = [{**line, "unit_price": _amount(line.get("unit_price")), "line_total": _amount(line.get("line_total"))}
             for line in data.get("lines") or [] if isinstance(line, dict)]
    return {
        "shop_name": settings.NOTIFICATIONS_SHOP_NAME,
        "event_type": event_type,
        "event_id": event_id,
        "occurred_at": occurred_at,
        "data": data,
        "lines": lines,
        "total": _amount(data.get("total")),
        "subtotal": _amount(data.get("subtotal")),
        # Zero (falsy) or absent (version 1): the row is left out, but for shipping with a method.
        "shipping_total": _amount(data.get("shipping_total")),
        "discount_total": _amount(data.get("discount_total")),
        "tax_total": _amount(data.get("tax_total")),
        "amount": _amount(data.get("amount")),
    }


def email_render(event_type: str, context: dict[str, Any]) -> dict[str, str]:
    base = f"notifications/email/{event_type}"
    subject = " ".join(render_to_string(f"{base}/subject.txt", context).split())
    return {
        "subject": subject,
        "text": render_to_string(f"{base}/body.txt", context).strip() + "\n",
        "html": render_to_string(f"{base}/body.html", context),
    }


def sms_render(event_type: str, context: dict[str, Any]) -> dict[str, str]:
    return {"text": " ".join(render_to_string(f"notifications/sms/{event_type}.txt", context).split())}


def webhook_render(*, event_type: str, occurred_at: str, data: dict) -> dict[str, str]:
    """The Standard Webhooks payload shape: {"type", "timestamp", "data"}."""
    return {"body": json.dumps({"type": event_type, "timestamp": occurred_at, "data": data},
                               separators=(",", ":"), sort_keys=True)}
