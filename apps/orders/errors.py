from apps.common.http.problems import ApplicationError


class OrderTransitionNotAllowed(ApplicationError):
    code, status, title = "order_transition_not_allowed", 409, "The order's status does not allow this."


class OrderChanged(ApplicationError):
    """Another action changed (or is changing) the order first: reload and decide again."""

    code, status, title = "order_changed", 409, "The order was changed by another request."


class UnknownProducts(ApplicationError):
    code, status, title = "unknown_products", 422, "Some products are unknown or not for sale."


class MixedCurrencies(ApplicationError):
    code, status, title = "mixed_currencies", 422, "All products of an order must share one currency."


class OutOfStock(ApplicationError):
    code, status, title = "out_of_stock", 409, "Not enough stock for some lines."


class RefundNotAllowed(ApplicationError):
    code, status, title = "refund_not_allowed", 422, "The refund exceeds what can be refunded."


class OrderTotalMismatch(ApplicationError):
    """A cart's snapshot whose total is not subtotal + shipping - discount + tax: the customer
    would be charged something other than what they were shown."""

    code, status, title = "order_total_mismatch", 422, "The cart's total does not add up."


class CartAlreadyOrdered(ApplicationError):
    code, status, title = "cart_already_ordered", 409, "The cart has already been ordered."
