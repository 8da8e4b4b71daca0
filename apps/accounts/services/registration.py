"""Sign-up and email verification.

Sign-up answers alike for a new and a registered email, and does the same work for both (one
password hash, one outbox event): a new email gets an account and a verification email, a
registered one gets an email telling its owner. Verifying the email attaches the customer's
earlier guest orders (same email) to their order history."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts import selectors
from apps.accounts.errors import EmailVerifiedAlready, LinkInvalid
from apps.accounts.events import DuplicateSignupAttempted, EmailVerificationRequested
from apps.accounts.models import Customer
from apps.accounts.services.links import link_email
from apps.accounts.tokens import email_verification_tokens
from apps.accounts.types import EmailVerified
from apps.accounts.validation import email_digest, email_normalize, password_check
from apps.common.messaging.events import event_record
from apps.orders import api as orders

logger = logging.getLogger(__name__)


def customer_sign_up(*, email: str, password: str, first_name: str = "", last_name: str = "",
                     marketing_consent: bool = False) -> None:
    """Create the customer and email a verification link, or, for a registered email, email its
    owner that someone tried to sign up with it. The caller cannot tell which happened."""
    email = email_normalize(email)
    User = get_user_model()
    # Before anything is looked up, so that a refused password says nothing about the email.
    password_check(password, user=User(username=email, email=email, first_name=first_name, last_name=last_name))
    existing = selectors.customer_by_email(email=email)
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(username=email, email=email, password=password,
                                                first_name=first_name, last_name=last_name)
                now = timezone.now()
                Customer.objects.create(user=user, email=email, marketing_consent=marketing_consent,
                                        marketing_consent_changed_at=now if marketing_consent else None,
                                        created_at=now, updated_at=now)
                email_verification_request(user=user)
            logger.info("sign-up: account created for %s", email_digest(email),
                        extra={"account": email_digest(email)})
            return
        except IntegrityError:
            # The same email signed up at the same moment (or a staff user has it as username).
            existing = selectors.customer_by_email(email=email)
    else:
        make_password(password)  # the hash a new account costs: both answers take as long
    if existing is None:
        logger.warning("sign-up: %s is taken by an account that is not a customer", email_digest(email))
        return
    with transaction.atomic():
        event_record(DuplicateSignupAttempted(customer_id=existing.user_id, email=existing.email,
                                              first_name=existing.user.first_name))
    logger.info("sign-up: %s is registered; its owner is told", email_digest(email),
                extra={"account": email_digest(email)})


def email_verification_request(*, user) -> None:
    """Record the event that emails the customer a verification link (a new one each time)."""
    customer = user.customer
    if customer.email_verified_at is not None:
        raise EmailVerifiedAlready()
    link_email(EmailVerificationRequested, customer=customer, tokens=email_verification_tokens,
               path=settings.ACCOUNTS_VERIFY_EMAIL_PATH, lifetime=settings.ACCOUNTS_EMAIL_VERIFICATION_TIMEOUT)


def email_verify(*, uid: str, token: str) -> EmailVerified:
    """Mark the email verified if the link is valid (once: the token covers the verified state)
    and attach the earlier guest orders placed with it."""
    user = selectors.customer_user_by_uid(uid=uid)
    if user is None or not email_verification_tokens.check_token(user, token):
        raise LinkInvalid()
    with transaction.atomic():
        customer = Customer.objects.select_for_update().select_related("user").get(user_id=user.pk)
        if not email_verification_tokens.check_token(customer.user, token):  # used meanwhile
            raise LinkInvalid()
        customer.email_verified_at = customer.updated_at = timezone.now()
        customer.save(update_fields=["email_verified_at", "updated_at"])
        attached = orders.guest_orders_attach(email=customer.email, customer_id=user.pk)
    logger.info("email verified for %s; %d guest orders attached", email_digest(customer.email), attached)
    return EmailVerified(customer_id=user.pk, orders_attached=attached)
