"""The customer's profile, and deleting the account.

Deletion keeps the auth.User row, scrubbed and deactivated, because past orders point at it and
stay for accounting; apps.orders removes their personal data."""

from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.utils import timezone

from apps.accounts.errors import OrdersStillOpen, PasswordIncorrect
from apps.accounts.models import Customer
from apps.accounts.selectors import customer_of
from apps.accounts.services.sessions import sessions_end_all
from apps.accounts.validation import phone_normalize
from apps.orders import api as orders

logger = logging.getLogger(__name__)

_UNSET = object()


def customer_update(*, user, first_name=_UNSET, last_name=_UNSET, phone=_UNSET,
                    marketing_consent=_UNSET) -> Customer:
    """Change what is given; the phone is stored in E.164 (PhoneInvalid otherwise)."""
    customer = customer_of(user=user)
    if phone is not _UNSET:
        phone = phone_normalize(phone)
    now = timezone.now()
    with transaction.atomic():
        customer = Customer.objects.select_for_update().select_related("user").get(pk=customer.pk)
        account = customer.user
        if first_name is not _UNSET:
            account.first_name = first_name
        if last_name is not _UNSET:
            account.last_name = last_name
        account.save(update_fields=["first_name", "last_name"])
        if phone is not _UNSET:
            customer.phone = phone
        if marketing_consent is not _UNSET and marketing_consent != customer.marketing_consent:
            customer.marketing_consent, customer.marketing_consent_changed_at = marketing_consent, now
        customer.updated_at = now
        customer.save()
    return customer


def customer_delete(*, user, password: str) -> int:
    """Delete the account's personal data: profile and address book go, the user row is scrubbed
    and deactivated, every credential is revoked, and its orders are anonymised (they stay, for
    accounting). Refused while an order is still to be shipped. Returns how many orders changed."""
    customer = customer_of(user=user)
    if not user.check_password(password):
        logger.warning("account deletion refused for account %s: wrong password", user.pk)
        raise PasswordIncorrect()
    if open_orders := orders.customer_orders_open(customer_id=user.pk):
        # Their address and contact are still needed to deliver them.
        raise OrdersStillOpen(extra={"open_orders": open_orders})
    with transaction.atomic():
        Customer.objects.filter(pk=customer.pk).delete()  # its addresses too
        sessions_end_all(user=user)
        anonymised = orders.customer_orders_anonymise(customer_id=user.pk)
        user.username = f"deleted-{uuid.uuid4().hex}"
        user.email = user.first_name = user.last_name = ""
        user.set_unusable_password()
        user.is_active = False
        user.save(update_fields=["username", "email", "first_name", "last_name", "password", "is_active"])
    logger.info("account %s deleted; %d orders anonymised", user.pk, anonymised)
    return anonymised
