"""Reads of apps.accounts. A customer sees only their own profile, addresses and sessions:
another customer's address or session is 404, whether it exists or not."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from knox.models import AuthToken

from apps.accounts.errors import NotACustomer
from apps.accounts.models import Address, Customer
from apps.accounts.tokens import uid_decode
from apps.common.http.problems import NotFound


def customer_of(*, user) -> Customer:
    """The signed-in user's profile; staff and integration users have none (403 not_a_customer)."""
    customer = Customer.objects.filter(user_id=user.pk).select_related("user").first()
    if customer is None:
        raise NotACustomer()
    return customer


def customer_by_email(*, email: str) -> Customer | None:
    """The active customer with this normalised email."""
    return Customer.objects.filter(email=email, user__is_active=True).select_related("user").first()


def customer_user_by_uid(*, uid: str):
    """The active customer account a link's uid names, or None."""
    user_id = uid_decode(uid)
    if user_id is None:
        return None
    User = get_user_model()
    return User.objects.filter(pk=user_id, is_active=True, customer__isnull=False).select_related("customer").first()


def address_list(*, user) -> QuerySet[Address]:
    return Address.objects.filter(customer__user_id=user.pk)


def address_get(*, user, address_id: UUID | str) -> Address:
    try:
        return address_list(user=user).get(pk=address_id)
    except (Address.DoesNotExist, ValueError, ValidationError) as exc:
        raise NotFound("No such address.") from exc


def session_list(*, user) -> QuerySet[AuthToken]:
    """The user's customer credentials (knox tokens), newest first; expired ones are left out."""
    unexpired = Q(expiry__isnull=True) | Q(expiry__gt=timezone.now())
    return AuthToken.objects.filter(unexpired, user_id=user.pk).order_by("-created")
