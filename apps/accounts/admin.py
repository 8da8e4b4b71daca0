"""Staff look at customer accounts here (accounts.view_customer, accounts.view_address); they do
not edit them. Customers change their own data through /api/v1/me/; deletion is theirs too."""

from django.contrib import admin

from apps.accounts.models import Address, Customer
from apps.common.admin import ReadOnlyInline, ReadOnlyModelAdmin


class AddressInline(ReadOnlyInline):
    model = Address
    fields = readonly_fields = ["name", "company", "line1", "line2", "city", "region", "postal_code", "country",
                                "phone", "is_default_shipping", "is_default_billing"]


@admin.register(Customer)
class CustomerAdmin(ReadOnlyModelAdmin):
    list_display = ["email", "name", "email_verified_at", "marketing_consent", "created_at"]
    list_filter = ["marketing_consent", ("email_verified_at", admin.EmptyFieldListFilter)]
    search_fields = ["email", "user__first_name", "user__last_name"]
    readonly_fields = ["user", "email", "phone", "marketing_consent", "marketing_consent_changed_at",
                       "email_verified_at", "created_at", "updated_at"]
    inlines = [AddressInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    @admin.display(description="name")
    def name(self, customer):
        return customer.user.get_full_name()


@admin.register(Address)
class AddressAdmin(ReadOnlyModelAdmin):
    list_display = ["name", "city", "postal_code", "country", "customer"]
    list_filter = ["country"]
    search_fields = ["customer__email", "name", "postal_code"]
    readonly_fields = ["customer", *AddressInline.fields, "created_at", "updated_at"]
