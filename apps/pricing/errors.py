"""The pricing module's typed errors. A voucher code that cannot be used is a 422 with one of
these stable codes; the cart shows the same codes for codes it keeps but cannot apply."""

from apps.common.http.problems import ApplicationError


class VoucherError(ApplicationError):
    """Any reason a voucher code does not apply (see the subclasses' codes)."""


class VoucherNotFound(VoucherError):
    code, status, title = "voucher_not_found", 422, "No active voucher has this code."


class VoucherExpired(VoucherError):
    code, status, title = "voucher_expired", 422, "This voucher's promotion has ended."


class VoucherNotYetValid(VoucherError):
    code, status, title = "voucher_not_yet_valid", 422, "This voucher's promotion has not started yet."


class VoucherExhausted(VoucherError):
    code, status, title = "voucher_exhausted", 422, "This voucher has no uses left."


class VoucherCustomerLimit(VoucherError):
    code, status, title = "voucher_customer_limit", 422, "You have used this voucher as often as it allows."


class VoucherNotApplicable(VoucherError):
    code, status, title = ("voucher_not_applicable", 422,
                           "This voucher does not apply to this cart (minimum subtotal, currency or products).")


class VoucherNotCombinable(VoucherError):
    code, status, title = ("voucher_not_combinable", 422,
                           "This voucher cannot be combined with a better promotion that already applies.")


# problem code -> error class, to raise what a priced cart reports (CodeProblem.problem).
VOUCHER_ERRORS: dict[str, type[VoucherError]] = {
    cls.code: cls
    for cls in (VoucherNotFound, VoucherExpired, VoucherNotYetValid, VoucherExhausted, VoucherCustomerLimit,
                VoucherNotApplicable, VoucherNotCombinable)
}
