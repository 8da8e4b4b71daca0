"""Checkout's typed application errors; each code is part of the API contract."""

from apps.common.http.problems import ApplicationError, NotFound


class CartNotFound(NotFound):
    """No such cart for this caller: unknown, expired, another customer's, or a wrong cart token."""


class CartLineNotFound(NotFound):
    pass


class CartCodeNotFound(NotFound):
    """DELETE of a voucher code the cart does not hold."""


class CartClosed(ApplicationError):
    code, status, title = "cart_closed", 409, "The cart is closed and can no longer change."


class CartProductUnavailable(ApplicationError):
    code, status, title = "cart_product_unavailable", 422, "The product is unknown or not for sale."


class CartCurrencyMismatch(ApplicationError):
    code, status, title = "cart_currency_mismatch", 422, "The product is not sold in the cart's currency."


class CartInsufficientStock(ApplicationError):
    code, status, title = "cart_insufficient_stock", 409, "Not enough units of the product are available."


class CartLineLimit(ApplicationError):
    code, status, title = "cart_line_limit", 422, "The cart or line would exceed its limit."


class ShippingAddressRequired(ApplicationError):
    code, status, title = "shipping_address_required", 422, "Set a shipping address before a shipping method."


class ShippingMethodUnavailable(ApplicationError):
    code, status, title = "shipping_method_unavailable", 422, "The shipping method does not serve this cart."


class AddressNotFound(NotFound):
    """An address-book id that is not one of the caller's addresses."""


class CartCompleting(ApplicationError):
    """The cart's completion is placing its order: it cannot change, nor be completed again, until
    that ends (then it is closed with its order, or open again with `last_failure`)."""

    code, status, title = "cart_completing", 409, "The cart is being completed."


class CartIncomplete(ApplicationError):
    """What completion still needs, in `missing`: lines, shipping_address, shipping_method, email."""

    code, status, title = "cart_incomplete", 422, "The cart lacks what an order needs."


class CartLinesUnavailable(ApplicationError):
    code, status, title = "cart_lines_unavailable", 422, "Some lines can no longer be bought."


class CartTotalZero(ApplicationError):
    """Discounts took the whole total: there is no payment to authorize, and orders are placed
    through their payment (a free order is not supported yet)."""

    code, status, title = "cart_total_zero", 422, "The cart costs nothing: there is no payment to make."


class CartOrderFailed(ApplicationError):
    """The order was placed but did not end confirmed (rejected or payment_failed)."""

    code, status, title = "cart_order_failed", 409, "The cart's order could not be confirmed."
