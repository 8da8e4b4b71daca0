"""Settings owned by apps.pricing (read from the environment). Star-imported by base.py."""

from config.env import env

# How staff enter prices: True, gross (tax included, as European shops do: tax is taken out of
# the price); False, net (tax added on top, as American shops do).
PRICES_ENTERED_WITH_TAX = env.bool("PRICES_ENTERED_WITH_TAX", default=False)
# The tax calculator by name: "rate_table" (built in: the TaxRate rows staff keep in the admin),
# or one another app registers (apps.pricing.api.tax_calculator_register).
TAX_CALCULATOR = env("TAX_CALCULATOR", default="rate_table")
# The shop's own country (ISO 3166-1 alpha-2): carts without an address are taxed at its rates,
# and a business customer there pays tax (no reverse charge at home). Empty: no tax before an address.
TAX_ORIGIN_COUNTRY = env("TAX_ORIGIN_COUNTRY", default="").upper()
# Intra-EU reverse charge: a business customer with a valid VAT number of the destination
# country (other than TAX_ORIGIN_COUNTRY) is zero-rated.
TAX_REVERSE_CHARGE = env.bool("TAX_REVERSE_CHARGE", default=False)
