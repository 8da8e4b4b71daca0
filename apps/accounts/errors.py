"""Typed errors of apps.accounts; the API answers each as problem+json with its code."""

from apps.common.http.problems import ApplicationError


class InvalidCredentials(ApplicationError):
    code, status, title = "invalid_credentials", 401, "The email or the password is not right."

    def __init__(self, detail: str | None = None, **kwargs):
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="api"'}, **kwargs)


class LinkInvalid(ApplicationError):
    """Also for a link that was used already or has expired: the answer does not say which."""

    code, status, title = "link_invalid", 422, "The link is not valid: it has expired or was used already."


class PasswordRejected(ApplicationError):
    code, status, title = "password_rejected", 422, "The password does not meet the password rules."


class PasswordIncorrect(ApplicationError):
    code, status, title = "password_incorrect", 422, "The current password is not right."


class PhoneInvalid(ApplicationError):
    code, status, title = "phone_invalid", 422, "The phone number is not a valid international (E.164) number."


class AddressInvalid(ApplicationError):
    code, status, title = "address_invalid", 422, "The address is not valid for its country."


class AddressBookFull(ApplicationError):
    code, status, title = "address_book_full", 409, "The address book has no room for another address."


class NotACustomer(ApplicationError):
    code, status, title = "not_a_customer", 403, "Only customer accounts have a profile and an address book."


class EmailVerifiedAlready(ApplicationError):
    code, status, title = "email_verified_already", 409, "The email address is verified already."


class OrdersStillOpen(ApplicationError):
    code, status, title = ("orders_still_open", 409,
                           "The account has orders still to be shipped: wait for them, or cancel them, first.")
