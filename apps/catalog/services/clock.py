"""Catalog time. MongoDB stores milliseconds, so every time the services write and compare is
cut to them; a write marked longer ago than the grace period is taken for abandoned."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone


def catalog_now() -> datetime:
    """Now, at millisecond precision: what MongoDB stores, so equality filters hold on every engine."""
    now = timezone.now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def settle_grace() -> timedelta:
    """How long a write may stay marked (in flight) before the sweeper settles it."""
    return timedelta(seconds=settings.CATALOG_SETTLE_GRACE_SECONDS)
