from rest_framework import serializers

from apps.accounts.models import Address, Customer
from apps.accounts.validation import country_codes

EMAIL_MAX = 150  # the login is auth.User.username, at most 150 characters
PASSWORD_MAX = 128
# A link's uid (base64 of the account id) and token ("<timestamp>-<hmac>"): short, URL-safe.
UID_PATTERN = r"^[A-Za-z0-9_-]{1,32}$"
LINK_CODE_PATTERN = r"^[0-9a-z]{1,13}-[0-9a-f]{1,64}$"


def _password(**kwargs) -> serializers.CharField:
    # Passwords are taken as typed: no trimming.
    return serializers.CharField(max_length=PASSWORD_MAX, trim_whitespace=False, write_only=True,
                                 style={"input_type": "password"}, **kwargs)


class SignUpSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=EMAIL_MAX, help_text="The login; case does not matter.")
    password = _password(help_text="Checked by the password rules (length, common, numeric, like the email).")
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    marketing_consent = serializers.BooleanField(required=False, default=False)


class SignInSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=EMAIL_MAX)
    password = _password()


class LinkSerializer(serializers.Serializer):
    """The uid and token of an emailed link (its query string)."""

    uid = serializers.RegexField(UID_PATTERN)
    token = serializers.RegexField(LINK_CODE_PATTERN)


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=EMAIL_MAX)


class PasswordResetConfirmSerializer(LinkSerializer):
    new_password = _password()


class PasswordChangeSerializer(serializers.Serializer):
    current_password = _password()
    new_password = _password()


class AccountDeleteSerializer(serializers.Serializer):
    password = _password(help_text="The account's current password.")


class AcceptedSerializer(serializers.Serializer):
    detail = serializers.CharField()


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Bearer <token>`. Shown once.")
    token_type = serializers.ChoiceField(choices=["Bearer"])
    token_key = serializers.CharField(help_text="Names this session in /api/v1/me/sessions/.")
    expiry = serializers.DateTimeField(help_text="Refresh before then (POST /api/v1/auth/token/refresh/).")


class EmailVerifiedSerializer(serializers.Serializer):
    email_verified = serializers.BooleanField()
    orders_attached = serializers.IntegerField(help_text="Earlier guest orders with this email, now in your history.")


class ProfileSerializer(serializers.ModelSerializer):
    first_name = serializers.CharField(source="user.first_name")
    last_name = serializers.CharField(source="user.last_name")
    email_verified = serializers.SerializerMethodField()
    date_joined = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Customer
        fields = ["email", "email_verified", "email_verified_at", "first_name", "last_name", "phone",
                  "marketing_consent", "marketing_consent_changed_at", "date_joined"]
        read_only_fields = fields

    def get_email_verified(self, customer) -> bool:
        return customer.email_verified_at is not None


class ProfileUpdateSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True,
                                  help_text='International format, stored as E.164 ("+4915123456789"); "" removes it.')
    marketing_consent = serializers.BooleanField(required=False)


class SessionSerializer(serializers.Serializer):
    token_key = serializers.CharField()
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField(allow_null=True)
    current = serializers.SerializerMethodField()

    def get_current(self, token) -> bool:
        presented = self.context.get("presented")
        return presented is not None and presented.pk == token.pk


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = ["id", "name", "company", "line1", "line2", "city", "region", "postal_code", "country", "phone",
                  "is_default_shipping", "is_default_billing", "created_at", "updated_at"]
        read_only_fields = fields


class AddressFieldsSerializer(serializers.Serializer):
    """The fields of a postal address as a client sends them (the address book's, and a cart's
    inline addresses through apps.accounts.api); apps.accounts.validation checks them."""

    name = serializers.CharField(max_length=255)
    company = serializers.CharField(max_length=255, required=False, allow_blank=True)
    line1 = serializers.CharField(max_length=255, help_text="Street and number.")
    line2 = serializers.CharField(max_length=255, required=False, allow_blank=True)
    city = serializers.CharField(max_length=255, required=False, allow_blank=True)
    region = serializers.CharField(max_length=255, required=False, allow_blank=True,
                                   help_text="State, province or county, where the country has them.")
    postal_code = serializers.CharField(max_length=32, required=False, allow_blank=True)
    country = serializers.ChoiceField(choices=country_codes(), help_text="ISO 3166-1 alpha-2, e.g. DE.")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)


class AddressInputSerializer(AddressFieldsSerializer):
    is_default_shipping = serializers.BooleanField(required=False)
    is_default_billing = serializers.BooleanField(required=False)
