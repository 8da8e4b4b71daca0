"""Typed errors of the catalog; each is an API problem with a stable code."""

from apps.common.http.problems import ApplicationError, Conflict, NotFound


class ProductNotFound(NotFound):
    pass


class ProductExists(ApplicationError):
    code, status, title = "product_exists", 409, "A product with this SKU already exists."


class InvalidProduct(ApplicationError):
    """A service-level validation failure; `extra["errors"]` names the fields."""

    code = "validation_error"


class InsufficientStock(ApplicationError):
    code, status, title = "insufficient_stock", 409, "Not enough available units for this change."


class StockBusy(Conflict):
    """Other adjustments of the same SKU kept winning the race: try again."""


class ReservationMismatch(ApplicationError):
    code, status, title = ("reservation_mismatch", 409,
                           "The order already holds a different quantity of this product.")


class ReservationTransitionNotAllowed(ApplicationError):
    code, status, title = ("reservation_transition_not_allowed", 409,
                           "The reservation's status does not allow this.")
