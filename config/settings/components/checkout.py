"""Settings owned by apps.checkout (read from the environment). Star-imported by base.py."""

from config.env import env

# An open cart lives this long after its last write (sliding), then the purge task deletes it.
CHECKOUT_CART_TTL_HOURS = env.int("CHECKOUT_CART_TTL_HOURS", default=30 * 24)
# The admin's "abandoned" filter: open carts with lines, untouched this long.
CHECKOUT_CART_ABANDONED_AFTER_HOURS = env.int("CHECKOUT_CART_ABANDONED_AFTER_HOURS", default=24)
# Limits of one cart: distinct SKUs, and units of one SKU.
CHECKOUT_CART_MAX_LINES = env.int("CHECKOUT_CART_MAX_LINES", default=100)
CHECKOUT_LINE_MAX_QUANTITY = env.int("CHECKOUT_LINE_MAX_QUANTITY", default=999)
# Expired carts deleted per purge run (it runs every hour).
CHECKOUT_PURGE_BATCH = env.int("CHECKOUT_PURGE_BATCH", default=1000)

# A cart completing this long (its process died mid-completion) is ended by the recovery task:
# closed with the order it placed, or open again with the reason (apps.checkout.completion).
CHECKOUT_COMPLETION_STUCK_AFTER_SECONDS = env.int("CHECKOUT_COMPLETION_STUCK_AFTER_SECONDS", default=300)

CHECKOUT_BEAT_SCHEDULE: dict = {
    "checkout-carts-purge": {"task": "checkout.carts_purge", "schedule": 3600.0},
    "checkout-carts-completion-recover": {"task": "checkout.carts_completion_recover", "schedule": 60.0},
}
