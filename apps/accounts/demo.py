"""The demo customer `make run` creates: a verified account with an address, whose password is
kept in var/customer-credentials.txt (made once, like the staff credentials) and for which a new
token is issued at every run."""

from __future__ import annotations

import dataclasses
import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Address, Customer
from apps.accounts.services.sessions import session_issue
from apps.accounts.types import IssuedToken

DEMO_EMAIL = "demo.customer@example.com"


@dataclasses.dataclass(frozen=True)
class DemoCustomer:
    email: str
    password: str
    issued: IssuedToken


def demo_customer(*, credentials: Path) -> DemoCustomer:
    User = get_user_model()
    user = User.objects.filter(username=DEMO_EMAIL).first()
    if user is None or not credentials.exists():
        password = secrets.token_urlsafe(12)
        with transaction.atomic():
            user = user or User(username=DEMO_EMAIL, email=DEMO_EMAIL, first_name="Demo", last_name="Customer")
            user.set_password(password)
            user.is_active = True
            user.save()
            _profile(user)
        _write_private(credentials, f"{DEMO_EMAIL} {password}\n")
    email, password = credentials.read_text().split()
    return DemoCustomer(email=email, password=password, issued=session_issue(user=user))


def _profile(user) -> None:
    now = timezone.now()
    customer, created = Customer.objects.get_or_create(
        user=user, defaults={"email": DEMO_EMAIL, "email_verified_at": now, "created_at": now, "updated_at": now})
    if created:
        Address.objects.create(customer=customer, name="Demo Customer", line1="Heidestrasse 17", city="Berlin",
                               postal_code="10557", country="DE", is_default_shipping=True, is_default_billing=True,
                               created_at=now, updated_at=now)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)
