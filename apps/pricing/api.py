"""The only module other apps may import from apps.pricing: taxes, promotions and vouchers.

Functions take and return primitives or frozen dataclasses, never models or querysets. Checkout
prices carts with `cart_price` (and `voucher_check` before a cart keeps a code); orders freeze
the PricedCart's lines, discount lines and tax lines, take voucher uses at placement
(`voucher_uses_reserve`), confirm them when placed and give them back on failure or
cancellation before shipment (`voucher_use_release`, once however often it is called), and
refund by line with `line_refund`. The catalog checks a product's tax class against
`tax_class_codes`; checkout a customer's VAT number with `tax_id_country` (None: not valid)."""

from __future__ import annotations

from apps.pricing.errors import (
    VoucherCustomerLimit,
    VoucherError,
    VoucherExhausted,
    VoucherExpired,
    VoucherNotApplicable,
    VoucherNotCombinable,
    VoucherNotFound,
    VoucherNotYetValid,
)
from apps.pricing.models import voucher_code_normalize
from apps.pricing.promotions import discounts_compute
from apps.pricing.refunds import line_refund
from apps.pricing.selectors import tax_rate_table, voucher_usage, voucher_uses_of_order
from apps.pricing.tax_ids import tax_id_country
from apps.pricing.taxes import (
    RateTableTaxCalculator,
    TaxCalculator,
    tax_amount,
    tax_calculator,
    tax_calculator_register,
    taxes_compute,
)
from apps.pricing.totals import (
    cart_price,
    cart_totals,
    code_problem_error,
    code_problem_raise,
    price_mode,
    voucher_check,
)
from apps.pricing.types import (
    SHIPPING_KEY,
    STANDARD,
    CodeProblem,
    DiscountLine,
    LineRefund,
    Offer,
    PricedCart,
    PricedLineTotals,
    PricedShipping,
    PriceMode,
    PricingCustomer,
    PricingLine,
    PromotionKind,
    PromotionRule,
    PromotionScope,
    RateTable,
    TaxableLine,
    TaxDestination,
    TaxLine,
    TaxRequest,
    TaxResult,
    VoucherUsage,
    VoucherUseInfo,
    VoucherUseStatus,
)
from apps.pricing.vouchers import voucher_use_confirm, voucher_use_release, voucher_use_reserve, voucher_uses_reserve

__all__ = [
    "SHIPPING_KEY",
    "STANDARD",
    "CodeProblem",
    "DiscountLine",
    "LineRefund",
    "Offer",
    "PriceMode",
    "PricedCart",
    "PricedLineTotals",
    "PricedShipping",
    "PricingCustomer",
    "PricingLine",
    "PromotionKind",
    "PromotionRule",
    "PromotionScope",
    "RateTable",
    "RateTableTaxCalculator",
    "TaxCalculator",
    "TaxDestination",
    "TaxLine",
    "TaxRequest",
    "TaxResult",
    "TaxableLine",
    "VoucherCustomerLimit",
    "VoucherError",
    "VoucherExhausted",
    "VoucherExpired",
    "VoucherNotApplicable",
    "VoucherNotCombinable",
    "VoucherNotFound",
    "VoucherNotYetValid",
    "VoucherUsage",
    "VoucherUseInfo",
    "VoucherUseStatus",
    "cart_price",
    "cart_totals",
    "code_problem_error",
    "code_problem_raise",
    "discounts_compute",
    "line_refund",
    "price_mode",
    "tax_amount",
    "tax_calculator",
    "tax_calculator_register",
    "tax_class_codes",
    "tax_id_country",
    "taxes_compute",
    "voucher_check",
    "voucher_code_normalize",
    "voucher_usage",
    "voucher_use_confirm",
    "voucher_use_release",
    "voucher_use_reserve",
    "voucher_uses_of_order",
    "voucher_uses_reserve",
]


def tax_class_codes() -> frozenset[str]:
    """The codes of the tax classes that exist now (the catalog validates products' classes with them)."""
    return tax_rate_table(destination=None).known
